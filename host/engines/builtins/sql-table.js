// Fusio's built-in `sql-table` action: a REST resource over one table of a
// SQL connection. Without the row's uri fragment it answers the collection
// (GET, with paging, sorting and filtering) and inserts (POST); with it, it
// answers, updates (PUT, PATCH) or deletes (DELETE) that row. The deploy
// read the table's columns (`config.columns`): only those are accepted as
// sort or filter columns and as fields of a row, so a name from a request is
// never spliced into SQL unless it is one of them, and every value is bound.
module.exports = async function (request, context, connector, response) {
  const config = context.config;
  if (!config.columns) {
    throw new Error(`the columns of \`${config.table}\` are unknown: the database could not be read when this revision was loaded`);
  }
  const columns = JSON.parse(config.columns);
  const byName = new Map(columns.map((column) => [column.name, column]));
  const names = columns.map((column) => column.name).join(", ");
  const dialect = config.dialect;
  const quote = (name) => (dialect === "mysql" ? "`" + name.replace(/`/g, "``") + "`" : '"' + name.replace(/"/g, '""') + '"');
  const table = quote(config.table);
  // The columns served (all of the table's unless the config lists some).
  const list = columns.map((column) => quote(column.name)).join(", ");
  const key = byName.get(config.primaryKey);
  const titles = { 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed" };

  class Refused extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }
  const refuse = (detail) => {
    throw new Refused(400, detail);
  };
  const problem = (status, detail, headers) =>
    response.build(status, { "content-type": "application/problem+json", ...headers }, { type: "about:blank", title: titles[status], status, detail, requestId: context.requestId });

  // Bound parameters in the connection's own placeholders; on PostgreSQL a
  // value for a column is cast to the column's type (text from a request
  // would not compare with an integer or fill a timestamp otherwise).
  function statement() {
    const params = [];
    const bind = (value, column) => {
      params.push(value);
      const placeholder = dialect === "postgres" ? `$${params.length}` : "?";
      return dialect === "postgres" && column ? `CAST(${placeholder} AS ${quote(column.udt)})` : placeholder;
    };
    return { params, bind };
  }

  // A value from a request as the column keeps it, or why it is not one.
  function value(column, given, field) {
    if (given === null) return null;
    const refused = (what) => refuse(`${field}: ${JSON.stringify(given)} is not ${what} (the column \`${column.name}\` holds ${what})`);
    switch (column.type) {
      case "integer": {
        const n = typeof given === "number" ? given : typeof given === "string" && given.trim() !== "" ? Number(given) : NaN;
        return Number.isSafeInteger(n) ? n : refused("an integer");
      }
      case "number": {
        const n = typeof given === "number" ? given : typeof given === "string" && given.trim() !== "" ? Number(given) : NaN;
        return Number.isFinite(n) ? n : refused("a number");
      }
      case "boolean":
        if (given === true || given === "true" || given === 1 || given === "1") return true;
        if (given === false || given === "false" || given === 0 || given === "0") return false;
        return refused("true or false");
      case "json":
        return JSON.stringify(given);
      default:
        if (typeof given === "string") return given;
        if (typeof given === "number" || typeof given === "boolean") return String(given);
        return refused("text");
    }
  }

  function column(name, field) {
    const found = byName.get(name);
    return found || refuse(`${field}: \`${name}\` is not a column of \`${config.table}\` (there are: ${names})`);
  }

  function integer(name, fallback, min, max) {
    const given = request.query[name];
    if (given === undefined || given === "") return fallback;
    const n = Number(given);
    if (!Number.isSafeInteger(n) || n < min || n > max) refuse(`${name}: ${JSON.stringify(given)} is not an integer from ${min} to ${max}`);
    return n;
  }

  // The column's text, for a pattern: LIKE with `!` escaping the pattern's
  // own wildcards (a backslash means different things to each database).
  function like(column, pattern, bind) {
    const escaped = pattern.replace(/[!%_]/g, (c) => "!" + c);
    const text = dialect === "postgres" ? `CAST(${quote(column.name)} AS TEXT)` : dialect === "mysql" ? `CAST(${quote(column.name)} AS CHAR)` : quote(column.name);
    const op = dialect === "postgres" ? "ILIKE" : "LIKE";
    return (wrap) => `${text} ${op} ${bind(wrap(escaped))} ESCAPE '!'`;
  }

  async function collection(db) {
    const query = request.query;
    const startIndex = integer("startIndex", 0, 0, Number.MAX_SAFE_INTEGER);
    const count = integer("count", 16, 1, 1024);
    const { params, bind } = statement();
    let where = "";
    if (query.filterBy !== undefined) {
      const filtered = column(query.filterBy, "filterBy");
      const op = query.filterOp === undefined ? "contains" : query.filterOp;
      const given = query.filterValue;
      if (op !== "present" && given === undefined) refuse(`filterValue: \`filterOp=${op}\` needs a value`);
      if (op === "contains") where = like(filtered, given, bind)((p) => `%${p}%`);
      else if (op === "startsWith") where = like(filtered, given, bind)((p) => `${p}%`);
      else if (op === "equals") where = `${quote(filtered.name)} = ${bind(value(filtered, given, "filterValue"), filtered)}`;
      else if (op === "present") where = `${quote(filtered.name)} IS NOT NULL`;
      else refuse(`filterOp: \`${op}\` is none of contains, equals, startsWith, present`);
      where = ` WHERE ${where}`;
    }
    const sorted = query.sortBy === undefined ? key : column(query.sortBy, "sortBy");
    const order = query.sortOrder === undefined ? "ASC" : String(query.sortOrder).toUpperCase();
    if (order !== "ASC" && order !== "DESC") refuse(`sortOrder: \`${query.sortOrder}\` is neither asc nor desc`);
    // The key last, so pages never overlap when the sorted column repeats.
    const then = sorted.name === key.name ? "" : `, ${quote(key.name)} ${order}`;
    const counted = await db.queryOne(`SELECT COUNT(*) AS total FROM ${table}${where}`, params.slice());
    const entry = await db.query(
      `SELECT ${list} FROM ${table}${where} ORDER BY ${quote(sorted.name)} ${order}${then} LIMIT ${bind(count)} OFFSET ${bind(startIndex)}`,
      params
    );
    return response.build(200, {}, { totalResults: Number(counted.total), startIndex, itemsPerPage: count, entry });
  }

  // The row's fields from the body, each a column, each value converted.
  function fields() {
    const body = request.payload;
    if (body === null || typeof body !== "object" || Array.isArray(body) || body instanceof Uint8Array) {
      refuse("the body must be a JSON object of column to value");
    }
    return Object.entries(body).map(([name, given]) => {
      const target = column(name, name);
      return [target, value(target, given, name)];
    });
  }

  async function write(run) {
    try {
      return await run();
    } catch (err) {
      if (err && err.code === "query") refuse(`the database refused the row: ${err.message}`);
      throw err;
    }
  }

  async function one(db, id) {
    const { params, bind } = statement();
    const where = `${quote(key.name)} = ${bind(id, key)}`;
    return db.queryOne(`SELECT ${list} FROM ${table} WHERE ${where}`, params);
  }

  async function insert(db) {
    const given = fields();
    const missing = columns.filter((c) => c.required && !given.some(([target]) => target.name === c.name));
    if (missing.length > 0) refuse(`${missing[0].name}: a value is required`);
    const { params, bind } = statement();
    const targets = given.map(([target]) => quote(target.name)).join(", ");
    const values = given.map(([target, v]) => bind(v, target)).join(", ");
    const sql =
      given.length === 0
        ? dialect === "mysql"
          ? `INSERT INTO ${table} () VALUES () RETURNING ${list}`
          : `INSERT INTO ${table} DEFAULT VALUES RETURNING ${list}`
        : `INSERT INTO ${table} (${targets}) VALUES (${values}) RETURNING ${list}`;
    const row = await write(() => db.queryOne(sql, params));
    return response.build(201, {}, row);
  }

  async function update(db, id) {
    const given = fields().filter(([target, v]) => {
      if (target.name !== key.name) return true;
      if (String(v) !== String(id)) refuse(`${key.name}: the key of a row does not change`);
      return false;
    });
    if (given.length === 0) refuse("the body names no column to change");
    const { params, bind } = statement();
    const set = given.map(([target, v]) => `${quote(target.name)} = ${bind(v, target)}`).join(", ");
    const where = `${quote(key.name)} = ${bind(id, key)}`;
    await write(() => db.execute(`UPDATE ${table} SET ${set} WHERE ${where}`, params));
    const row = await one(db, id);
    return row === null ? problem(404, `no row ${id}`) : response.build(200, {}, row);
  }

  async function remove(db, id) {
    const { params, bind } = statement();
    const changed = await db.execute(`DELETE FROM ${table} WHERE ${quote(key.name)} = ${bind(id, key)}`, params);
    return changed === 0 ? problem(404, `no row ${id}`) : response.build(204, {}, null);
  }

  const method = request.context.method;
  const given = request.uriFragments[config.fragment];
  const db = connector.getConnection(config.connection);
  try {
    if (given === undefined) {
      if (method === "GET" || method === "HEAD") return await collection(db);
      if (method === "POST") return await insert(db);
      return problem(405, `${method} is not served on the collection`, { allow: "GET, HEAD, POST" });
    }
    let id;
    try {
      id = value(key, given, config.fragment);
    } catch (err) {
      if (err instanceof Refused) return problem(404, `no row ${given}`);
      throw err;
    }
    if (method === "GET" || method === "HEAD") {
      const row = await one(db, id);
      return row === null ? problem(404, `no row ${given}`) : response.build(200, {}, row);
    }
    if (method === "PUT" || method === "PATCH") return await update(db, id);
    if (method === "DELETE") return await remove(db, id);
    return problem(405, `${method} is not served on a row`, { allow: "GET, HEAD, PUT, PATCH, DELETE" });
  } catch (err) {
    if (err instanceof Refused) return problem(err.status, err.message);
    throw err;
  }
};
