//! Answers with the verified principal as the guest sees it:
//! `{"principal": null}` without one, else its fields, plus whether it has
//! the scope named by the `scope` query parameter, and whether the raw
//! `Authorization` header reached it. Tests the `auth` import and that the
//! gateway strips the token unless the route forwards it.

use serde_json::json;
use warden_sdk::{Request, Response, auth};

/// Reports `auth::principal()` and, with `?scope=x`, `auth::has_scope("x")`.
fn handle(req: Request) -> Response {
    let principal = auth::principal();
    let scope = req.query_param("scope");
    let has_scope = scope.as_deref().map(auth::has_scope);
    let saw_authorization = req.header("authorization").is_some();
    Response::json(
        200,
        &json!({
            "principal": principal,
            "scope": scope,
            "has_scope": has_scope,
            "saw_authorization": saw_authorization,
        }),
    )
}

warden_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use warden_sdk::Method;

    use super::*;

    #[test]
    fn no_principal_natively() {
        let response = handle(Request::new(Method::Get, "/?scope=read"));
        let json: serde_json::Value = response.body_json().expect("json body");
        assert_eq!(json["principal"], serde_json::Value::Null);
        assert_eq!(json["has_scope"], false);
    }
}
