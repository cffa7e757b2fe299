//! The tenant every plugin call is scoped to.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Longest tenant id, in bytes: a DNS label, so a tenant id can appear in
/// host names, Redis keys and file names without escaping.
pub const MAX_TENANT_LEN: usize = 63;

/// A validated tenant id: 1..=63 characters of `[a-z0-9-]`.
///
/// Backends put the tenant first in every storage key and rely on this
/// alphabet: it has no `{`, `}` or `:`, so no key bytes that follow can
/// change which tenant (or which Redis Cluster slot) a key belongs to.
/// Cloning is cheap (shared string), so tenants can live in map keys.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tenant(Arc<str>);

/// Why a string is not a valid [`Tenant`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    /// The id is empty.
    #[error("tenant id is empty")]
    Empty,
    /// The id is longer than [`MAX_TENANT_LEN`] bytes.
    #[error("tenant id is {len} bytes long, the limit is {MAX_TENANT_LEN}")]
    TooLong {
        /// Length of the rejected id, in bytes.
        len: usize,
    },
    /// The id has a character outside `[a-z0-9-]`.
    #[error("tenant id may only contain a-z, 0-9 and '-'")]
    InvalidChar,
}

impl Tenant {
    /// Validates `id` and wraps it.
    pub fn new(id: &str) -> Result<Self, TenantError> {
        if id.is_empty() {
            return Err(TenantError::Empty);
        }
        if id.len() > MAX_TENANT_LEN {
            return Err(TenantError::TooLong { len: id.len() });
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(TenantError::InvalidChar);
        }
        Ok(Self(Arc::from(id)))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Tenant {
    type Err = TenantError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for Tenant {
    type Error = TenantError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<Tenant> for String {
    fn from(tenant: Tenant) -> Self {
        tenant.0.as_ref().to_owned()
    }
}

impl AsRef<str> for Tenant {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tenant({})", &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_label_alphabet() {
        for ok in ["a", "acme", "acme-2", "0", &"a".repeat(63)] {
            assert_eq!(Tenant::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_everything_else() {
        assert_eq!(Tenant::new(""), Err(TenantError::Empty));
        assert_eq!(
            Tenant::new(&"a".repeat(64)),
            Err(TenantError::TooLong { len: 64 })
        );
        for bad in [
            "Acme", "a b", "a:b", "{a}", "a}", "a*", "a\0", "ä", "a_b", "a.b",
        ] {
            assert_eq!(Tenant::new(bad), Err(TenantError::InvalidChar), "{bad:?}");
        }
    }

    #[test]
    fn deserializing_validates() {
        #[derive(Deserialize)]
        struct Doc {
            tenant: Tenant,
        }
        let doc: Doc = toml::from_str(r#"tenant = "acme""#).unwrap();
        assert_eq!(doc.tenant.as_str(), "acme");
        assert!(toml::from_str::<Doc>(r#"tenant = "{x}""#).is_err());
    }
}
