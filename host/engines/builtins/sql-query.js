// Fusio's built-in `sql-query` action: runs its statement on its SQL
// connection with each named parameter bound (never spliced) from the
// uri fragments, else the query, else the JSON body, converted to the type
// its configuration declares. The deploy turned `{name}` into the
// connection's placeholders and listed the names in order.
module.exports = async function (request, context, connector, response) {
  const config = context.config;
  const names = JSON.parse(config.names);
  const types = JSON.parse(config.types);
  const body = request.payload && typeof request.payload === "object" ? request.payload : {};
  const problem = (detail) =>
    response.build(400, { "content-type": "application/problem+json" }, { type: "about:blank", title: "Bad Request", status: 400, detail, requestId: context.requestId });
  const values = [];
  for (const name of names) {
    let value = request.uriFragments[name];
    if (value === undefined) value = request.query[name];
    if (value === undefined) value = body[name];
    if (value === undefined || value === null) return problem(`the parameter \`${name}\` is missing`);
    const type = types[name] || "string";
    if (type === "integer") {
      const n = typeof value === "number" ? value : Number(value);
      if (!Number.isSafeInteger(n)) return problem(`the parameter \`${name}\` must be an integer`);
      value = n;
    } else if (type === "number") {
      const n = typeof value === "number" ? value : Number(value);
      if (!Number.isFinite(n) || (typeof value === "string" && value.trim() === "")) return problem(`the parameter \`${name}\` must be a number`);
      value = n;
    } else if (type === "boolean") {
      if (value === true || value === "true") value = true;
      else if (value === false || value === "false") value = false;
      else return problem(`the parameter \`${name}\` must be true or false`);
    } else {
      value = typeof value === "string" ? value : JSON.stringify(value);
    }
    values.push(value);
  }
  const db = connector.getConnection(config.connection);
  if (config.mode === "execute") {
    return response.build(200, {}, { affected: await db.execute(config.sql, values) });
  }
  const entry = await db.query(config.sql, values);
  return response.build(200, {}, { totalResults: entry.length, entry });
};
