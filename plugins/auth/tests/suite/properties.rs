//! Property tests of the parsing entry points: random header values, random
//! three-segment tokens and one-character mutations of a valid token (and
//! of a valid DPoP proof) never panic and are always refused.

use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use warden_plugin_auth::{RoutePolicy, token};

use crate::fixtures::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_header_values_never_panic(value in any::<String>()) {
        // The body of fuzz/fuzz_targets/parse_token.rs.
        let token = token::bearer(&value).unwrap_or(&value);
        if let Ok(parsed) = token::parse(token) {
            prop_assert!(token.len() <= token::MAX_AUTHORIZATION_LEN);
            prop_assert_eq!(token.matches('.').count(), 2);
            prop_assert!(token.starts_with(parsed.signing_input));
            let _ = token::Claims::from_payload(parsed.claims);
        }
    }

    #[test]
    fn random_tokens_are_refused(
        header in "[A-Za-z0-9_-]{0,40}",
        payload in "[A-Za-z0-9_-]{0,80}",
        signature in "[A-Za-z0-9_=+/.-]{0,90}",
    ) {
        let t = format!("{header}.{payload}.{signature}");
        prop_assert!(token::parse(&t).is_err());
    }

    #[test]
    fn random_json_segments_are_refused(header in any::<String>(), payload in any::<String>()) {
        let t = format!("{}.{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()), b64(b"sig"));
        // Refused by the parser, or at the latest for its signature.
        let rt = runtime();
        let env = rt.block_on(Env::new());
        let result = rt.block_on(env.verify(&t, &RoutePolicy::default()));
        prop_assert!(result.is_err());
    }
}

#[test]
fn every_one_character_mutation_of_a_valid_token_is_refused() {
    let rt = runtime();
    let env = rt.block_on(Env::new());
    let good = rt.block_on(env.sign(&claims()));
    rt.block_on(env.verify(&good, &RoutePolicy::default()))
        .unwrap();
    let alphabet = b"AQgw_-.=+/";
    let mut runner = proptest::test_runner::TestRunner::default();
    let strategy = (0..good.len(), 0..alphabet.len());
    for _ in 0..300 {
        let (at, with) = strategy.new_tree(&mut runner).unwrap().current();
        let mut bytes = good.clone().into_bytes();
        if bytes[at] == alphabet[with] {
            continue;
        }
        bytes[at] = alphabet[with];
        let mutated = String::from_utf8(bytes).unwrap();
        let result = rt.block_on(env.verify(&mutated, &RoutePolicy::default()));
        assert!(result.is_err(), "mutation at {at} accepted: {mutated}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_dpop_proofs_never_panic_and_are_refused(
        proof in any::<String>(),
        header in any::<String>(),
        payload in any::<String>(),
    ) {
        let rt = runtime();
        let verifier = warden_plugin_auth::service::DpopVerifier::new(
            std::sync::Arc::new(warden_plugin_auth::replay::MemoryReplayStore::default()),
            60,
        );
        let acme = tenant("acme");
        let segments = format!("{}.{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()), b64(b"sig"));
        for candidate in [proof.as_str(), segments.as_str()] {
            let result = rt.block_on(verifier.verify_proof(
                &acme, candidate, "GET", "https://api.test/x", Some("token"), NOW,
            ));
            prop_assert!(result.is_err());
        }
    }
}

#[test]
fn every_one_character_mutation_of_a_valid_dpop_proof_is_refused() {
    let rt = runtime();
    let key = crate::service_fixtures::DpopKey::new(9);
    let url = "https://api.test/x";
    let good = key.proof("GET", url, "m-0", None);
    let verifier = || {
        warden_plugin_auth::service::DpopVerifier::new(
            std::sync::Arc::new(warden_plugin_auth::replay::MemoryReplayStore::default()),
            60,
        )
    };
    let acme = tenant("acme");
    rt.block_on(verifier().verify_proof(&acme, &good, "GET", url, None, NOW))
        .unwrap();
    let alphabet = b"AQgw_-.";
    let mut runner = proptest::test_runner::TestRunner::default();
    let strategy = (0..good.len(), 0..alphabet.len());
    for _ in 0..200 {
        let (at, with) = strategy.new_tree(&mut runner).unwrap().current();
        let mut bytes = good.clone().into_bytes();
        if bytes[at] == alphabet[with] {
            continue;
        }
        bytes[at] = alphabet[with];
        let mutated = String::from_utf8(bytes).unwrap();
        // A fresh replay store each time: refused for the mutation, not as a replay.
        let result = rt.block_on(verifier().verify_proof(&acme, &mutated, "GET", url, None, NOW));
        assert!(result.is_err(), "mutation at {at} accepted: {mutated}");
    }
}
