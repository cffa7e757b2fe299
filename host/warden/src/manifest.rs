//! `warden.toml`: what a tenant deploys.
//!
//! ```toml
//! tenant = "acme"
//! hosts = ["api.acme.example"]          # optional custom hosts
//! tier = "pro"                          # optional contract tier of the node
//! [delegations]                         # optional: names under our hosts another tenant may serve
//! "eu.acme.example" = "acme-eu"
//!
//! [[functions]]
//! name = "hello"
//! component = "../target/guests/wasm32-wasip2/guest/hello.wasm"   # relative to this file
//! routes = ["/hello"]
//! [functions.limits]                    # optional; node defaults otherwise
//! memory_mb = 64
//! cpu_ms = 50
//! timeout_ms = 2000
//! max_body_kb = 256
//! [functions.auth]                      # optional: the function's auth policy
//! scopes = ["hello:read"]
//! [functions.route_auth]                # optional: policies of some paths
//! "GET /hello/public" = { public = true }
//! ```
//!
//! A tenant-level `[auth]` table (issuer, audiences, lifetimes, external
//! issuers) turns auth on for every route that does not say `public = true`.
//!
//! A tenant-level `[model]` table sets the tenant's model aliases (over the
//! node's), A/B variants, cache TTL, semantic cache per alias and warm-up
//! prompts (see `warden_plugin_model::TenantModelConfig`):
//!
//! ```toml
//! [model]
//! cache_ttl_secs = 600
//! [model.aliases]
//! chat = { provider = "local", model = "llama-3.2-3b" }
//! [[model.warm_up]]
//! alias = "chat"
//! prompt = "What are your opening hours?"
//! ```
//!
//! Its shape is checked here; whether the node has the providers it names
//! is checked by the node when the tenant is written.

use crate::registry::{FunctionLimits, validate_host, validate_name, validate_route};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use warden_registry::{
    RoutePolicy, RouteRule, TenantAuthConfig, TenantModelConfig, check_not_reserved,
};

/// A parsed, checked manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The tenant the functions belong to.
    pub tenant: String,
    /// Custom hosts of the tenant.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// The tenant's contract tier (one of the node's `[tiers]`).
    #[serde(default)]
    pub tier: Option<String>,
    /// Token verification for the tenant; with it, every route that does
    /// not say `public = true` needs a valid token.
    #[serde(default)]
    pub auth: Option<TenantAuthConfig>,
    /// Names under the tenant's custom hosts that another tenant may
    /// serve: host -> tenant.
    #[serde(default)]
    pub delegations: BTreeMap<String, String>,
    /// The tenant's model policy: aliases, A/B variants, cache, warm-up.
    #[serde(default)]
    pub model: Option<TenantModelConfig>,
    /// The functions.
    #[serde(default)]
    pub functions: Vec<FunctionSpec>,
    /// Directory of the manifest, against which component paths resolve.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// One function of a manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSpec {
    /// Function name.
    pub name: String,
    /// Path of the component file, relative to the manifest.
    pub component: PathBuf,
    /// Path prefixes served.
    pub routes: Vec<String>,
    /// Optional limits.
    #[serde(default)]
    pub limits: FunctionLimits,
    /// The function's auth policy.
    #[serde(default)]
    pub auth: Option<RoutePolicy>,
    /// Policies of some of its paths, keyed `"/prefix"` or `"METHOD /prefix"`.
    #[serde(default)]
    pub route_auth: BTreeMap<String, RoutePolicy>,
}

impl FunctionSpec {
    /// Each route with who may call it, as the gateway will decide it
    /// (reads and writes of the route's own path), for `warden deploy` to
    /// print so that nobody ships an open route by accident.
    pub fn route_access(&self, tenant_has_auth: bool) -> Vec<(String, String)> {
        let record = warden_registry::FunctionRecord {
            tenant: String::new(),
            name: self.name.clone(),
            routes: self.routes.clone(),
            limits: self.limits,
            auth: self.auth.clone(),
            route_auth: self.route_auth.clone(),
            active: None,
            updated_at: 0,
        };
        let plan = crate::gateway::AuthPlan::new(tenant_has_auth, &record);
        let word = |method: &str, route: &str| match plan.policy(method, route) {
            None => "public (the tenant has no [auth])",
            Some(p) if p.public => "public",
            Some(_) => "token required",
        };
        self.routes
            .iter()
            .map(|route| {
                let (read, write) = (word("GET", route), word("POST", route));
                let access = if read == write {
                    read.to_string()
                } else {
                    format!("GET {read}, POST {write}")
                };
                (route.clone(), access)
            })
            .collect()
    }
}

/// A manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys (message has line and column).
    #[error("{path}: {message}")]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// Parser message, with line and column.
        message: String,
    },
    /// Values are invalid.
    #[error("{path}: {}", problems.join("; "))]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<String>,
    },
}

impl Manifest {
    /// Reads, parses and checks a manifest.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut manifest = Self::parse(&text).map_err(|e| match e {
            ManifestError::Parse { message, .. } => ManifestError::Parse {
                path: path.to_path_buf(),
                message,
            },
            ManifestError::Invalid { problems, .. } => ManifestError::Invalid {
                path: path.to_path_buf(),
                problems,
            },
            other => other,
        })?;
        manifest.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(manifest)
    }

    /// Parses and checks manifest text.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: PathBuf::from("<manifest>"),
            message: describe_toml_error(text, &e),
        })?;
        let problems = manifest.problems();
        if problems.is_empty() {
            Ok(manifest)
        } else {
            Err(ManifestError::Invalid {
                path: PathBuf::from("<manifest>"),
                problems,
            })
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(e) = validate_name("tenant", &self.tenant) {
            problems.push(e);
        }
        for host in self.hosts.iter().chain(self.delegations.keys()) {
            if let Err(e) = validate_host(host) {
                problems.push(e);
            }
        }
        if let Some(auth) = &self.auth
            && let Err(e) = auth.validate()
        {
            problems.extend(e.problems.into_iter().map(|p| format!("[auth]: {p}")));
        }
        if let Some(model) = &self.model {
            let found = model.problems(None);
            problems.extend(found.into_iter().map(|p| format!("[model]: {p}")));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.functions {
            if let Err(e) = validate_name("function", &f.name) {
                problems.push(e);
            }
            if !seen.insert(&f.name) {
                problems.push(format!("function {:?} is listed twice", f.name));
            }
            if f.routes.is_empty() {
                problems.push(format!("function {:?} has no routes", f.name));
            }
            for route in &f.routes {
                if let Err(e) = validate_route(route).and_then(|()| check_not_reserved(route)) {
                    problems.push(format!("function {:?}: {e}", f.name));
                }
            }
            for key in f.route_auth.keys() {
                if let Err(e) = RouteRule::parse(key, &f.routes) {
                    problems.push(format!("function {:?}: {e}", f.name));
                }
            }
        }
        problems
    }

    /// Absolute-or-relative path of a function's component.
    pub fn component_path(&self, function: &FunctionSpec) -> PathBuf {
        self.base_dir.join(&function.component)
    }
}

/// toml's message plus an explicit "line L, column C" derived from the span.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_manifest() {
        let m = Manifest::parse(
            r#"
tenant = "acme"
hosts = ["api.acme.test"]
[[functions]]
name = "hello"
component = "hello.wasm"
routes = ["/hello"]
[functions.limits]
memory_mb = 32
"#,
        )
        .expect("valid");
        assert_eq!(m.functions[0].limits.memory_mb, Some(32));
    }

    #[test]
    fn auth_sections_parse_and_are_checked() {
        let m = Manifest::parse(
            r#"
tenant = "acme"
[auth]
issuer = "https://acme.test/"
audiences = ["acme-api"]
[[functions]]
name = "todos"
component = "todos.wasm"
routes = ["/todos"]
[functions.auth]
scopes = ["todos:write"]
[functions.route_auth]
"GET /todos" = { public = true }
"#,
        )
        .expect("valid");
        let f = &m.functions[0];
        assert_eq!(f.auth.as_ref().expect("auth").scopes, ["todos:write"]);
        assert!(f.route_auth["GET /todos"].public);
        assert_eq!(
            f.route_access(true),
            [(
                "/todos".to_string(),
                "GET public, POST token required".to_string()
            )]
        );
        let err = Manifest::parse(
            r#"
tenant = "acme"
[auth]
leeway_s = 99
[[functions]]
name = "a"
component = "a.wasm"
routes = ["/a", "/.well-known/jwks.json"]
[functions.route_auth]
"/b" = { public = true }
"#,
        )
        .expect_err("invalid");
        let ManifestError::Invalid { problems, .. } = err else {
            panic!("expected Invalid");
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn a_model_section_parses_and_is_checked() {
        let m = Manifest::parse(
            r#"
tenant = "acme"
[model]
cache_ttl_secs = 60
[model.aliases]
chat = { provider = "local", model = "m" }
[[model.warm_up]]
alias = "chat"
prompt = "hello"
"#,
        )
        .expect("valid");
        let model = m.model.expect("model");
        assert_eq!(model.cache_ttl_secs, Some(60));
        assert_eq!(model.warm_up[0].prompt, "hello");
        let err = Manifest::parse(
            "tenant = \"acme\"\n[model.aliases]\nchat = { provider = \"local\" }\n[[model.warm_up]]\nalias = \"chat\"\nprompt = \"\"\n",
        )
        .expect_err("invalid");
        let ManifestError::Invalid { problems, .. } = err else {
            panic!("expected Invalid");
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.starts_with("[model]: ")));
        let err = Manifest::parse("tenant = \"acme\"\n[model]\nttl = 1\n").expect_err("unknown");
        assert!(err.to_string().contains("ttl"), "{err}");
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = Manifest::parse("tenant = \"acme\"\n[[functions]]\nnme = \"x\"\n")
            .expect_err("unknown key");
        let text = err.to_string();
        assert!(text.contains("line 3, column 1"), "{text}");
        assert!(text.contains("nme"), "{text}");
    }

    #[test]
    fn bad_values_are_all_reported() {
        let err = Manifest::parse(
            "tenant = \"Acme\"\n[[functions]]\nname = \"a\"\ncomponent = \"a.wasm\"\nroutes = []\n",
        )
        .expect_err("invalid");
        let ManifestError::Invalid { problems, .. } = err else {
            panic!("expected Invalid");
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
