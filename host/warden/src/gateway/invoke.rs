//! Step: invoke. Runs the selected version in a fresh instance with the
//! route's limits, for the route's tenant and the verified principal.

use super::GatewayError;
use super::body::GatewayBody;
use super::body_cap::CappedBody;
use super::routes::RouteTarget;
use super::version::Selected;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use std::sync::Arc;
use tracing::Instrument as _;
use warden_runtime::{Capabilities, GuestLog, Principal, RequestContext, Runtime};

/// Serves `req` with the guest; its output goes to `log`.
pub async fn invoke(
    runtime: &Runtime,
    caps: &Arc<Capabilities>,
    target: &RouteTarget,
    selected: &Selected,
    principal: Option<Principal>,
    req: Request<CappedBody<Incoming>>,
    log: &GuestLog,
) -> Result<Response<GatewayBody>, GatewayError> {
    let request_id = req
        .headers()
        .get(super::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let ctx = RequestContext {
        tenant: target.tenant.clone(),
        principal,
        caps: caps.clone(),
        function: target.function.clone(),
        request_id,
    };
    let span = tracing::debug_span!("invoke", tenant = %target.tenant, function = %target.function);
    let response = runtime
        .invoke(&selected.prepared, req, &target.limits, ctx, log)
        .instrument(span)
        .await?;
    Ok(response.map(|body| body.boxed_unsync()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::routes::tests::target;
    use crate::server::build_capabilities;

    /// A real runtime and component, invoked through the step as the
    /// pipeline does; the request body arrives through a real connection.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_guest_answers_through_the_step() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = crate::config::HostConfig {
            data_dir: dir.path().to_path_buf(),
            ..Default::default()
        };
        let mut pool = config.pool;
        pool.instances = 4;
        let runtime =
            Arc::new(Runtime::new(&pool, &dir.path().join("artifacts")).expect("runtime"));
        let caps = Arc::new(build_capabilities(&config).await.expect("caps"));
        let bytes = std::fs::read(warden_test_components::WASI_HELLO).expect("component");
        let digest = warden_registry::digest_of(&bytes);
        let prepared = runtime
            .prepare(&digest, move || Ok(bytes))
            .await
            .expect("prepared");
        let target = Arc::new(target(Some(prepared.clone())));
        let selected = Selected { prepared };

        // A hyper server whose one request is handed to the step.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.expect("accept");
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (runtime, caps, selected) = (runtime.clone(), caps.clone(), selected.clone());
                let target = target.clone();
                async move {
                    let (req, _) = crate::gateway::body_cap::cap(req, 1024);
                    let log = GuestLog::new(1024);
                    let response =
                        invoke(&runtime, &caps, &target, &selected, None, req, &log).await;
                    let body = match response {
                        Ok(response) => response.into_body().collect().await.map(|b| b.to_bytes()),
                        Err(e) => panic!("invoke failed: {e}"),
                    };
                    Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                        body.expect("guest body"),
                    )))
                }
            });
            hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await
                .expect("serve");
        });
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(conn);
        let req = Request::builder()
            .uri("/")
            .header("host", "acme.localhost")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .expect("request");
        let response = sender.send_request(req).await.expect("response");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], b"Hello, wasi!\n");
        drop(sender);
        server.await.expect("server");
    }
}
