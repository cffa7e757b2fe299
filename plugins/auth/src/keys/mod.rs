//! Per-tenant signing keys: model, generation, sealing, storage, management.

pub(crate) mod kek;
pub(crate) mod manager;
pub(crate) mod material;
pub(crate) mod model;
mod secret;
pub(crate) mod store;
