//! Small parsers shared by the command-line tools.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use http::header::{HeaderName, HeaderValue};

/// Parses `1.5`, `10s`, `250ms`, `2m`, `100us` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .with_context(|| format!("invalid duration {s:?}"))?;
    let secs = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "m" | "min" => value * 60.0,
        other => bail!("unknown duration unit {other:?} in {s:?} (use s, ms, us or m)"),
    };
    Duration::try_from_secs_f64(secs).with_context(|| format!("invalid duration {s:?}"))
}

/// Parses a `Name: value` header.
pub fn parse_header(s: &str) -> Result<(HeaderName, HeaderValue)> {
    let (name, value) = s
        .split_once(':')
        .with_context(|| format!("header {s:?} must be `Name: value`"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .with_context(|| format!("invalid header name in {s:?}"))?;
    let value = HeaderValue::from_str(value.trim())
        .with_context(|| format!("invalid header value in {s:?}"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").expect("ok"), Duration::from_secs(10));
        assert_eq!(
            parse_duration("1.5").expect("ok"),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("250ms").expect("ok"),
            Duration::from_millis(250)
        );
        assert_eq!(parse_duration("2m").expect("ok"), Duration::from_secs(120));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn headers() {
        let (n, v) = parse_header("Authorization: Bearer x").expect("ok");
        assert_eq!(n, "authorization");
        assert_eq!(v, "Bearer x");
        assert!(parse_header("nocolon").is_err());
    }
}
