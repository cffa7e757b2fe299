//! Every test component is used by at least one integration test: a guest
//! nobody loads is build time for nothing, or a test that was lost.

use warden_test_components as guests;

/// The integration tests' own sources, read at compile time.
const SOURCES: &[&str] = &[
    include_str!("admin.rs"),
    include_str!("capabilities.rs"),
    include_str!("cli.rs"),
    include_str!("distributed.rs"),
    include_str!("examples.rs"),
    include_str!("gateway.rs"),
    include_str!("hardening.rs"),
    include_str!("limits.rs"),
    include_str!("model.rs"),
    include_str!("public_errors.rs"),
    include_str!("registry_feed.rs"),
    include_str!("tiers.rs"),
];

#[test]
fn every_test_component_is_used_by_a_test() {
    let unused: Vec<&str> = guests::ALL
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| {
            let constant = format!("guests::{}", name.replace('-', "_").to_uppercase());
            !SOURCES.iter().any(|source| source.contains(&constant))
        })
        .collect();
    assert!(
        unused.is_empty(),
        "test components no integration test uses: {unused:?}"
    );
}
