//! Warden's admin API as its clients see it: the wire types, the one error
//! body every listener answers with, and [`AdminClient`], the one client
//! (the CLI, the integration tests and the bench all use it, so none of
//! them sends ad-hoc JSON).

#![forbid(unsafe_code)]

mod accounts;
mod client;
mod error_body;
mod wire;

pub use client::{AdminClient, ClientError};
pub use error_body::{ErrorBody, ErrorDetail};
pub use warden_plugin_auth::service::{
    AdminScope, AdminTokenInfo, ClientInfo, ClientKind, GrantType, NewAdminToken, NewClient,
    NewUser, SessionInfo, UserInfo,
};
pub use warden_plugin_auth::{KeyAlg, KeyInfo, KeyState};
pub use warden_registry::{
    FunctionLimits, FunctionRecord, RoutePolicy, TenantAuthConfig, TenantRecord, VersionRecord,
};
pub use wire::{
    Activate, ConfirmTotp, CreatedAdminToken, MintToken, MintedToken, NewKeyRequest, PutFunction,
    PutTenant, RecoveryCodesIssued, RegisteredClient, TotpEnrolled, Uploaded,
};
