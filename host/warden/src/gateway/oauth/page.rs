//! The hosted login page, server-rendered: a user name and password form,
//! then a one-time-code form for users with TOTP; plain HTML forms that
//! work without JavaScript (the page's policy allows none). Every value
//! written into the page is HTML-escaped.

/// Escapes `&`, `<`, `>`, `"` and `'` for text and attribute values.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}\
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}\
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00}";

fn document(title: &str, inner: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>{inner}</body></html>",
        title = escape(title),
    )
}

fn notice(message: Option<&str>) -> String {
    message.map_or_else(String::new, |m| {
        format!("<p class=\"error\" id=\"error\">{}</p>", escape(m))
    })
}

/// The password form for `client` (its display name).
pub fn password_form(client: &str, csrf: &str, message: Option<&str>) -> String {
    let inner = format!(
        "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{notice}\
         <form method=\"post\" action=\"/oauth2/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"username\">User name</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button id=\"submit\" type=\"submit\">Sign in</button></form>",
        client = escape(client),
        csrf = escape(csrf),
        notice = notice(message),
    );
    document("Sign in", &inner)
}

/// The second-factor form (a TOTP code or a recovery code).
pub fn code_form(client: &str, csrf: &str, message: Option<&str>) -> String {
    let inner = format!(
        "<h1>One-time code</h1><p>Enter the code from your authenticator app \
         (or a recovery code) to continue to <strong>{client}</strong>.</p>{notice}\
         <form method=\"post\" action=\"/oauth2/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"code\">Code</label>\
         <input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" inputmode=\"numeric\" required>\
         <button id=\"submit\" type=\"submit\">Verify</button></form>",
        client = escape(client),
        csrf = escape(csrf),
        notice = notice(message),
    );
    document("One-time code", &inner)
}

/// A page that ends the flow without a redirect (unknown client or
/// redirect URI, expired form).
pub fn error_page(message: &str) -> String {
    document(
        "Sign-in error",
        &format!("<h1>Sign-in error</h1>{}", notice(Some(message))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let html = password_form("<script>x</script>", "a\"b", Some("'&"));
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("a&quot;b"));
        assert!(html.contains("&#39;&amp;"));
    }
}
