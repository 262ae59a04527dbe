// The API a script sees, PHP Fusio's JavaScript worker: the script sets
// `module.exports = async function (request, context, connector, response,
// dispatcher, logger) { ... }` and answers with `response.build(status,
// headers, body)`. Evaluated once, before the engine is snapshotted; it gets
// the engine's native functions and answers the function that runs one
// request. Every native call is synchronous (the host suspends the engine
// while it waits); the API wraps them in promises so scripts can `await`
// them as they would in Node.

(function (native) {
  "use strict";

  const RESPONSE = Symbol("fusio.response");

  // Math.random from a generator seeded per request: the snapshot would
  // otherwise give every instance the same sequence.
  Object.defineProperty(Math, "random", {
    value: function random() {
      return native.random();
    },
    writable: true,
    configurable: true,
  });

  function text(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.stack ? `${value}\n${value.stack}` : String(value);
    try {
      const json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch (_) {
      return String(value);
    }
  }

  function fields(values) {
    if (values === undefined || values === null) return [];
    if (typeof values !== "object") throw new TypeError("log fields must be an object");
    return Object.entries(values).map(([key, value]) => [key, text(value)]);
  }

  const logger = Object.freeze({
    debug: (message, values) => native.log("debug", text(message), fields(values)),
    info: (message, values) => native.log("info", text(message), fields(values)),
    notice: (message, values) => native.log("info", text(message), fields(values)),
    warning: (message, values) => native.log("warn", text(message), fields(values)),
    warn: (message, values) => native.log("warn", text(message), fields(values)),
    error: (message, values) => native.log("error", text(message), fields(values)),
  });

  const line = (args) => args.map(text).join(" ");
  globalThis.console = Object.freeze({
    log: (...args) => native.log("info", line(args), []),
    info: (...args) => native.log("info", line(args), []),
    debug: (...args) => native.log("debug", line(args), []),
    warn: (...args) => native.log("warn", line(args), []),
    error: (...args) => native.log("error", line(args), []),
  });

  // A body for the host: text, bytes, or anything else as JSON.
  function encodeBody(body, headers) {
    if (body === undefined || body === null) return { bytes: "", type: null };
    if (typeof body === "string") return { bytes: body, type: "text/plain; charset=utf-8" };
    if (body instanceof Uint8Array) return { bytes: body, type: "application/octet-stream" };
    if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body), type: "application/octet-stream" };
    return { bytes: JSON.stringify(body), type: "application/json" };
  }

  // Headers as the host takes them: an object of name to value, or
  // `[name, value]` pairs (a name may repeat, as Set-Cookie does).
  function headerPairs(headers) {
    if (headers === undefined || headers === null) return [];
    if (Array.isArray(headers)) return headers.map(([name, value]) => [String(name), String(value)]);
    if (typeof headers !== "object") throw new TypeError("headers must be an object of name to value, or [name, value] pairs");
    return Object.entries(headers).map(([name, value]) => [String(name), String(value)]);
  }

  const response = Object.freeze({
    build(status, headers, body) {
      if (!Number.isInteger(status)) throw new TypeError(`status must be an integer, not ${text(status)}`);
      const built = { [RESPONSE]: true, status, headers: headers || {}, body };
      last = built;
      return built;
    },
  });
  let last;

  // Text as JSON when it says so; bytes that are not UTF-8 stay bytes.
  function parseBody(bytes, type) {
    if (bytes.length === 0) return null;
    if (typeof bytes !== "string") return bytes;
    if (/json/i.test(type || "")) {
      try {
        return JSON.parse(bytes);
      } catch (_) {
        return bytes;
      }
    }
    return bytes;
  }

  function sqlApi(handle, prefix) {
    return {
      query: async (statement, params) => JSON.parse(native[`${prefix}Query`](handle, String(statement), params || [])),
      queryOne: async (statement, params) => {
        const rows = JSON.parse(native[`${prefix}Query`](handle, String(statement), params || []));
        return rows.length > 0 ? rows[0] : null;
      },
      execute: async (statement, params) => native[`${prefix}Execute`](handle, String(statement), params || []),
    };
  }

  function openSql(name) {
    const handle = native.sqlOpen(name);
    const sql = sqlApi(handle, "sql");
    sql.beginTransaction = async () => {
      const own = native.sqlBegin(handle);
      return Object.assign(sqlApi(own, "tx"), {
        commit: async () => native.txEnd(own, true),
        rollback: async () => native.txEnd(own, false),
      });
    };
    return Object.freeze(sql);
  }

  function openHttp(name) {
    async function request(method, path, options) {
      const { headers, body } = options || {};
      const encoded = encodeBody(body);
      const pairs = headerPairs(headers);
      if (encoded.type && !pairs.some(([n]) => n.toLowerCase() === "content-type") && body !== undefined && body !== null) {
        pairs.push(["content-type", encoded.type]);
      }
      const answer = native.http(name, String(method).toUpperCase(), String(path), pairs, encoded.bytes);
      const responseHeaders = Object.fromEntries(answer.headers);
      return {
        status: answer.status,
        headers: responseHeaders,
        headerPairs: answer.headers,
        body: answer.body,
        bytes: answer.bytes,
        json() {
          return JSON.parse(answer.body);
        },
      };
    }
    return Object.freeze({
      request: (options) => request(options.method || "GET", options.path || "/", options),
      get: (path, options) => request("GET", path, options),
      post: (path, body, options) => request("POST", path, { ...options, body }),
      put: (path, body, options) => request("PUT", path, { ...options, body }),
      patch: (path, body, options) => request("PATCH", path, { ...options, body }),
      delete: (path, options) => request("DELETE", path, options),
    });
  }

  function openRedis(name) {
    const command = async (name_, ...args) => native.redis(name, String(name_), args);
    return Object.freeze({
      command,
      get: (key) => command("GET", key),
      set: (key, value, ...options) => command("SET", key, value, ...options),
      del: (...keys) => command("DEL", ...keys),
      incr: (key) => command("INCR", key),
      incrBy: (key, delta) => command("INCRBY", key, delta),
      expire: (key, seconds) => command("EXPIRE", key, seconds),
      hGet: (key, field) => command("HGET", key, field),
      hSet: (key, field, value) => command("HSET", key, field, value),
      lPush: (key, ...values) => command("LPUSH", key, ...values),
      rPush: (key, ...values) => command("RPUSH", key, ...values),
      lRange: (key, start, stop) => command("LRANGE", key, start, stop),
    });
  }

  function openAmqp(name) {
    return Object.freeze({
      publish: async (exchange, routingKey, body, contentType) => {
        const encoded = encodeBody(body);
        native.amqp(name, String(exchange), String(routingKey), encoded.bytes, contentType || encoded.type);
      },
      sendToQueue: async (queue, body, contentType) => {
        const encoded = encodeBody(body);
        native.amqp(name, "", String(queue), encoded.bytes, contentType || encoded.type);
      },
    });
  }

  const openers = { sql: openSql, http: openHttp, redis: openRedis, amqp: openAmqp };

  const connector = Object.freeze({
    // The host says the kind of a granted connection; any other name is
    // refused here, as the host would refuse its use.
    getConnection(name) {
      const kind = native.connectionKind(String(name));
      return openers[kind](String(name));
    },
  });

  const cache = Object.freeze({
    get: async (key) => native.cacheGet(String(key)),
    set: async (key, value, ttlMs) => native.cacheSet(String(key), text(value), ttlMs === undefined ? 60000 : ttlMs),
    delete: async (key) => native.cacheDelete(String(key)),
    incr: async (key, delta, ttlMs) =>
      native.cacheIncr(String(key), delta === undefined ? 1 : delta, ttlMs === undefined ? 60000 : ttlMs),
  });
  globalThis.cache = cache;

  const dispatcher = Object.freeze({
    // Runs another deployed action in-process and answers its response.
    call: async (action, request) => {
      const { method, path, query, headers, body, uriFragments } = request || {};
      const encoded = encodeBody(body);
      const pairs = headerPairs(headers);
      if (encoded.type && body !== undefined && body !== null && !pairs.some(([n]) => n.toLowerCase() === "content-type")) {
        pairs.push(["content-type", encoded.type]);
      }
      const answer = native.call(String(action), {
        method: String(method || "GET"),
        path: String(path || "/"),
        uriParams: Object.entries(uriFragments || {}).map(([k, v]) => [k, String(v)]),
        query: Object.entries(query || {}).map(([k, v]) => [k, String(v)]),
        headers: pairs,
        body: encoded.bytes,
      });
      const answerHeaders = Object.fromEntries(answer.headers);
      return {
        status: answer.status,
        headers: answerHeaders,
        body: parseBody(answer.body, answerHeaders["content-type"]),
      };
    },
  });

  function makeRequest(raw) {
    const headers = Object.fromEntries(raw.headers);
    const uriFragments = Object.fromEntries(raw.uriParams);
    const query = Object.fromEntries(raw.query);
    const args = Object.assign({}, query, uriFragments);
    return Object.freeze({
      arguments: args,
      uriFragments,
      query,
      payload: parseBody(raw.body, headers["content-type"]),
      body: raw.body,
      context: Object.freeze({
        method: raw.method,
        path: raw.path,
        headers,
        headerPairs: raw.headers,
        queryPairs: raw.query,
        get ip() {
          return native.clientAddress();
        },
      }),
      get: (name) => (Object.prototype.hasOwnProperty.call(args, name) ? args[name] : undefined),
      getHeader: (name) => headers[String(name).toLowerCase()],
    });
  }

  function makeContext(raw) {
    let config;
    return Object.freeze({
      requestId: raw.requestId,
      route: raw.route,
      version: raw.version,
      app: raw.app,
      user: raw.user,
      scopes: Object.freeze(raw.scopes.slice()),
      get config() {
        if (config === undefined) config = Object.freeze(Object.fromEntries(native.config()));
        return config;
      },
      cache,
    });
  }

  // The answer for the host: status, header pairs and body bytes.
  function answer(value) {
    const built = value && value[RESPONSE] ? value : value === undefined ? last : response.build(200, {}, value);
    if (built === undefined) {
      throw new Error("the action answered nothing; return response.build(status, headers, body)");
    }
    const pairs = headerPairs(built.headers);
    const encoded = encodeBody(built.body);
    if (encoded.type && !pairs.some(([n]) => n.toLowerCase() === "content-type") && built.body !== undefined && built.body !== null) {
      pairs.push(["content-type", encoded.type]);
    }
    return { status: built.status, headers: pairs, body: encoded.bytes };
  }

  return async function run(handler, raw) {
    if (typeof handler !== "function") {
      throw new TypeError("the script must set module.exports to a function (request, context, connector, response, dispatcher, logger)");
    }
    const value = await handler(makeRequest(raw), makeContext(raw.context), connector, response, dispatcher, logger);
    return answer(value);
  };
});
