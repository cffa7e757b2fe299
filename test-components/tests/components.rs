//! Every built component is a component of the expected world shape.

use warden_test_components as tc;
use wasmparser::{Parser, Payload};

/// `\0asm`, then the component encoding's version and layer.
const COMPONENT_HEADER: [u8; 8] = *b"\0asm\x0d\0\x01\0";

/// Top-level import and export names of a component.
fn interface(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.unwrap_or_else(|e| panic!("invalid wasm: {e}")) {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    imports.push(import.expect("import").name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    exports.push(export.expect("export").name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

fn exports_handler(exports: &[String]) -> bool {
    exports
        .iter()
        .any(|e| e.starts_with("wasi:http/incoming-handler@0.2."))
}

#[test]
fn every_component_exists_and_is_a_component() {
    for (name, path) in tc::ALL {
        let bytes = tc::bytes(path);
        assert_eq!(
            bytes.get(..8),
            Some(&COMPONENT_HEADER[..]),
            "{name} at {path}"
        );
    }
    assert!(tc::ALL.len() >= 10, "{:?}", tc::ALL);
}

#[test]
fn core_module_is_not_a_component() {
    assert_eq!(tc::CORE_MODULE.get(4..8), Some(&[1, 0, 0, 0][..]));
    assert!(
        wasmparser::Validator::new()
            .validate_all(tc::CORE_MODULE)
            .is_ok()
    );
}

#[test]
fn function_components_export_the_http_handler_and_stay_in_the_world() {
    for (name, path) in tc::ALL {
        let (imports, exports) = interface(&tc::bytes(path));
        println!("{name}:\n  imports: {imports:?}\n  exports: {exports:?}");
        match *name {
            "other-world" => {
                assert!(!exports_handler(&exports), "{name}: {exports:?}");
                assert!(
                    exports.iter().any(|e| e.starts_with("wasi:cli/run@")),
                    "{exports:?}"
                );
            }
            "sockets" => {
                assert!(exports_handler(&exports), "{name}: {exports:?}");
                assert!(
                    imports.iter().any(|i| i.starts_with("wasi:sockets/")),
                    "{imports:?}"
                );
            }
            _ => {
                assert!(exports_handler(&exports), "{name}: {exports:?}");
                assert!(
                    !imports.iter().any(|i| i.starts_with("wasi:sockets/")),
                    "{name}: {imports:?}"
                );
            }
        }
    }
}

#[test]
fn auth_probe_imports_the_auth_interface() {
    let (imports, _) = interface(&tc::bytes(tc::AUTH_PROBE));
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("warden:platform/auth@")),
        "{imports:?}"
    );
}

#[test]
fn capability_probes_import_their_interfaces() {
    let expected: &[(&str, &[&str])] = &[
        (
            tc::KV_PROBE,
            &["warden:platform/kv@", "warden:platform/cache@"],
        ),
        (
            tc::CACHE_FILL,
            &[
                "warden:platform/cache@",
                "warden:platform/kv@",
                "wasi:clocks/monotonic-clock@",
            ],
        ),
        (tc::SLEEPY, &["wasi:clocks/monotonic-clock@"]),
        (tc::FLAGS_PROBE, &["warden:platform/feature-flags@"]),
        (tc::RL_PROBE, &["warden:platform/rate-limit@"]),
        (
            tc::TODO_API,
            &[
                "warden:platform/kv@",
                "warden:platform/cache@",
                "warden:platform/rate-limit@",
            ],
        ),
    ];
    for (path, interfaces) in expected {
        let (imports, _) = interface(&tc::bytes(path));
        for prefix in *interfaces {
            assert!(
                imports.iter().any(|i| i.starts_with(prefix)),
                "{path} lacks {prefix}: {imports:?}"
            );
        }
    }
}
