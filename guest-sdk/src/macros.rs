//! The macros that export a handler as the component's
//! `wasi:http/incoming-handler`.

/// Exports `handler` (`fn(Request) -> impl IntoResponse`) as the function's
/// HTTP handler.
///
/// The request body is read completely before the handler runs; if that
/// fails (client gone, size limit) the client gets a 400 or 413 error
/// response and the handler is not called.
///
/// Use it once per crate, at the top level. On non-wasm targets it exports
/// nothing, so the crate still builds and tests natively.
///
/// ```no_run
/// fn handle(_req: warden_sdk::Request) -> warden_sdk::Response {
///     warden_sdk::Response::text(200, "ok\n")
/// }
/// warden_sdk::http_handler!(handle);
/// ```
#[macro_export]
macro_rules! http_handler {
    ($handler:expr) => {
        $crate::__export_incoming_handler!(serve, $handler);
    };
}

/// Exports `handler` (`fn(Request, ResponseWriter)`, returning `()` or
/// `Result<(), E: Display>`) as the function's streaming HTTP handler.
///
/// The request body is left unread: take it with
/// [`Request::take_body_reader`](crate::Request::take_body_reader). The
/// response goes out as the handler writes it through
/// [`ResponseWriter::start`](crate::ResponseWriter::start).
///
/// ```no_run
/// use warden_sdk::{Headers, Request, ResponseWriter};
///
/// fn handle(_req: Request, out: ResponseWriter) {
///     let mut body = out.start(200, &Headers::new());
///     for i in 0..3 {
///         // A client that hung up is not an error worth handling here.
///         let _ = body.write(format!("tick {i}\n"));
///     }
/// }
/// warden_sdk::http_streaming_handler!(handle);
/// ```
#[macro_export]
macro_rules! http_streaming_handler {
    ($handler:expr) => {
        $crate::__export_incoming_handler!(serve_streaming, $handler);
    };
}

/// Shared expansion of the handler macros. The `Guest` impl is compiled on
/// every target, so the handler type-checks in native builds; only the wasm
/// export itself is target-gated (its symbol names do not link natively).
#[doc(hidden)]
#[macro_export]
macro_rules! __export_incoming_handler {
    ($serve:ident, $handler:expr) => {
        const _: () = {
            #[allow(dead_code)]
            struct WardenIncomingHandler;

            impl $crate::__private::Guest for WardenIncomingHandler {
                fn handle(
                    request: $crate::__private::WasiIncomingRequest,
                    response_out: $crate::__private::WasiResponseOutparam,
                ) {
                    $crate::__private::$serve(request, response_out, $handler);
                }
            }

            #[cfg(target_arch = "wasm32")]
    $crate::bindings::export!(WardenIncomingHandler with_types_in $crate::bindings);

            // Natively nothing calls the handler; this root keeps test
            // builds free of "never used" warnings for it.
            #[cfg(not(target_arch = "wasm32"))]
            #[allow(dead_code)]
            fn warden_handler_is_used() {
                let _ = <WardenIncomingHandler as $crate::__private::Guest>::handle;
            }
        };
    };
}
