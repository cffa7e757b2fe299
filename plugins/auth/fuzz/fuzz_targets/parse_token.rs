//! Feeds arbitrary bytes to the `Authorization` parsing entry point: the
//! `Bearer` split, the size cap, and the strict JWS parser (segments,
//! base64url, duplicate-free JSON, header rules, claim types). It must
//! never panic, and nothing it accepts may break the rules it promises.

#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_plugin_auth::token::{self, MAX_AUTHORIZATION_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let token = match token::bearer(text) {
        Ok(token) => token,
        Err(_) => text,
    };
    if let Ok(parsed) = token::parse(token) {
        assert!(token.len() <= MAX_AUTHORIZATION_LEN);
        assert_eq!(token.matches('.').count(), 2);
        assert!(token.starts_with(parsed.signing_input));
        let _ = token::Claims::from_payload(parsed.claims);
    }
});
