//! A todo list as a real CRUD API on Warden's capabilities: todos in `kv`,
//! single reads through the `cache`, optimistic concurrency with ETags and
//! compare-and-swap, and per-client write limits with `rate-limit`.
//!
//! Run with: `./scripts/up` from the repo root, then
//!
//! ```text
//! curl -i -X POST http://acme.localhost:8080/todos -d '{"title": "buy milk"}'
//! curl -i http://acme.localhost:8080/todos/1
//! curl -i 'http://acme.localhost:8080/todos?limit=10'
//! curl -i -X PUT http://acme.localhost:8080/todos/1 -H 'if-match: "1"' \
//!   -d '{"title": "buy oat milk", "done": true}'
//! curl -i -X PATCH http://acme.localhost:8080/todos/1 -d '{"done": false}'
//! curl -i -X DELETE http://acme.localhost:8080/todos/1
//! ```
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /todos` `{"title", "done"?}` | 201 + `location`, `etag` and the todo |
//! | `GET /todos?limit=N&cursor=C` | 200 `{"items": [...], "next_cursor": "..." \| null}`, oldest first; `limit` 1..=100, default 20 |
//! | `GET /todos/<id>` | 200 + `etag` (304 on a matching `if-none-match`), 404 |
//! | `PUT /todos/<id>` `{"title", "done"}` | 200 + `etag`; 412 if `if-match` is stale; 404 |
//! | `PATCH /todos/<id>` `{"title"?, "done"?}` | as `PUT`, changing only the fields given |
//! | `DELETE /todos/<id>` | 204; 412 if `if-match` is stale; 404 |
//!
//! Paths are relative to where the function is mounted (`/todos` in
//! `examples/warden.toml`): the gateway says where in
//! `x-warden-route-prefix`, and the router matches the rest, so the code
//! names no mount point.
//!
//! A todo is `{"id", "title", "done", "created_at", "updated_at",
//! "version"}`, plus `"created_by"` (the verified principal's subject) when
//! it was created on a route with gateway auth; its ETag is the version,
//! quoted (`"3"`). Updates without
//! `if-match` still never lose a concurrent update: they compare-and-swap
//! against the version they read and, if it changed, apply themselves to
//! the new one (up to 5 times, then 409).
//!
//! Writes (`POST`, `PUT`, `PATCH`, `DELETE`) are limited per client (the
//! verified principal's subject on routes with gateway auth, else the
//! `x-client-id` header, else `anonymous`) to 20 per second with
//! bursts of 40: beyond that 429 with `retry-after`. If the limiter's
//! backend is down, writes are let through (fail open) and a line is
//! logged. Bodies over 16 KiB are 413, malformed JSON (or unknown fields)
//! 400, a title that is empty or over 200 characters 422, a wrong method
//! 405 and an unknown path 404, all in Warden's error shape
//! `{"error": {"code", "message"}}`.

mod clock;
mod store;
mod todo;

use serde::Serialize;
use serde::de::DeserializeOwned;
use warden_sdk::rate_limit::{self, Quota};
use warden_sdk::{HttpError, Request, Response, Router};

use crate::todo::{IfMatch, NewTodo, PatchTodo, ReplaceTodo, Todo};

/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 16 * 1024;
/// Writes per client.
const WRITE_QUOTA: Quota = Quota::per_second(20).with_burst(40);
/// Longest `x-client-id` accepted, in bytes.
const MAX_CLIENT_ID: usize = 128;
/// Page size of a listing unless `limit` says otherwise, and its cap.
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;
/// Read-change-swap rounds of an update before it gives up with 409.
const CAS_ATTEMPTS: usize = 5;

/// The routes below the mount point: the collection at `/`, a todo at
/// `/<id>`. A non-numeric id is a 404, as is any other path; a wrong
/// method is a 405 listing the right ones.
fn router() -> Router {
    Router::new()
        .get("/", list)
        .post("/", create)
        .get("/:id", read)
        .put("/:id", replace)
        .patch("/:id", patch)
        .delete("/:id", delete)
}

/// Rate limit per client, then the body cap.
fn guard_write(req: &Request) -> Result<(), HttpError> {
    // A verified principal names the client best; else the header.
    let principal = warden_sdk::auth::principal().map(|p| p.subject);
    let client = principal
        .as_deref()
        .or_else(|| req.header("x-client-id"))
        .unwrap_or("anonymous");
    if client.is_empty() || client.len() > MAX_CLIENT_ID {
        return Err(HttpError::bad_request(format!(
            "x-client-id must be 1..={MAX_CLIENT_ID} bytes"
        )));
    }
    match rate_limit::check(&format!("todos:writes:{client}"), &WRITE_QUOTA, 1) {
        Ok(decision) => {
            decision.into_result()?;
        }
        // Availability over strictness: a limiter outage must not stop
        // writes. (A paid quota would fail closed instead.)
        Err(err) if err.is_retryable() => {
            eprintln!("todo-api: rate limiter unavailable, letting the write through: {err}");
        }
        Err(err) => return Err(err.into()),
    }
    if req.body().len() > MAX_BODY_BYTES {
        return Err(HttpError::new(
            413,
            "body_too_large",
            format!(
                "the body is {} bytes; the limit is {MAX_BODY_BYTES}",
                req.body().len()
            ),
        ));
    }
    Ok(())
}

/// The body as JSON (400 `invalid_json` if it is not, or has unknown
/// fields). Its size was checked by [`guard_write`].
fn body<T: DeserializeOwned>(req: &Request) -> Result<T, HttpError> {
    req.json()
}

/// A todo response with its `etag`.
fn todo_response(status: u16, todo: &Todo) -> Response {
    Response::json(status, todo).with_header("etag", todo.etag())
}

/// `POST /`: a new todo, recording who created it when the gateway
/// verified a principal.
fn create(req: Request) -> Result<Response, HttpError> {
    guard_write(&req)?;
    let input: NewTodo = body(&req)?;
    // Validate before taking an id, so bad requests do not burn ids.
    let todo = Todo::create(0, input, clock::now_rfc3339())?;
    let todo = Todo {
        id: store::next_id()?,
        created_by: warden_sdk::auth::principal().map(|p| p.subject),
        ..todo
    };
    store::insert(&todo)?;
    // The collection's own URL plus the id: right wherever it is mounted.
    let location = format!("{}/{}", req.path().trim_end_matches('/'), todo.id);
    Ok(todo_response(201, &todo).with_header("location", location))
}

/// `GET /?cursor=&limit=`.
fn list(req: Request) -> Result<Response, HttpError> {
    let limit = match req.query_param("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<u32>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
            _ => {
                return Err(HttpError::bad_request(format!(
                    "limit must be a number in 1..={MAX_LIMIT}, got {text:?}"
                )));
            }
        },
    };
    let cursor = req.query_param("cursor").filter(|c| !c.is_empty());
    let (items, next_cursor) = store::page(cursor.as_deref(), limit)?;
    Ok(Response::json(200, &Page { items, next_cursor }))
}

/// A page of the listing.
#[derive(Serialize)]
struct Page {
    items: Vec<Todo>,
    next_cursor: Option<String>,
}

/// `GET /<id>`, through the cache.
fn read(req: Request) -> Result<Response, HttpError> {
    let todo = store::get_cached(req.param_as("id")?)?;
    let etag = todo.etag();
    let unchanged = req.header("if-none-match").is_some_and(|tags| {
        tags.split(',')
            .any(|tag| tag.trim() == etag || tag.trim() == "*")
    });
    if unchanged {
        return Ok(Response::new(304).with_header("etag", etag));
    }
    Ok(todo_response(200, &todo))
}

/// `PUT /<id>`: every field.
fn replace(req: Request) -> Result<Response, HttpError> {
    let id = req.param_as("id")?;
    guard_write(&req)?;
    let input: ReplaceTodo = body(&req)?;
    update(&req, id, |todo, now| todo.replaced(input.clone(), now))
}

/// `PATCH /<id>`: the fields given.
fn patch(req: Request) -> Result<Response, HttpError> {
    let id = req.param_as("id")?;
    guard_write(&req)?;
    let input: PatchTodo = body(&req)?;
    update(&req, id, |todo, now| todo.patched(input.clone(), now))
}

/// `PUT` and `PATCH`: read, check `if-match`, apply `change`,
/// compare-and-swap. When another write lands in between, start over on
/// the new version: with `if-match` its check then fails (412), without it
/// the change is applied again, so no update is ever lost.
fn update(
    req: &Request,
    id: u64,
    change: impl Fn(&Todo, String) -> Result<Todo, HttpError>,
) -> Result<Response, HttpError> {
    let if_match = req.header("if-match").map(IfMatch::parse);
    for _ in 0..CAS_ATTEMPTS {
        let (current, bytes) = store::get_fresh(id)?;
        check_precondition(if_match.as_ref(), &current)?;
        let next = change(&current, clock::now_rfc3339())?;
        if store::replace(&bytes, &next)? {
            return Ok(todo_response(200, &next));
        }
    }
    Err(HttpError::new(
        409,
        "conflict",
        format!("todo {id} is being changed by others; try again"),
    ))
}

/// `DELETE /<id>`.
fn delete(req: Request) -> Result<Response, HttpError> {
    let id = req.param_as("id")?;
    guard_write(&req)?;
    if let Some(if_match) = req.header("if-match").map(IfMatch::parse) {
        // kv has no conditional delete: this check and the delete are two
        // steps, so a write landing in between is deleted with the rest.
        let (current, _) = store::get_fresh(id)?;
        check_precondition(Some(&if_match), &current)?;
    }
    if store::remove(id)? {
        Ok(Response::new(204))
    } else {
        Err(HttpError::not_found(format!("todo {id} does not exist")))
    }
}

fn check_precondition(if_match: Option<&IfMatch>, current: &Todo) -> Result<(), HttpError> {
    match if_match {
        Some(if_match) if !if_match.matches(current) => Err(precondition_failed(current.id)),
        _ => Ok(()),
    }
}

fn precondition_failed(id: u64) -> HttpError {
    HttpError::new(
        412,
        "precondition_failed",
        format!("todo {id} has changed since that version; fetch it again"),
    )
}

warden_sdk::http_handler!(|req| router().handle(req));

#[cfg(test)]
mod tests;
