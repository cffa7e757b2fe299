//! Feature flags and variants (`warden:platform/feature-flags`).
//!
//! The tenant defines its flags in Warden (variants with weights, targeting
//! rules on attributes, an on/off switch); a function asks which variant a
//! [`Context`] gets. Rollouts are sticky: the same subject sees the same
//! variant on every node until the weights change. A boolean flag is one
//! whose variants are `"on"` and `"off"`: [`is_enabled`] asks for `"on"`.
//!
//! ```no_run
//! use warden_sdk::flags::{self, Context};
//!
//! let ctx = Context::for_subject("user-42").with_attribute("country", "NL");
//! if flags::is_enabled("new-checkout", &ctx) {
//!     // ...
//! }
//! let theme = flags::evaluate("theme", &ctx).map(|v| v.name);
//! # let _ = theme;
//! ```
//!
//! Unknown and switched-off flags evaluate to `None`. On native targets
//! (unit tests) every flag is unknown unless a test defines it with
//! [`crate::testing::set_flag`].

use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(not(target_arch = "wasm32"))]
use crate::native::flags as sys;
#[cfg(target_arch = "wasm32")]
use wasm as sys;

/// Who is asking: targeting rules match its attributes, and rollouts are
/// sticky per subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    subject: Option<String>,
    attributes: Vec<(String, String)>,
}

impl Context {
    /// A context without subject or attributes: percentage rollouts treat
    /// all such callers alike.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A context for `subject`, a stable key for the user or entity (e.g.
    /// the verified principal's subject).
    pub fn for_subject(subject: impl Into<String>) -> Self {
        Self {
            subject: Some(subject.into()),
            attributes: Vec::new(),
        }
    }

    /// A context for the verified principal of the request: its subject,
    /// plus its tenant as attribute `tenant`. Anonymous without one.
    pub fn for_principal(principal: Option<&crate::auth::Principal>) -> Self {
        match principal {
            Some(p) => Self::for_subject(&p.subject).with_attribute("tenant", &p.tenant),
            None => Self::anonymous(),
        }
    }

    /// Adds attribute `name` = `value` for targeting rules (replacing an
    /// earlier value of `name`).
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.attributes.retain(|(n, _)| *n != name);
        self.attributes.push((name, value.into()));
        self
    }

    /// The subject, if any.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The value of attribute `name`, if set.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All attributes, in the order they were added.
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }
}

/// The variant a flag selected.
///
/// Serializes as `{"name": ..., "value": ...}` (`value` is the payload's
/// JSON text, or null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// The variant's name, e.g. `"on"` or `"blue"`.
    pub name: String,
    /// Its payload as JSON text, if the flag defines one.
    pub value: Option<String>,
}

impl Variant {
    /// A variant without payload. For tests.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: None,
        }
    }

    /// The payload parsed as JSON into `T`: `None` without a payload.
    pub fn value_as<T: DeserializeOwned>(&self) -> Option<Result<T, serde_json::Error>> {
        self.value.as_deref().map(serde_json::from_str)
    }
}

/// The variant of `flag` for `context`; `None` when the flag is unknown or
/// switched off.
pub fn evaluate(flag: &str, context: &Context) -> Option<Variant> {
    sys::evaluate(flag, context)
}

/// Whether `flag` selects the variant named `"on"` for `context`.
pub fn is_enabled(flag: &str, context: &Context) -> bool {
    evaluate(flag, context).is_some_and(|v| v.name == "on")
}

/// The host call.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::{Context, Variant};
    use crate::bindings::warden::platform::feature_flags as wit;

    pub fn evaluate(flag: &str, context: &Context) -> Option<Variant> {
        let context = wit::Context {
            subject: context.subject.clone(),
            attributes: context.attributes.clone(),
        };
        wit::evaluate(flag, &context).map(|v| Variant {
            name: v.name,
            value: v.value,
        })
    }
}

// These run against the native stand-ins.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn context_builder() {
        let ctx = Context::for_subject("u1")
            .with_attribute("country", "NL")
            .with_attribute("plan", "pro")
            .with_attribute("country", "BE");
        assert_eq!(ctx.subject(), Some("u1"));
        assert_eq!(ctx.attribute("country"), Some("BE"));
        assert_eq!(ctx.attributes().len(), 2);
        assert_eq!(Context::for_principal(None), Context::anonymous());
    }

    #[test]
    fn unknown_flags_are_off_and_test_flags_apply() {
        let ctx = Context::anonymous();
        assert_eq!(evaluate("f", &ctx), None);
        assert!(!is_enabled("f", &ctx));
        crate::testing::set_flag("f", Some(Variant::named("on")));
        assert!(is_enabled("f", &ctx));
        let blue = Variant {
            name: "blue".into(),
            value: Some("{\"shade\": 3}".into()),
        };
        crate::testing::set_flag("theme", Some(blue.clone()));
        assert_eq!(evaluate("theme", &ctx), Some(blue.clone()));
        let payload: Option<Result<serde_json::Value, _>> = blue.value_as();
        assert_eq!(
            payload.and_then(Result::ok),
            Some(serde_json::json!({"shade": 3}))
        );
        assert!(!is_enabled("theme", &ctx));
    }
}
