//! Upload validation: a component (not a core module) that targets the
//! `function` world and imports nothing outside it.
//!
//! The allowed imports and required exports are generated at build time from
//! `wit/` (see `build.rs`), so the check follows the world definition.

mod world {
    include!(concat!(env!("OUT_DIR"), "/function_world.rs"));
}

use wasmtime::Engine;
use wasmtime::component::Component;

/// Why an upload was refused. Each maps to a 400 with its own code.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ValidationError {
    /// The bytes are not WebAssembly at all.
    #[error("not a WebAssembly binary (missing the \\0asm magic)")]
    NotWasm,
    /// A core module: Warden runs components only.
    #[error(
        "this is a core WebAssembly module, not a component; build for wasm32-wasip2 or wrap it with `wasm-tools component new`"
    )]
    CoreModule,
    /// The component failed to parse, validate or compile.
    #[error("invalid component: {0}")]
    Invalid(String),
    /// The component imports an interface outside the `function` world.
    #[error("import `{0}` is not part of the warden:platform/function world")]
    ForbiddenImport(String),
    /// Compiling the component took longer than the node allows.
    #[error("the component took longer than {0} ms to compile")]
    CompileTimeout(u64),
    /// The component does not export the HTTP handler.
    #[error(
        "the component does not export `{0}`: it does not target the warden:platform/function world"
    )]
    MissingExport(String),
}

impl ValidationError {
    /// Stable error code for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotWasm => "not_wasm",
            Self::CoreModule => "core_module",
            Self::Invalid(_) => "invalid_component",
            Self::ForbiddenImport(_) => "forbidden_import",
            Self::MissingExport(_) => "missing_export",
            Self::CompileTimeout(_) => "compile_timeout",
        }
    }
}

/// Checks the binary header: wasm magic and the component layer.
pub fn check_encoding(bytes: &[u8]) -> Result<(), ValidationError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(ValidationError::NotWasm);
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(ValidationError::CoreModule);
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(ValidationError::Invalid(
            "unknown WebAssembly binary version or layer".into(),
        ));
    }
    Ok(())
}

/// Checks a compiled component's imports and exports against the world.
pub fn check_world(engine: &Engine, component: &Component) -> Result<(), ValidationError> {
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        if !world::IMPORTS
            .iter()
            .any(|allowed| compatible(name, allowed))
        {
            return Err(ValidationError::ForbiddenImport(name.to_string()));
        }
    }
    let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    for required in world::EXPORTS {
        if !exports.iter().any(|name| compatible(name, required)) {
            return Err(ValidationError::MissingExport(required.to_string()));
        }
    }
    Ok(())
}

/// Whether a component's `name` (e.g. `wasi:http/types@0.2.4`) is satisfied
/// by the world's `allowed` (e.g. `wasi:http/types@0.2.12`): same interface
/// and a semver-compatible version (same major; same minor while major is 0).
fn compatible(name: &str, allowed: &str) -> bool {
    let (name_base, name_version) = split_version(name);
    let (allowed_base, allowed_version) = split_version(allowed);
    if name_base != allowed_base {
        return false;
    }
    match (name_version, allowed_version) {
        (Some(a), Some(b)) => compatible_versions(a, b),
        (None, None) => true,
        _ => false,
    }
}

fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}

fn compatible_versions(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.split(['.', '-', '+']);
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some((major, minor))
    };
    match (parse(a), parse(b)) {
        (Some((0, a_minor)), Some((0, b_minor))) => a_minor == b_minor,
        (Some((a_major, _)), Some((b_major, _))) => a_major == b_major,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_lists_come_from_wit() {
        assert!(
            world::IMPORTS
                .iter()
                .any(|i| i.starts_with("wasi:http/types@0.2"))
        );
        for iface in [
            "auth",
            "cache",
            "rate-limit",
            "kv",
            "feature-flags",
            "model",
        ] {
            let name = format!("warden:platform/{iface}@0.2");
            assert!(
                world::IMPORTS.iter().any(|i| i.starts_with(&name)),
                "{name}"
            );
        }
        // Linked and denied, so that componentize-py components deploy.
        assert!(
            world::IMPORTS
                .iter()
                .any(|i| i.starts_with("wasi:sockets/tcp-create-socket@0.2"))
        );
        assert!(
            world::EXPORTS
                .iter()
                .any(|e| e.starts_with("wasi:http/incoming-handler@0.2"))
        );
    }

    #[test]
    fn versions_match_semver_compatibly() {
        assert!(compatible(
            "wasi:http/types@0.2.4",
            "wasi:http/types@0.2.12"
        ));
        assert!(!compatible(
            "wasi:http/types@0.3.0",
            "wasi:http/types@0.2.12"
        ));
        assert!(!compatible(
            "wasi:sockets/tcp@0.2.0",
            "wasi:http/types@0.2.12"
        ));
        assert!(compatible("a:b/c@1.4.0", "a:b/c@1.0.0"));
        assert!(!compatible("a:b/c@2.0.0", "a:b/c@1.0.0"));
    }

    #[test]
    fn encoding_is_checked() {
        assert_eq!(check_encoding(b"garbage!"), Err(ValidationError::NotWasm));
        let core = [0, b'a', b's', b'm', 1, 0, 0, 0];
        assert_eq!(check_encoding(&core), Err(ValidationError::CoreModule));
        let component = [0, b'a', b's', b'm', 0x0d, 0, 1, 0];
        assert_eq!(check_encoding(&component), Ok(()));
    }
}
