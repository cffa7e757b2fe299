//! Pricing: line totals, discount, tax. Pure functions over a valid cart.

use serde::Serialize;

use crate::cart::Cart;

/// Tax rates by region, in basis points (1/100 of a percent).
const TAX_RATES_BP: &[(&str, i64)] = &[
    ("DE", 1900),
    ("FR", 2000),
    ("GB", 2000),
    ("US-CA", 725),
    ("US-OR", 0),
];

/// The tax rate of `region` in basis points, if Warden's example knows it.
pub fn tax_rate_bp(region: &str) -> Option<i64> {
    TAX_RATES_BP
        .iter()
        .find(|(r, _)| r.eq_ignore_ascii_case(region))
        .map(|&(_, bp)| bp)
}

/// The regions [`tax_rate_bp`] knows, for error messages.
pub fn known_regions() -> Vec<&'static str> {
    TAX_RATES_BP.iter().map(|&(r, _)| r).collect()
}

/// A discount applied to the subtotal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discount {
    /// A share of the subtotal, in basis points.
    Percent(i64),
    /// A fixed amount in cents, for subtotals of at least `min_subtotal`.
    Fixed { cents: i64, min_subtotal: i64 },
}

fn discount_for(code: &str) -> Option<Discount> {
    match code.to_ascii_uppercase().as_str() {
        "WELCOME10" => Some(Discount::Percent(1000)),
        "FLAT5" => Some(Discount::Fixed {
            cents: 500,
            min_subtotal: 2000,
        }),
        _ => None,
    }
}

/// Why a valid-looking cart cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    /// No tax rate for the region.
    UnknownRegion(String),
    /// No such discount code.
    UnknownDiscount(String),
}

/// A priced cart, as returned by `POST /quote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    /// Currency of every amount.
    pub currency: String,
    /// Each line with its total.
    pub lines: Vec<Line>,
    /// Sum of the line totals.
    pub subtotal_cents: i64,
    /// Discount taken off the subtotal.
    pub discount_cents: i64,
    /// Tax rate applied, in basis points.
    pub tax_rate_bp: i64,
    /// Tax on the discounted subtotal, rounded half up to the cent.
    pub tax_cents: i64,
    /// What the customer pays.
    pub total_cents: i64,
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Stock keeping unit.
    pub sku: String,
    /// Units.
    pub quantity: i64,
    /// Unit price in cents.
    pub unit_price_cents: i64,
    /// `quantity * unit_price_cents`.
    pub line_total_cents: i64,
}

/// Prices a cart that passed [`Cart::problems`]. The cart's limits keep
/// every amount far below `i64::MAX` (100 lines x 10^4 units x 10^7 cents).
pub fn price(cart: &Cart) -> Result<Quote, PricingError> {
    let tax_rate_bp = tax_rate_bp(&cart.region)
        .ok_or_else(|| PricingError::UnknownRegion(cart.region.clone()))?;
    let discount = match &cart.discount_code {
        Some(code) => {
            Some(discount_for(code).ok_or_else(|| PricingError::UnknownDiscount(code.clone()))?)
        }
        None => None,
    };
    let lines: Vec<Line> = cart
        .items
        .iter()
        .map(|item| Line {
            sku: item.sku.clone(),
            quantity: item.quantity,
            unit_price_cents: item.unit_price_cents,
            line_total_cents: item.quantity * item.unit_price_cents,
        })
        .collect();
    let subtotal_cents: i64 = lines.iter().map(|l| l.line_total_cents).sum();
    let discount_cents = match discount {
        Some(Discount::Percent(bp)) => share(subtotal_cents, bp),
        Some(Discount::Fixed {
            cents,
            min_subtotal,
        }) if subtotal_cents >= min_subtotal => cents.min(subtotal_cents),
        Some(Discount::Fixed { .. }) | None => 0,
    };
    let taxable = subtotal_cents - discount_cents;
    let tax_cents = share(taxable, tax_rate_bp);
    Ok(Quote {
        currency: cart.currency.clone(),
        lines,
        subtotal_cents,
        discount_cents,
        tax_rate_bp,
        tax_cents,
        total_cents: taxable + tax_cents,
    })
}

/// `amount * bp / 10_000`, rounded half up (amounts are never negative).
fn share(amount: i64, bp: i64) -> i64 {
    (amount * bp + 5_000) / 10_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::Item;

    fn cart(region: &str, discount: Option<&str>, items: &[(i64, i64)]) -> Cart {
        Cart {
            currency: "EUR".into(),
            region: region.into(),
            items: items
                .iter()
                .map(|&(quantity, unit_price_cents)| Item {
                    sku: "sku".into(),
                    quantity,
                    unit_price_cents,
                })
                .collect(),
            discount_code: discount.map(Into::into),
        }
    }

    #[test]
    fn totals_lines_and_adds_tax() {
        let quote = price(&cart("FR", None, &[(2, 1250), (1, 999)])).expect("priced");
        assert_eq!(quote.lines[0].line_total_cents, 2500);
        assert_eq!(quote.subtotal_cents, 3499);
        assert_eq!(quote.tax_cents, 700); // 699.8 rounds up
        assert_eq!(quote.total_cents, 4199);
    }

    #[test]
    fn percent_discount_comes_before_tax() {
        let quote = price(&cart("DE", Some("welcome10"), &[(1, 10_000)])).expect("priced");
        assert_eq!(quote.discount_cents, 1000);
        assert_eq!(quote.tax_cents, 1710);
        assert_eq!(quote.total_cents, 10_710);
    }

    #[test]
    fn fixed_discount_needs_a_minimum_subtotal() {
        let small = price(&cart("US-OR", Some("FLAT5"), &[(1, 1999)])).expect("priced");
        assert_eq!(small.discount_cents, 0);
        let big = price(&cart("US-OR", Some("FLAT5"), &[(1, 2000)])).expect("priced");
        assert_eq!(big.discount_cents, 500);
        assert_eq!(big.total_cents, 1500);
    }

    #[test]
    fn unknown_region_and_code_are_reported() {
        assert_eq!(
            price(&cart("XX", None, &[(1, 1)])),
            Err(PricingError::UnknownRegion("XX".into()))
        );
        assert_eq!(
            price(&cart("FR", Some("FREE"), &[(1, 1)])),
            Err(PricingError::UnknownDiscount("FREE".into()))
        );
    }

    #[test]
    fn largest_cart_does_not_overflow() {
        let items = vec![(crate::cart::MAX_QUANTITY, crate::cart::MAX_UNIT_PRICE_CENTS); 100];
        let quote = price(&cart("FR", None, &items)).expect("priced");
        assert_eq!(quote.subtotal_cents, 10_000_000_000_000);
    }
}
