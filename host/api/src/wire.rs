//! The admin API's request and response bodies. Records (tenants,
//! functions, versions) are the registry's own types, re-exported from the
//! crate root.

use serde::{Deserialize, Serialize};
use warden_registry::{FunctionLimits, VersionRecord};

/// Body of `PUT /v1/tenants/{tenant}`: the whole tenant (PUT replaces).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutTenant {
    /// Custom hosts routed to the tenant besides `<tenant>.<base-domain>`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Contract tier, one of the node's `[tiers]`; the default tier if unset.
    #[serde(default)]
    pub tier: Option<String>,
}

/// Body of `PUT /v1/tenants/{tenant}/functions/{function}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutFunction {
    /// Path prefixes the function serves.
    pub routes: Vec<String>,
    /// Limits; unset fields use the node's defaults.
    #[serde(default)]
    pub limits: FunctionLimits,
}

/// Body of `POST .../activate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activate {
    /// sha256 of an uploaded version.
    pub digest: String,
}

/// Answer to `POST .../versions` (an upload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    /// The version record.
    #[serde(flatten)]
    pub version: VersionRecord,
    /// False when these exact bytes were already uploaded.
    pub created: bool,
}
