//! The admin bearer token: generated on first start, stored in the data dir
//! with mode 0600, compared in constant time.

use anyhow::Context as _;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// File name of the token inside the data dir.
pub const TOKEN_FILE: &str = "admin-token";

/// Reads the token, or creates one. Returns the token and whether it was
/// created now (so the caller prints it exactly once).
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<(String, bool)> {
    let path = data_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => return Ok((token.trim().to_string(), false)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let token = format!("wdn_{}", hex::encode(rand::random::<[u8; 32]>()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(token.as_bytes())?;
    file.sync_all()?;
    Ok((token, true))
}

/// Reads an existing token (for the CLI falling back to the local data dir).
pub fn read(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(data_dir.join(TOKEN_FILE))
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Compares without leaking the position of the first difference.
pub fn matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn token_is_created_once_with_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (t1, created) = load_or_create(dir.path()).expect("create");
        assert!(created);
        let (t2, created) = load_or_create(dir.path()).expect("load");
        assert!(!created);
        assert_eq!(t1, t2);
        let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches(&t1, &t2));
        assert!(!matches(&t1, "wdn_x"));
    }
}
