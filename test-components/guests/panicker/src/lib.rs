//! Fails the way generated code does: `GET /panic` panics with a message
//! naming an internal detail (`PANIC_MESSAGE`), which in wasm prints the
//! message to stderr and traps; the trap's wasm backtrace names this
//! crate's functions (the guest profile keeps the name section). The public
//! error body must carry none of it; the function's log line all of it.

use warden_sdk::{Request, Response};

/// What the panic says; tests look for it in the log line, and make sure
/// it is absent from the public body.
pub const PANIC_MESSAGE: &str = "order 4242 failed: db password hunter2 rejected";

#[inline(never)]
fn charge_card(order: &str) -> Response {
    if order == "4242" {
        panic!("{PANIC_MESSAGE}");
    }
    Response::text(200, "charged\n")
}

fn handle(req: Request) -> Response {
    let order = req.query_param("order").unwrap_or_else(|| "4242".into());
    charge_card(&order)
}

warden_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use super::*;
    use warden_sdk::Method;

    #[test]
    #[should_panic(expected = "order 4242 failed")]
    fn panics_for_the_poisoned_order() {
        let _ = handle(Request::new(Method::Get, "/panic"));
    }

    #[test]
    fn other_orders_are_charged() {
        let response = handle(Request::new(Method::Get, "/panic?order=1"));
        assert_eq!(response.status(), 200);
    }
}
