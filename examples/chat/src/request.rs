//! The chat request: `GET ?q=...` or a JSON body with the conversation.

use serde::Deserialize;
use warden_sdk::model::{self, Role};
use warden_sdk::{HttpError, Method, Request};

/// The alias this function asks for; the tenant's config says which model.
pub const ALIAS: &str = "chat";

/// Most messages one request may carry.
const MAX_MESSAGES: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    messages: Vec<Message>,
    seed: Option<u64>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    role: RoleName,
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RoleName {
    System,
    User,
    Assistant,
}

/// The model request of `req`: `GET /?q=text[&seed=n][&max_tokens=n]`, or a
/// `POST` of `{"messages": [{"role", "content"}], "seed"?, "temperature"?,
/// "max_tokens"?}`.
pub fn parse(req: &mut Request) -> Result<model::Request, HttpError> {
    let base = model::Request::new(ALIAS).system("You are a helpful assistant. Be brief.");
    match req.method() {
        Method::Get => {
            let q = req
                .query_param("q")
                .filter(|q| !q.trim().is_empty())
                .ok_or_else(|| HttpError::bad_request("ask something: ?q=..."))?;
            let mut r = base.user(q);
            r.seed = number(req, "seed")?;
            r.max_tokens = number(req, "max_tokens")?;
            Ok(r)
        }
        Method::Post => {
            req.read_body()?;
            let body: Body = req.json()?;
            if body.messages.is_empty() || body.messages.len() > MAX_MESSAGES {
                return Err(HttpError::bad_request(format!(
                    "send 1 to {MAX_MESSAGES} messages"
                )));
            }
            let mut r = body.messages.into_iter().fold(base, |r, m| {
                let role = match m.role {
                    RoleName::System => Role::System,
                    RoleName::User => Role::User,
                    RoleName::Assistant => Role::Assistant,
                };
                r.message(role, m.content)
            });
            r.seed = body.seed;
            r.temperature = body.temperature;
            r.max_tokens = body.max_tokens;
            Ok(r)
        }
        other => Err(HttpError::method_not_allowed(other, &["GET", "POST"])),
    }
}

fn number<T: std::str::FromStr>(req: &Request, name: &str) -> Result<Option<T>, HttpError> {
    req.query_param(name)
        .map(|v| {
            v.parse()
                .map_err(|_| HttpError::bad_request(format!("{name} must be a number")))
        })
        .transpose()
}
