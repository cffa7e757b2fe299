//! The key-encryption key (KEK): seals each tenant's key set at rest with
//! ChaCha20-Poly1305.
//!
//! The KEK is 32 bytes, written as 64 hex digits, read from
//! `<dir>/auth-kek` (created with mode 0600 on first start; a file readable
//! by group or others is refused) or from an environment variable. The
//! sealed value is `WAK1 || nonce (12) || ciphertext+tag`, with the tenant
//! in the associated data: a sealed set copied to another tenant's key
//! does not open, and neither does one altered by a single bit.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::Aead as _;
use chacha20poly1305::aead::Payload;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit as _, Nonce};
use serde::Deserialize;
use warden_plugin_core::Tenant;
use zeroize::Zeroizing;

use super::material::random_bytes;
use crate::KeyError;

/// Name of the KEK file in its directory.
pub const KEK_FILE: &str = "auth-kek";
const MAGIC: &[u8; 4] = b"WAK1";
const NONCE_LEN: usize = 12;

/// Where the KEK comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum KekSource {
    /// `<dir>/auth-kek`, created (mode 0600) if missing.
    File {
        /// The directory, usually the data dir.
        dir: PathBuf,
    },
    /// An environment variable holding 64 hex digits (for secret managers
    /// that inject env; the variable's name, not its value, is config).
    Env {
        /// The variable's name.
        var: String,
    },
}

/// The loaded KEK. Its `Debug` shows nothing of the key.
pub struct Kek {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek([redacted])")
    }
}

impl Kek {
    /// A KEK from raw bytes (tests, or a host with its own secret store).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(bytes.into()),
        }
    }

    /// Loads (or, for a file, first creates) the KEK.
    pub fn load(source: &KekSource) -> Result<Self, KeyError> {
        let hex_text = match source {
            KekSource::File { dir } => Zeroizing::new(load_or_create(dir)?),
            KekSource::Env { var } => Zeroizing::new(
                std::env::var(var)
                    .map_err(|_| KeyError::Kek(format!("environment variable {var} is not set")))?,
            ),
        };
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_text.trim(), bytes.as_mut_slice())
            .map_err(|_| KeyError::Kek("the KEK must be 64 hex digits".into()))?;
        Ok(Self::from_bytes(&bytes))
    }

    pub(crate) fn seal(&self, tenant: &Tenant, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.seal_aad(&aad(tenant), plaintext)
    }

    /// Seals `plaintext` for `tenant` under a `purpose` (e.g. `totp`), so a
    /// value sealed for one purpose never opens as another (the key set
    /// included).
    pub(crate) fn seal_for(
        &self,
        tenant: &Tenant,
        purpose: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        self.seal_aad(&purpose_aad(tenant, purpose), plaintext)
    }

    /// Opens what [`seal_for`](Self::seal_for) sealed with the same purpose.
    pub(crate) fn open_for(
        &self,
        tenant: &Tenant,
        purpose: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        self.open_aad(&purpose_aad(tenant, purpose), sealed)
    }

    fn seal_aad(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let ciphertext = self
            .cipher
            .encrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| KeyError::Kek("encryption failed".into()))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + ciphertext.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub(crate) fn open(
        &self,
        tenant: &Tenant,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        self.open_aad(&aad(tenant), sealed)
    }

    fn open_aad(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let unreadable = || KeyError::Kek("the stored key set does not open with this KEK".into());
        let rest = sealed
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(unreadable)?;
        if rest.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| unreadable())?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| unreadable())
    }
}

fn aad(tenant: &Tenant) -> Vec<u8> {
    format!("warden-auth-keys-v1|{tenant}").into_bytes()
}

fn purpose_aad(tenant: &Tenant, purpose: &str) -> Vec<u8> {
    format!("warden-auth-{purpose}-v1|{tenant}").into_bytes()
}

/// Reads `<dir>/auth-kek`, creating it with a fresh key if missing.
fn load_or_create(dir: &Path) -> Result<String, KeyError> {
    let path = dir.join(KEK_FILE);
    let io =
        |what: &str, e: std::io::Error| KeyError::Kek(format!("{what} {}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| io("creating the directory of", e))?;
    let fresh = Zeroizing::new(hex::encode(random_bytes::<32>()?));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            file.write_all(fresh.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| io("writing", e))?;
            return Ok(fresh.to_string());
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io("creating", e)),
    }
    let mode = std::fs::metadata(&path)
        .map_err(|e| io("reading", e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(KeyError::Kek(format!(
            "{} is readable by others (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        )));
    }
    std::fs::read_to_string(&path).map_err(|e| io("reading", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_kek_is_created_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let source = KekSource::File {
            dir: dir.path().join("data"),
        };
        let tenant = Tenant::new("acme").unwrap();
        let sealed = Kek::load(&source)
            .unwrap()
            .seal(&tenant, b"secret")
            .unwrap();
        let path = dir.path().join("data").join(KEK_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Kek::load(&source).unwrap();
        assert_eq!(again.open(&tenant, &sealed).unwrap().as_slice(), b"secret");
        assert!(!format!("{again:?}").contains(&std::fs::read_to_string(&path).unwrap()));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(Kek::load(&source), Err(KeyError::Kek(_))));
    }

    #[test]
    fn sealed_sets_are_bound_to_their_tenant_and_untampered() {
        let kek = Kek::from_bytes(&[7; 32]);
        let (a, b) = (Tenant::new("a").unwrap(), Tenant::new("b").unwrap());
        let mut sealed = kek.seal(&a, b"doc").unwrap();
        assert!(kek.open(&b, &sealed).is_err());
        assert!(Kek::from_bytes(&[8; 32]).open(&a, &sealed).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(kek.open(&a, &sealed).is_err());
        assert!(kek.open(&a, b"WAK1").is_err());
    }
}
