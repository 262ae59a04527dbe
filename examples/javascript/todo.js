// PHP Fusio's todo API in JavaScript, on the same table as examples/todo:
// no compiler, no build step; Fusio runs it on the engine it ships.
//   GET  /js/todo?startIndex=0&count=16   the open todos, newest first
//   POST /js/todo {"title": "..."}        a new todo (scope `todo`)
module.exports = async function (request, context, connector, response, dispatcher, logger) {
  const db = connector.getConnection("Default-Connection");

  if (request.context.method === "POST") {
    const title = request.payload && request.payload.title;
    if (typeof title !== "string" || title.trim() === "") {
      return response.build(400, {}, { success: false, message: "`title` must be a non-empty string" });
    }
    const row = await db.queryOne("INSERT INTO app_todo (status, title) VALUES (1, ?) RETURNING id", [title.trim()]);
    logger.info("todo inserted", { id: row.id, user: context.user });
    return response.build(201, {}, { success: true, message: "Insert successful", id: row.id });
  }

  const startIndex = Math.max(0, parseInt(request.get("startIndex") || "0", 10) || 0);
  const count = Math.min(64, Math.max(1, parseInt(request.get("count") || "16", 10) || 16));
  const total = await db.queryOne("SELECT COUNT(*) AS n FROM app_todo WHERE status = 1");
  const entry = await db.query(
    "SELECT id, status, title, insert_date FROM app_todo WHERE status = 1 ORDER BY insert_date DESC, id DESC LIMIT ? OFFSET ?",
    [count, startIndex],
  );
  return response.build(200, {}, { totalResults: total.n, startIndex, itemsPerPage: count, entry });
};
