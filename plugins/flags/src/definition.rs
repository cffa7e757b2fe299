//! What a flag is, as written in config or stored in Redis.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::FlagError;

/// A flag: its variants, targeting rules and rollout weights.
///
/// ```toml
/// enabled = true                                   # default true
/// variants = [{ name = "on", weight = 10 }, { name = "off", weight = 90 }]
/// rules = [{ attribute = "country", values = ["NL"], variant = "on" }]
/// off_variant = "off"                              # served when disabled
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagDefinition {
    /// When false, every evaluation gets `off_variant` (or nothing).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The possible variants; rollout weights are relative to their sum.
    pub variants: Vec<VariantDef>,
    /// Checked in order before the rollout; the first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// Variant served while the flag is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_variant: Option<String>,
}

/// One variant of a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantDef {
    /// Name the guest sees (`on`, `blue`, ...).
    pub name: String,
    /// Optional payload (a colour, a JSON document, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Share of the rollout; 0 = only reachable through rules.
    #[serde(default)]
    pub weight: u32,
}

/// Targeting: subjects whose `attribute` is one of `values` get `variant`.
/// The attribute `subject` matches the context's subject key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Context attribute to test (`subject` for the subject key).
    pub attribute: String,
    /// Values that match.
    pub values: Vec<String>,
    /// Variant served on a match.
    pub variant: String,
}

fn enabled_by_default() -> bool {
    true
}

impl FlagDefinition {
    /// Checks internal consistency, reporting every problem at once.
    pub fn validate(&self) -> Result<(), FlagError> {
        let mut problems = Vec::new();
        let mut names = HashSet::new();
        if self.variants.is_empty() {
            problems.push("no variants".to_owned());
        }
        for variant in &self.variants {
            if variant.name.is_empty() {
                problems.push("a variant has an empty name".to_owned());
            } else if !names.insert(variant.name.as_str()) {
                problems.push(format!("variant {:?} is defined twice", variant.name));
            }
        }
        let total: u64 = self.variants.iter().map(|v| u64::from(v.weight)).sum();
        if total > u64::from(u32::MAX) {
            problems.push("variant weights add up to more than 2^32 - 1".to_owned());
        }
        for rule in &self.rules {
            if !names.contains(rule.variant.as_str()) {
                problems.push(format!("rule names unknown variant {:?}", rule.variant));
            }
        }
        if let Some(off) = &self.off_variant
            && !names.contains(off.as_str())
        {
            problems.push(format!("off_variant {off:?} is not a variant"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(FlagError::InvalidDefinition(problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_reports_every_problem() {
        let definition: FlagDefinition = toml::from_str(
            r#"
            variants = [{ name = "on" }, { name = "on" }, { name = "" }]
            rules = [{ attribute = "x", values = [], variant = "nope" }]
            off_variant = "gone"
            "#,
        )
        .unwrap();
        let Err(FlagError::InvalidDefinition(text)) = definition.validate() else {
            panic!("expected invalid");
        };
        for needle in ["twice", "empty name", "\"nope\"", "\"gone\""] {
            assert!(text.contains(needle), "{text}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let result = toml::from_str::<FlagDefinition>("variants = []\nweights = 5\n");
        assert!(result.is_err());
    }
}
