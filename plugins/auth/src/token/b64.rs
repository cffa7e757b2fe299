//! Strict base64url: the alphabet `A-Z a-z 0-9 - _` only, no padding, no
//! whitespace, canonical trailing bits. One token has one spelling, so a
//! token cannot be re-encoded to dodge the verified-token cache or a replay
//! check, and nothing lenient decodes what the signer did not write.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes one JWS segment; `None` for anything but canonical, unpadded
/// base64url (an empty segment included).
pub(crate) fn decode(segment: &str) -> Option<Vec<u8>> {
    if segment.is_empty()
        || !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    // The engine refuses padding and non-zero trailing bits.
    URL_SAFE_NO_PAD.decode(segment).ok()
}

/// Encodes bytes as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_unpadded_url_safe_decodes() {
        assert_eq!(decode("aGk").unwrap(), b"hi");
        for bad in ["", "aGk=", "aG+k", "aG/k", "aG k", "aGl", "a"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
        assert_eq!(decode(&encode(b"\xfb\xff")).unwrap(), b"\xfb\xff");
    }
}
