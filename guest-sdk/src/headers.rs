//! HTTP header maps for requests and responses.

use crate::bindings::wasi::http::types::Fields;

/// An ordered list of HTTP header fields.
///
/// Names are case-insensitive and stored lowercase, as wasi:http hands them
/// over. Values are bytes, since HTTP allows non-UTF-8 values; [`get`]
/// returns the UTF-8 ones as `&str` because that is what handlers want
/// nearly always.
///
/// [`get`]: Headers::get
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// An empty header list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The first value of `name` if it is valid UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// The first value of `name`, as bytes.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get_all(name).next().is_some()
    }

    /// Sets `name` to `value`, replacing any previous values.
    pub fn insert(&mut self, name: impl AsRef<str>, value: impl Into<Vec<u8>>) {
        let name = name.as_ref();
        self.remove(name);
        self.append(name, value);
    }

    /// Adds a value for `name`, keeping previous ones.
    pub fn append(&mut self, name: impl AsRef<str>, value: impl Into<Vec<u8>>) {
        self.entries
            .push((name.as_ref().to_ascii_lowercase(), value.into()));
    }

    /// Removes every value of `name`.
    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// All fields in order, as (lowercase name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// Number of fields (a name with two values counts twice).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads a wasi:http `fields` resource.
    pub(crate) fn from_fields(fields: &Fields) -> Self {
        let mut headers = Self::new();
        for (name, value) in fields.entries() {
            headers.append(name, value);
        }
        headers
    }

    /// Builds a wasi:http `fields` resource.
    ///
    /// A field the host refuses (invalid syntax, or a forbidden name such as
    /// `connection`) is dropped with a line on stderr rather than failing
    /// the whole response: one bad header should not turn a 200 into a 500.
    pub(crate) fn to_fields(&self) -> Fields {
        let fields = Fields::new();
        for (name, value) in &self.entries {
            if let Err(err) = fields.append(name, value) {
                eprintln!("warden-sdk: dropped response header {name:?}: {err:?}");
            }
        }
        fields
    }
}

impl<N: AsRef<str>, V: Into<Vec<u8>>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut headers = Self::new();
        for (name, value) in iter {
            headers.append(name, value);
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive() {
        let mut headers = Headers::new();
        headers.append("X-Request-Id", "abc");
        headers.append("x-request-id", "def");
        assert_eq!(headers.get("X-REQUEST-ID"), Some("abc"));
        assert_eq!(headers.get_all("x-request-id").count(), 2);
        headers.insert("X-Request-ID", "ghi");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers.iter().next(), Some(("x-request-id", &b"ghi"[..])));
        headers.remove("x-request-id");
        assert!(headers.is_empty());
    }

    #[test]
    fn non_utf8_values_are_bytes_only() {
        let headers: Headers = [("x-bin", vec![0xff, 0xfe])].into_iter().collect();
        assert_eq!(headers.get("x-bin"), None);
        assert_eq!(headers.get_bytes("x-bin"), Some(&[0xff, 0xfe][..]));
    }
}
