//! PHP Fusio's classic todo API on the `Default-Connection`:
//!
//! - `GET /todo?startIndex=0` — the open todos, newest first, 16 a page:
//!   `{"totalResults", "startIndex", "itemsPerPage", "entry": [...]}`
//! - `POST /todo` `{"title": "…"}` — inserts (the title is checked here)
//! - `GET /todo/:id`, `PUT /todo/:id` `{"title": "…"}`, `DELETE /todo/:id`
//!   (a delete sets the status to 0, as PHP Fusio's does)
use fusio_sdk::sql::{self, Sql};
use fusio_sdk::{Error, Request, Response, action};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

/// Todos a page holds.
const PAGE: i64 = 16;
/// The longest title accepted.
const MAX_TITLE: usize = 255;

/// One todo, as the API answers it.
#[derive(Serialize, Deserialize)]
struct Todo {
    id: i64,
    status: i64,
    title: String,
    insert_date: String,
}

/// What `POST` and `PUT` accept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    title: Option<serde_json::Value>,
}

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let db = sql::open("Default-Connection")?;
    match (req.method(), req.uri_param("id")) {
        ("GET", None) => collection(&db, &req),
        ("POST", None) => insert(&db, &req),
        ("GET", Some(id)) => row(&db, todo_id(id)?),
        ("PUT", Some(id)) => update(&db, todo_id(id)?, &req),
        ("DELETE", Some(id)) => delete(&db, todo_id(id)?),
        (method, _) => Err(Error::custom(
            405,
            "Method Not Allowed",
            Some(format!("{method} is not served here")),
        )),
    }
}

fn todo_id(text: &str) -> Result<i64, Error> {
    text.parse()
        .map_err(|_| Error::not_found(format!("no todo `{text}`")))
}

fn collection(db: &Sql, req: &Request) -> Result<Response, Error> {
    let start: i64 = match req.query("startIndex") {
        Some(text) => text
            .parse()
            .ok()
            .filter(|n: &i64| *n >= 0)
            .ok_or_else(|| Error::bad_request("startIndex must be a number from 0"))?,
        None => 0,
    };
    let total: Vec<Count> =
        db.query_as("SELECT COUNT(*) AS n FROM app_todo WHERE status = 1", &[])?;
    // The rows go into the answer as the host wrote them, unparsed.
    let entry = db.query_json_text(
        "SELECT id, status, title, insert_date FROM app_todo WHERE status = 1 \
         ORDER BY insert_date DESC, id DESC LIMIT ? OFFSET ?",
        &[PAGE.into(), start.into()],
    )?;
    let entry = RawValue::from_string(entry)
        .map_err(|e| Error::internal(format!("the rows are not JSON: {e}")))?;
    Response::json(
        200,
        &Page {
            total_results: total.first().map_or(0, |c| c.n),
            start_index: start,
            items_per_page: PAGE,
            entry,
        },
    )
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// A page of the collection, PHP Fusio's shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    total_results: i64,
    start_index: i64,
    items_per_page: i64,
    entry: Box<RawValue>,
}

/// The title of a `POST` or `PUT` body, checked: a string of 1 to 255
/// characters after trimming.
fn title(req: &Request) -> Result<String, Error> {
    let input: Input = req.json()?;
    let title = match input.title {
        Some(serde_json::Value::String(title)) => title.trim().to_owned(),
        Some(_) => return Err(Error::bad_request("title must be a string")),
        None => return Err(Error::bad_request("title is missing")),
    };
    if title.is_empty() {
        return Err(Error::bad_request("title must not be empty"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(Error::bad_request(format!(
            "title must be at most {MAX_TITLE} characters"
        )));
    }
    Ok(title)
}

fn insert(db: &Sql, req: &Request) -> Result<Response, Error> {
    let title = title(req)?;
    let created: Vec<Todo> = db.query_as(
        "INSERT INTO app_todo (status, title) VALUES (1, ?) \
         RETURNING id, status, title, insert_date",
        &[title.into()],
    )?;
    let todo = created
        .into_iter()
        .next()
        .ok_or_else(|| Error::internal("the insert answered no row"))?;
    Ok(Response::json(
        201,
        &json!({ "success": true, "message": "Insert successful", "id": todo.id }),
    )?
    .header("location", format!("/todo/{}", todo.id)))
}

fn find(db: &Sql, id: i64) -> Result<Todo, Error> {
    let found: Vec<Todo> = db.query_as(
        "SELECT id, status, title, insert_date FROM app_todo WHERE id = ? AND status = 1",
        &[id.into()],
    )?;
    found
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found(format!("no todo {id}")))
}

fn row(db: &Sql, id: i64) -> Result<Response, Error> {
    Response::json(200, &find(db, id)?)
}

fn update(db: &Sql, id: i64, req: &Request) -> Result<Response, Error> {
    let title = title(req)?;
    let changed = db.execute(
        "UPDATE app_todo SET title = ? WHERE id = ? AND status = 1",
        &[title.into(), id.into()],
    )?;
    if changed == 0 {
        return Err(Error::not_found(format!("no todo {id}")));
    }
    Response::json(
        200,
        &json!({ "success": true, "message": "Update successful" }),
    )
}

fn delete(db: &Sql, id: i64) -> Result<Response, Error> {
    let changed = db.execute(
        "UPDATE app_todo SET status = 0 WHERE id = ? AND status = 1",
        &[id.into()],
    )?;
    if changed == 0 {
        return Err(Error::not_found(format!("no todo {id}")));
    }
    Response::json(
        200,
        &json!({ "success": true, "message": "Delete successful" }),
    )
}
