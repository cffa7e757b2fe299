//! Request targets: where to connect, which Host header, which path.
//!
//! A target is given as a full URL, `http://bench.localhost:8080/hello`. Its
//! authority becomes the Host header. The TCP connection goes to the URL's
//! own address unless `--connect ADDR` overrides it for every target, so
//! `http://<tenant>.localhost:PORT/hello` can be hit through 127.0.0.1
//! regardless of how the resolver treats `*.localhost`. Without `--connect`,
//! `localhost` and `*.localhost` resolve to 127.0.0.1 (RFC 6761) and any
//! other host goes through the system resolver once, at start-up.

use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};

use anyhow::{Context, Result, bail};
use http::Uri;
use http::header::HeaderValue;

/// One URL to send requests to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Address the TCP connection goes to.
    pub connect: SocketAddr,
    /// Value of the Host header (the URL's authority).
    pub host: HeaderValue,
    /// Path and query sent on the request line.
    pub path: String,
}

/// Parses every URL; `connect` overrides the address of all of them.
pub fn parse_targets(urls: &[String], connect: Option<&str>) -> Result<Vec<Target>> {
    if urls.is_empty() {
        bail!("no target URL given (use --url or --url-file)");
    }
    let connect = connect.map(resolve_connect).transpose()?;
    urls.iter()
        .map(|u| parse_target(u, connect))
        .collect::<Result<Vec<_>>>()
}

/// Reads URLs from a file, one per line; blank lines and `#` comments are
/// skipped.
pub fn read_url_file(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn parse_target(url: &str, connect: Option<SocketAddr>) -> Result<Target> {
    let uri: Uri = url
        .parse()
        .with_context(|| format!("invalid URL {url:?}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => bail!("unsupported scheme {other:?} in {url:?} (only http)"),
        None => bail!("URL {url:?} has no scheme (expected http://host:port/path)"),
    }
    let authority = uri
        .authority()
        .with_context(|| format!("URL {url:?} has no host"))?;
    let host = HeaderValue::from_str(authority.as_str())
        .with_context(|| format!("URL {url:?} has an invalid host"))?;
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let connect = match connect {
        Some(addr) => addr,
        None => resolve_host(authority.host(), authority.port_u16().unwrap_or(80))
            .with_context(|| format!("cannot resolve the host of {url:?}"))?,
    };
    Ok(Target {
        connect,
        host,
        path,
    })
}

/// Resolves a `--connect` value: `IP:PORT` or `HOST:PORT`.
fn resolve_connect(addr: &str) -> Result<SocketAddr> {
    if let Ok(a) = addr.parse() {
        return Ok(a);
    }
    let (host, port) = addr
        .rsplit_once(':')
        .with_context(|| format!("--connect {addr:?} must be HOST:PORT"))?;
    let port = port
        .parse()
        .with_context(|| format!("--connect {addr:?} has an invalid port"))?;
    resolve_host(host, port)
}

fn resolve_host(host: &str, port: u16) -> Result<SocketAddr> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse() {
        return Ok(SocketAddr::new(ip, port));
    }
    let lower = bare.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    (bare, port)
        .to_socket_addrs()?
        .next()
        .with_context(|| format!("{host} resolves to no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_becomes_host_and_connect_overrides_address() {
        let t = parse_targets(
            &["http://acme.localhost:8080/hello?x=1".to_owned()],
            Some("127.0.0.1:9999"),
        )
        .expect("valid");
        assert_eq!(t[0].connect, "127.0.0.1:9999".parse().expect("addr"));
        assert_eq!(t[0].host, "acme.localhost:8080");
        assert_eq!(t[0].path, "/hello?x=1");
    }

    #[test]
    fn dot_localhost_resolves_to_loopback() {
        let t = parse_targets(&["http://a.b.localhost:81".to_owned()], None).expect("valid");
        assert_eq!(t[0].connect, "127.0.0.1:81".parse().expect("addr"));
        assert_eq!(t[0].path, "/");
    }

    #[test]
    fn rejects_https_and_missing_scheme() {
        assert!(parse_targets(&["https://x/".to_owned()], None).is_err());
        assert!(parse_targets(&["127.0.0.1:80/x".to_owned()], None).is_err());
        assert!(parse_targets(&[], None).is_err());
    }

    #[test]
    fn url_file_skips_comments_and_blanks() {
        let urls = read_url_file("# tenants\nhttp://a.localhost:1/\n\n  http://b.localhost:1/  \n");
        assert_eq!(urls, ["http://a.localhost:1/", "http://b.localhost:1/"]);
    }
}
