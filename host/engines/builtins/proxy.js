// Fusio's built-in `proxy` action: forwards the request's method, path,
// query, headers and body to its HTTP connection and answers what the
// upstream answered. The upstream learns who called through the gateway
// from the X-Fusio headers, which only the gateway sets: the same headers
// sent by the client are dropped. The connection's own rules hold (its base
// URL and below only, private addresses refused unless allowed, its
// timeout), and the answer is read whole, up to the connection's limit.
module.exports = async function (request, context, connector, response, dispatcher, logger) {
  const config = context.config;
  // Hop-by-hop headers concern one connection, not the exchange; the
  // length is the transport's.
  const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"]);
  const path = config.path
    ? config.path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name) => encodeURIComponent(request.uriFragments[name] ?? ""))
    : request.context.path;
  const query = request.context.queryPairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
  // Pairs, so a header that comes several times goes on several times.
  const headers = request.context.headerPairs.filter(([name]) => !hopByHop.has(name) && !name.startsWith("x-fusio-"));
  headers.push(["x-fusio-route-id", context.route]);
  if (context.user) headers.push(["x-fusio-user-id", context.user]);
  if (context.app) headers.push(["x-fusio-app-id", context.app]);
  const ip = request.context.ip;
  if (ip) headers.push(["x-fusio-remote-ip", ip]);
  const upstream = connector.getConnection(config.connection);
  let answer;
  try {
    answer = await upstream.request({
      method: request.context.method,
      path: query ? `${path}?${query}` : path,
      headers,
      body: request.body.length > 0 ? request.body : undefined,
    });
  } catch (err) {
    // As a gateway answers: 504 when the upstream took too long, 502 when
    // there is no usable answer; why goes to the action log, not to the
    // client.
    logger.error(`the upstream of \`${config.connection}\` gave no answer: ${err.message}`, { code: err.code });
    const status = err.code === "timeout" ? 504 : 502;
    const title = status === 504 ? "Gateway Timeout" : "Bad Gateway";
    const detail = status === 504 ? "the upstream did not answer in time" : "the upstream gave no usable answer";
    return response.build(status, { "content-type": "application/problem+json" }, { type: "about:blank", title, status, detail, requestId: context.requestId });
  }
  const back = answer.headerPairs.filter(([name]) => !hopByHop.has(name));
  return response.build(answer.status, back, answer.bytes.length > 0 ? answer.bytes : null);
};
