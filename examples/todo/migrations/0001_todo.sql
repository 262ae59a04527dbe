-- The todo list of examples/todo (PHP Fusio's `app_todo`). A deleted entry
-- keeps its row with status 0, as in PHP Fusio.
CREATE TABLE IF NOT EXISTS app_todo (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status INTEGER NOT NULL DEFAULT 1,
    title TEXT NOT NULL,
    insert_date DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS app_todo_status ON app_todo (status, insert_date);
