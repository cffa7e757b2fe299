//! The quote request (a cart) and its validation.

use serde::Deserialize;

/// Most lines a single quote may hold; bigger carts are split by callers.
pub const MAX_ITEMS: usize = 100;
/// Most units of one SKU per line.
pub const MAX_QUANTITY: i64 = 10_000;
/// Highest unit price accepted, in cents (100,000.00).
pub const MAX_UNIT_PRICE_CENTS: i64 = 10_000_000;
/// Longest SKU accepted.
const MAX_SKU_LEN: usize = 64;

/// A cart to price, as posted to `POST /quote`.
///
/// Amounts are integer cents, never floats, so totals are exact. Numbers are
/// signed on purpose: a negative quantity gets a validation message that
/// names the field, not a serde type error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cart {
    /// ISO 4217 code, e.g. `"EUR"`; echoed in the quote.
    pub currency: String,
    /// Tax region, e.g. `"FR"`; see [`crate::pricing::tax_rate_bp`].
    pub region: String,
    /// The lines to price.
    pub items: Vec<Item>,
    /// Optional discount code, e.g. `"WELCOME10"`.
    #[serde(default)]
    pub discount_code: Option<String>,
}

/// One cart line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stock keeping unit.
    pub sku: String,
    /// Units ordered.
    pub quantity: i64,
    /// Price of one unit in cents, before tax.
    pub unit_price_cents: i64,
}

impl Cart {
    /// Every problem with the cart, so the caller can fix them in one go.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let currency_ok =
            self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase());
        if !currency_ok {
            problems.push(format!(
                "currency must be a 3-letter ISO code like \"EUR\", got {:?}",
                self.currency
            ));
        }
        if self.items.is_empty() {
            problems.push("items must not be empty".to_owned());
        }
        if self.items.len() > MAX_ITEMS {
            problems.push(format!(
                "at most {MAX_ITEMS} items per quote, got {}",
                self.items.len()
            ));
        }
        for (i, item) in self.items.iter().enumerate() {
            problems.extend(
                item.problems()
                    .into_iter()
                    .map(|p| format!("items[{i}].{p}")),
            );
        }
        problems
    }
}

impl Item {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.sku.trim().is_empty() || self.sku.len() > MAX_SKU_LEN {
            problems.push(format!("sku must be 1 to {MAX_SKU_LEN} characters"));
        }
        if !(1..=MAX_QUANTITY).contains(&self.quantity) {
            problems.push(format!(
                "quantity must be between 1 and {MAX_QUANTITY}, got {}",
                self.quantity
            ));
        }
        if !(0..=MAX_UNIT_PRICE_CENTS).contains(&self.unit_price_cents) {
            problems.push(format!(
                "unit_price_cents must be between 0 and {MAX_UNIT_PRICE_CENTS}, got {}",
                self.unit_price_cents
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(quantity: i64, unit_price_cents: i64) -> Item {
        Item {
            sku: "book-1".into(),
            quantity,
            unit_price_cents,
        }
    }

    fn cart(items: Vec<Item>) -> Cart {
        Cart {
            currency: "EUR".into(),
            region: "FR".into(),
            items,
            discount_code: None,
        }
    }

    #[test]
    fn a_sane_cart_has_no_problems() {
        assert!(cart(vec![item(2, 1250)]).problems().is_empty());
    }

    #[test]
    fn reports_every_problem_with_its_field() {
        let mut bad = cart(vec![item(-1, 100), item(1, -5)]);
        bad.currency = "euro".into();
        let problems = bad.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("currency"));
        assert!(problems[1].starts_with("items[0].quantity"));
        assert!(problems[2].starts_with("items[1].unit_price_cents"));
    }

    #[test]
    fn limits_cart_size() {
        let big = cart(vec![item(1, 1); MAX_ITEMS + 1]);
        assert_eq!(big.problems().len(), 1);
        assert!(cart(Vec::new()).problems()[0].contains("empty"));
    }
}
