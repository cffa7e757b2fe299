//! JSON objects parsed with duplicate member names refused, at any depth.
//!
//! RFC 7515 section 5.2 lets a parser reject duplicates, and it must here:
//! serde_json keeps the last of two `sub` members, another parser may keep
//! the first, and a token must mean one thing to everyone who reads it.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::Reason;

const DUPLICATE: &str = "duplicate member";

/// Parses `bytes` as one JSON object.
pub(crate) fn object(bytes: &[u8]) -> Result<Map<String, Value>, Reason> {
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err(Reason::BadJson),
        Err(error) if error.to_string().starts_with(DUPLICATE) => Err(Reason::DuplicateMember),
        Err(_) => Err(Reason::BadJson),
    }
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(value)) = seq.next_element()? {
            out.push(value);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let Strict(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert_eq!(object(br#"{"a":1,"b":[1,{"c":2}]}"#).unwrap().len(), 2);
        assert_eq!(object(br#"{"a":1,"a":2}"#), Err(Reason::DuplicateMember));
        assert_eq!(
            object(br#"{"a":{"b":1,"b":1}}"#),
            Err(Reason::DuplicateMember)
        );
        assert_eq!(object(b"[1]"), Err(Reason::BadJson));
        assert_eq!(object(b"{\"a\":1} x"), Err(Reason::BadJson));
        assert_eq!(object(b"{"), Err(Reason::BadJson));
    }
}
