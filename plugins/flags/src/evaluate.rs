//! Evaluation: pure, deterministic, identical on every backend.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::FlagDefinition;

/// Who is asking: the subject key (a user id) and attributes for rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalContext {
    /// Stable key of the subject; rollouts bucket on it. Without one, all
    /// anonymous callers share one bucket (the empty subject).
    pub subject: Option<String>,
    /// Attributes rules can test (`country`, `plan`, ...).
    pub attributes: BTreeMap<String, String>,
}

/// The variant a caller gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Variant name.
    pub name: String,
    /// Its payload, if any.
    pub value: Option<String>,
}

/// The rollout position of `subject` for `flag`: the first 8 bytes of
/// SHA-256(`flag` NUL `subject`), big-endian.
///
/// Stable across processes, machines and releases (unlike std's hasher),
/// independent per flag (a user in the first 10% of one flag is not in the
/// first 10% of every flag), and the NUL keeps ("ab", "c") and ("a", "bc")
/// apart.
pub fn bucket(flag: &str, subject: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(flag.as_bytes())
        .chain_update([0])
        .chain_update(subject.as_bytes())
        .finalize();
    let mut first = [0_u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

impl FlagDefinition {
    /// The variant `context` gets: off variant when disabled, then the first
    /// matching rule, then the weighted rollout.
    pub fn evaluate(&self, flag: &str, context: &EvalContext) -> Option<Variant> {
        let chosen = if !self.enabled {
            self.off_variant.as_deref()?
        } else if let Some(rule) = self.rules.iter().find(|rule| {
            let actual = match rule.attribute.as_str() {
                "subject" => context.subject.as_deref(),
                name => context.attributes.get(name).map(String::as_str),
            };
            actual.is_some_and(|actual| rule.values.iter().any(|v| v == actual))
        }) {
            rule.variant.as_str()
        } else {
            self.rollout(flag, context.subject.as_deref().unwrap_or(""))?
        };
        let variant = self.variants.iter().find(|v| v.name == chosen)?;
        Some(Variant {
            name: variant.name.clone(),
            value: variant.value.clone(),
        })
    }

    /// The variant whose cumulative weight range holds the subject's bucket.
    fn rollout(&self, flag: &str, subject: &str) -> Option<&str> {
        let total: u64 = self.variants.iter().map(|v| u64::from(v.weight)).sum();
        if total == 0 {
            return None;
        }
        let mut point = bucket(flag, subject) % total;
        for variant in &self.variants {
            let weight = u64::from(variant.weight);
            if point < weight {
                return Some(&variant.name);
            }
            point -= weight;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rule, VariantDef};

    fn variant(name: &str, weight: u32) -> VariantDef {
        VariantDef {
            name: name.into(),
            value: None,
            weight,
        }
    }

    fn subject(id: &str) -> EvalContext {
        EvalContext {
            subject: Some(id.into()),
            ..EvalContext::default()
        }
    }

    fn rollout_10_90() -> FlagDefinition {
        FlagDefinition {
            enabled: true,
            variants: vec![variant("on", 10), variant("off", 90)],
            rules: vec![],
            off_variant: None,
        }
    }

    #[test]
    fn bucket_is_pinned() {
        // Changing the hash would move every user between variants: this
        // value must never change.
        assert_eq!(bucket("new-checkout", "user-1"), 0xe6b2_74fb_2bab_d9b2);
    }

    #[test]
    fn rollout_is_deterministic_and_proportional() {
        let flag = rollout_10_90();
        let on = (0..10_000)
            .filter(|i| {
                let ctx = subject(&format!("user-{i}"));
                let first = flag.evaluate("f", &ctx).unwrap();
                assert_eq!(flag.evaluate("f", &ctx).unwrap(), first);
                first.name == "on"
            })
            .count();
        assert!((900..=1100).contains(&on), "{on}");
    }

    #[test]
    fn rules_come_before_the_rollout_and_off_wins() {
        let mut flag = rollout_10_90();
        flag.rules.push(Rule {
            attribute: "country".into(),
            values: vec!["NL".into()],
            variant: "on".into(),
        });
        let mut ctx = subject("anyone");
        ctx.attributes.insert("country".into(), "NL".into());
        for i in 0..50 {
            ctx.subject = Some(format!("u{i}"));
            assert_eq!(flag.evaluate("f", &ctx).unwrap().name, "on");
        }
        flag.enabled = false;
        assert_eq!(flag.evaluate("f", &ctx), None);
        flag.off_variant = Some("off".into());
        assert_eq!(flag.evaluate("f", &ctx).unwrap().name, "off");
    }

    #[test]
    fn zero_weights_give_no_variant() {
        let flag = FlagDefinition {
            enabled: true,
            variants: vec![variant("on", 0)],
            rules: vec![],
            off_variant: None,
        };
        assert_eq!(flag.evaluate("f", &subject("u")), None);
    }
}
