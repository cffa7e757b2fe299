//! Distinct components from one template, for the many-tenants scenario.
//!
//! Each variant must hash differently so that Warden stores and compiles it
//! as its own component. If the template embeds the marker
//! [`MARKER`] followed by eight digits in a data segment (for example a
//! `static` string the guest returns), the digits are replaced by the
//! variant number: the data constant varies, the code does not. Otherwise a
//! custom section carrying the number is appended, which is valid for any
//! component and ignored by the runtime.

/// Marker a template may embed: `WARDEN_BENCH_VARIANT:00000000`.
pub const MARKER: &[u8] = b"WARDEN_BENCH_VARIANT:";

const DIGITS: usize = 8;

/// The component preamble: magic, version 13, layer 1.
const COMPONENT_PREAMBLE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// Variant `n` of `template`.
pub fn variant(template: &[u8], n: u32) -> Vec<u8> {
    let mut out = template.to_vec();
    if let Some(at) = find_marker(template) {
        let digits = format!("{:0width$}", n % 100_000_000, width = DIGITS);
        out[at..at + DIGITS].copy_from_slice(digits.as_bytes());
    } else {
        append_custom_section(&mut out, "warden-bench-variant", n.to_string().as_bytes());
    }
    out
}

/// True if `bytes` starts like a component (not a core module).
pub fn is_component(bytes: &[u8]) -> bool {
    bytes.starts_with(&COMPONENT_PREAMBLE)
}

/// Offset of the marker's digits, if the template has the marker and eight
/// digits after it.
fn find_marker(bytes: &[u8]) -> Option<usize> {
    let start = bytes.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    let digits = bytes.get(start..start + DIGITS)?;
    digits.iter().all(u8::is_ascii_digit).then_some(start)
}

/// Appends a custom section (id 0): size, name (length-prefixed), payload.
fn append_custom_section(out: &mut Vec<u8>, name: &str, payload: &[u8]) {
    let mut content = Vec::new();
    leb128(&mut content, name.len() as u64);
    content.extend_from_slice(name.as_bytes());
    content.extend_from_slice(payload);
    out.push(0);
    leb128(out, content.len() as u64);
    out.extend_from_slice(&content);
}

fn leb128(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_digits_are_replaced_in_place() {
        let mut t = COMPONENT_PREAMBLE.to_vec();
        t.extend_from_slice(b"..WARDEN_BENCH_VARIANT:00000000..");
        let v = variant(&t, 42);
        assert_eq!(v.len(), t.len());
        assert!(v.windows(29).any(|w| w == b"WARDEN_BENCH_VARIANT:00000042"));
        assert_ne!(variant(&t, 1), variant(&t, 2));
    }

    #[test]
    fn custom_section_is_appended_without_a_marker() {
        let t = COMPONENT_PREAMBLE.to_vec();
        let v = variant(&t, 7);
        assert!(is_component(&v));
        // id 0, size 22, name length 20, name, payload "7".
        let mut want = t.clone();
        want.extend_from_slice(&[0, 22, 20]);
        want.extend_from_slice(b"warden-bench-variant7");
        assert_eq!(v, want);
        assert_ne!(variant(&t, 1), variant(&t, 2));
    }

    #[test]
    fn leb128_encodes_multibyte_sizes() {
        let mut out = Vec::new();
        leb128(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }
}
