//! Single requests: readiness probes and cold-path timings.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bytes::Bytes;
use http::Method;
use tokio::runtime::Runtime;

use crate::client::{Answer, Conn, RequestTemplate};
use crate::target::Target;

use super::process::ServerProcess;

/// A plain GET with no body.
pub fn get() -> RequestTemplate {
    RequestTemplate {
        method: Method::GET,
        headers: Vec::new(),
        body: Bytes::new(),
    }
}

/// Sends one request on a new connection; returns the answer and the time
/// from starting to connect to the last body byte.
pub async fn one_request(
    target: &Target,
    template: &RequestTemplate,
    timeout: Duration,
) -> Result<(Answer, Duration)> {
    let start = Instant::now();
    let attempt = async {
        let mut conn = Conn::open(target.connect).await?;
        conn.send(template.build(target)?).await
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(answer)) => Ok((answer, start.elapsed())),
        Ok(Err(kind)) => bail!("request to {:?}{} failed: {kind}", target.host, target.path),
        Err(_) => bail!(
            "request to {:?}{} timed out after {timeout:?}",
            target.host,
            target.path
        ),
    }
}

/// Sends one request and fails unless it is answered with a 2xx status.
pub fn expect_ok(
    rt: &Runtime,
    target: &Target,
    template: &RequestTemplate,
    timeout: Duration,
) -> Result<Duration> {
    let (answer, took) = rt.block_on(one_request(target, template, timeout))?;
    if !(200..300).contains(&answer.status) {
        bail!(
            "{:?}{} answered {}",
            target.host,
            target.path,
            answer.status
        );
    }
    Ok(took)
}

/// Retries a GET until the server answers 2xx, the process dies, or
/// `timeout` passes.
pub fn wait_until_ok(
    rt: &Runtime,
    server: &mut ServerProcess,
    target: &Target,
    timeout: Duration,
) -> Result<()> {
    let start = Instant::now();
    let template = get();
    loop {
        server.check_alive()?;
        let last = match rt.block_on(one_request(target, &template, Duration::from_secs(5))) {
            Ok((a, _)) if (200..300).contains(&a.status) => return Ok(()),
            Ok((a, _)) => format!("status {}", a.status),
            Err(e) => e.to_string(),
        };
        if start.elapsed() > timeout {
            bail!(
                "{} did not answer {:?}{} with 2xx within {timeout:?} (last: {last}); see {}",
                server.name(),
                target.host,
                target.path,
                server.log().display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
