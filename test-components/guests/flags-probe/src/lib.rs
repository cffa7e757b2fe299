//! Evaluates one feature flag: `GET /flag?name=F&subject=S[&attr=value...]`
//! answers 200 `{"variant": null | {"name": "...", "value": "<JSON text>" | null}}`.
//! Every query parameter other than `name` and `subject` becomes a context
//! attribute for targeting rules; without `subject` the context is
//! anonymous.

use serde_json::json;
use warden_sdk::flags::{self, Context};
use warden_sdk::{HttpError, Method, Request, Response};

fn handle(req: Request) -> Result<Response, HttpError> {
    match (req.path().trim_end_matches('/'), req.method()) {
        ("/flag", Method::Get) => {
            let name = req
                .query_param("name")
                .ok_or_else(|| HttpError::bad_request("query parameter `name` is required"))?;
            let mut context = match req.query_param("subject") {
                Some(subject) => Context::for_subject(subject),
                None => Context::anonymous(),
            };
            for (key, value) in req.query_pairs() {
                if key != "name" && key != "subject" {
                    context = context.with_attribute(key, value);
                }
            }
            let variant = flags::evaluate(&name, &context);
            Ok(Response::json(200, &json!({ "variant": variant })))
        }
        ("/flag", other) => Err(HttpError::method_not_allowed(other, &["GET"])),
        (path, _) => Err(HttpError::not_found(format!("no route for {path}"))),
    }
}

warden_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use warden_sdk::flags::Variant;

    use super::*;

    fn variant(uri: &str) -> serde_json::Value {
        let response = handle(Request::new(Method::Get, uri)).expect("200");
        let body: serde_json::Value = response.body_json().expect("json body");
        body["variant"].clone()
    }

    #[test]
    fn reports_the_variant() {
        assert_eq!(variant("/flag?name=f&subject=u1"), serde_json::Value::Null);
        warden_sdk::testing::set_flag("f", Some(Variant::named("on")));
        assert_eq!(
            variant("/flag?name=f&subject=u1&country=NL"),
            json!({"name": "on", "value": null})
        );
    }
}
