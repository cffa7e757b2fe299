//! A Redis URL that keeps its password out of logs.

use std::fmt;

use serde::Deserialize;

/// What stands in for a password (or for a URL that cannot be parsed) when
/// a [`RedisUrl`] is printed.
const MASK: &str = "***";

/// A `redis://`, `rediss://` or `redis+unix://` URL, as an operator writes
/// it in config (`url = "redis://:secret@host:6379/0"`).
///
/// Such URLs often carry a password, and configs get printed: in `Debug`
/// output of a config struct, in start-up logs, in error messages. This
/// type is the one place that knows how to print one safely: `Debug` and
/// `Display` show the URL with the password (and a `pass` / `password`
/// query parameter) replaced by `***`, so a config holding a `RedisUrl` can
/// simply derive `Debug`. Only [`expose`](Self::expose) hands out the real
/// text, for the Redis client.
///
/// Deserializes from a plain string, so the config format stays
/// `url = "redis://..."`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// Wraps `url` as written; it is parsed only when connecting.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its password: for the Redis client only, never for a
    /// log line or an error message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL as it may be printed: the password, if any, masked.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl From<String> for RedisUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl From<&str> for RedisUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({:?})", self.redacted())
    }
}

/// Masks the userinfo's password (all of a userinfo without `:`, since some
/// clients read a lone userinfo as the password) and the values of `pass`
/// and `password` query parameters. Text without `scheme://` is masked
/// whole: there is no telling where a secret would be in it.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return MASK.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut out = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _password)) => out.push_str(&format!("{user}:{MASK}")),
                None => out.push_str(MASK),
            }
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    out.push_str(&redact_query(tail));
    out
}

/// `tail` (path, query, fragment) with the values of `pass` and `password`
/// query parameters masked.
fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_param(name) => format!("{name}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect();
    let mut out = format!("{path}?{}", pairs.join("&"));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

fn is_secret_param(name: &str) -> bool {
    name.eq_ignore_ascii_case("pass") || name.eq_ignore_ascii_case("password")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_password() {
        let cases = [
            (
                "redis://user:s3cret@host:6379/0",
                "redis://user:***@host:6379/0",
            ),
            ("rediss://:s3cret@host", "rediss://:***@host"),
            ("redis://s3cret@host/", "redis://***@host/"),
            ("redis://h:6379/", "redis://h:6379/"),
            (
                "redis+unix:///tmp/r.sock?db=1&pass=s3cret",
                "redis+unix:///tmp/r.sock?db=1&pass=***",
            ),
            (
                "redis://a:b@c@host/?password=s3cret#x",
                "redis://a:***@host/?password=***#x",
            ),
            ("not a url with s3cret", "***"),
        ];
        for (url, shown) in cases {
            let url = RedisUrl::from(url);
            assert_eq!(url.to_string(), shown);
            assert_eq!(format!("{url:?}"), format!("RedisUrl({shown:?})"));
            assert!(!format!("{url} {url:?}").contains("s3cret"), "{shown}");
        }
        // The client still gets the real thing.
        assert_eq!(
            RedisUrl::new("redis://:s3cret@h/").expose(),
            "redis://:s3cret@h/"
        );
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        #[derive(Debug, Deserialize)]
        struct Doc {
            url: RedisUrl,
        }
        let doc: Doc = toml::from_str(r#"url = "redis://:pw@h/""#).unwrap();
        assert_eq!(doc.url.expose(), "redis://:pw@h/");
        assert!(!format!("{doc:?}").contains("pw@"));
    }
}
