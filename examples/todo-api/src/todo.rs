//! The todo resource, the request bodies that change it, and their
//! validation. Pure: no capability calls.

use serde::{Deserialize, Serialize};
use warden_sdk::HttpError;

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// A todo as stored in kv and returned to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// Assigned on creation from the `todo:seq` counter.
    pub id: u64,
    /// 1..=200 characters, trimmed.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; equals `created_at` until the first update.
    pub updated_at: String,
    /// Starts at 1, +1 per update; the ETag is this number, quoted.
    pub version: u64,
    /// Subject of the verified principal that created it; absent (and not
    /// serialized) when the request had none, as on routes without gateway
    /// auth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl Todo {
    /// A new todo, version 1, without a creator (see [`Todo::created_by`]).
    pub fn create(id: u64, input: NewTodo, now: String) -> Result<Self, HttpError> {
        Ok(Self {
            id,
            title: valid_title(&input.title)?,
            done: input.done.unwrap_or(false),
            created_at: now.clone(),
            updated_at: now,
            version: 1,
            created_by: None,
        })
    }

    /// The next version after a full replacement.
    pub fn replaced(&self, input: ReplaceTodo, now: String) -> Result<Self, HttpError> {
        Ok(Self {
            title: valid_title(&input.title)?,
            done: input.done,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// The next version after a partial update.
    pub fn patched(&self, input: PatchTodo, now: String) -> Result<Self, HttpError> {
        Ok(Self {
            title: match input.title {
                Some(title) => valid_title(&title)?,
                None => self.title.clone(),
            },
            done: input.done.unwrap_or(self.done),
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// The strong entity tag of this version: `"<version>"`.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Body of `POST /todos`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTodo {
    title: String,
    done: Option<bool>,
}

/// Body of `PUT /todos/<id>`: every field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceTodo {
    title: String,
    done: bool,
}

/// Body of `PATCH /todos/<id>`: any fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTodo {
    title: Option<String>,
    done: Option<bool>,
}

/// The trimmed title, or 422 if it is empty or too long.
fn valid_title(title: &str) -> Result<String, HttpError> {
    let title = title.trim();
    let chars = title.chars().count();
    if chars == 0 {
        return Err(validation("title must not be empty"));
    }
    if chars > MAX_TITLE_CHARS {
        return Err(validation(format!(
            "title is {chars} characters long; the limit is {MAX_TITLE_CHARS}"
        )));
    }
    Ok(title.to_owned())
}

fn validation(message: impl Into<String>) -> HttpError {
    HttpError::new(422, "validation_failed", message)
}

/// A parsed `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// One of these versions.
    Versions(Vec<u64>),
}

impl IfMatch {
    /// Parses `"3"`, `"3", "4"` or `*`. Weak tags (`W/"3"`) never match, as
    /// RFC 9110 requires for `If-Match`; tags that are not our version
    /// numbers match nothing either.
    pub fn parse(header: &str) -> Self {
        if header.trim() == "*" {
            return IfMatch::Any;
        }
        let versions = header
            .split(',')
            .filter_map(|tag| {
                let tag = tag.trim();
                tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
            })
            .collect();
        IfMatch::Versions(versions)
    }

    /// Whether `todo` satisfies the precondition.
    pub fn matches(&self, todo: &Todo) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(versions) => versions.contains(&todo.version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(title: &str) -> NewTodo {
        NewTodo {
            title: title.into(),
            done: None,
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        let todo = Todo::create(1, new("  milk "), "t0".into()).expect("valid");
        assert_eq!(
            (todo.title.as_str(), todo.done, todo.version),
            ("milk", false, 1)
        );
        let status = |title: &str| {
            Todo::create(1, new(title), "t0".into())
                .err()
                .map(|e| e.status())
        };
        assert_eq!(status("   "), Some(422));
        assert_eq!(status(&"é".repeat(200)), None);
        assert_eq!(status(&"é".repeat(201)), Some(422));
    }

    #[test]
    fn updates_bump_the_version() {
        let todo = Todo::create(7, new("a"), "t0".into()).expect("valid");
        let patch = PatchTodo {
            title: None,
            done: Some(true),
        };
        let patched = todo.patched(patch, "t1".into()).expect("valid");
        assert_eq!((patched.title.as_str(), patched.done), ("a", true));
        assert_eq!((patched.version, patched.etag()), (2, "\"2\"".to_owned()));
        assert_eq!(
            (patched.created_at.as_str(), patched.updated_at.as_str()),
            ("t0", "t1")
        );
        let replace = ReplaceTodo {
            title: "b".into(),
            done: false,
        };
        let replaced = patched.replaced(replace, "t2".into()).expect("valid");
        assert_eq!(
            (replaced.id, replaced.version, replaced.done),
            (7, 3, false)
        );
    }

    #[test]
    fn if_match_parsing() {
        let todo = Todo::create(1, new("a"), "t".into()).expect("valid");
        assert!(IfMatch::parse("*").matches(&todo));
        assert!(IfMatch::parse("\"1\"").matches(&todo));
        assert!(IfMatch::parse("\"5\", \"1\"").matches(&todo));
        assert!(!IfMatch::parse("\"2\"").matches(&todo));
        assert!(!IfMatch::parse("W/\"1\"").matches(&todo));
        assert!(!IfMatch::parse("1").matches(&todo));
    }
}
