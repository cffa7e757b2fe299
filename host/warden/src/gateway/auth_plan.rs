//! Which auth policy covers a request of a function: built once per route
//! table from the function's `[functions.auth]` and `[functions.route_auth]`
//! and its tenant's `[auth]`, then read on every request without copying.
//!
//! The most specific rule wins: the longest `route_auth` prefix that covers
//! the path, a rule with a method before one without at the same prefix;
//! then the function's own policy; then, for a tenant with `[auth]`, "a
//! valid token" (public is never the default there). A tenant without
//! `[auth]` whose function says nothing keeps its routes open and its
//! requests untouched (the token, if any, reaches the guest as sent).

use warden_registry::{FunctionRecord, RoutePolicy, RouteRule};

/// The auth policies of one function.
#[derive(Debug, Clone, Default)]
pub struct AuthPlan {
    /// Most specific first.
    rules: Vec<(RouteRule, RoutePolicy)>,
    /// The function's own policy, or the tenant default.
    fallback: Option<RoutePolicy>,
}

impl AuthPlan {
    /// The plan of `function` of a tenant that has (or has not) `[auth]`.
    /// Rule keys were checked when the function was written; one that no
    /// longer parses is left out (and logged), never turned into "public".
    pub fn new(tenant_has_auth: bool, function: &FunctionRecord) -> Self {
        let mut rules: Vec<(RouteRule, RoutePolicy)> = function
            .route_auth
            .iter()
            .filter_map(|(key, policy)| match RouteRule::parse(key, &function.routes) {
                Ok(rule) => Some((rule, policy.clone())),
                Err(error) => {
                    tracing::error!(tenant = %function.tenant, function = %function.name, %error, "route_auth rule ignored");
                    None
                }
            })
            .collect();
        rules.sort_by(|(a, _), (b, _)| {
            b.prefix
                .len()
                .cmp(&a.prefix.len())
                .then_with(|| b.method.is_some().cmp(&a.method.is_some()))
        });
        let fallback = function
            .auth
            .clone()
            .or_else(|| tenant_has_auth.then(RoutePolicy::default));
        Self { rules, fallback }
    }

    /// The policy for a request, `None` when the gateway leaves it alone.
    /// A function with rules but no policy of its own, in a tenant without
    /// `[auth]`, still needs a token on paths no rule covers: a rule is a
    /// statement that the function is protected, so nothing falls open.
    pub fn policy(&self, method: &str, path: &str) -> Option<&RoutePolicy> {
        if let Some((_, policy)) = self
            .rules
            .iter()
            .find(|(rule, _)| rule.matches(method, path))
        {
            return Some(policy);
        }
        self.fallback.as_ref().or(if self.rules.is_empty() {
            None
        } else {
            Some(&PROTECTED)
        })
    }

    /// Whether any request to the function goes through auth.
    pub fn is_enforced(&self) -> bool {
        self.fallback.is_some() || !self.rules.is_empty()
    }
}

/// "A valid token, nothing more": the policy of paths that are protected
/// without saying how.
static PROTECTED: RoutePolicy = RoutePolicy {
    public: false,
    scopes: Vec::new(),
    single_use: false,
    step_up: None,
    expose_claims: Vec::new(),
    forward_token: false,
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn function(auth: Option<RoutePolicy>, rules: &[(&str, RoutePolicy)]) -> FunctionRecord {
        FunctionRecord {
            tenant: "acme".into(),
            name: "todos".into(),
            routes: vec!["/todos".into()],
            limits: Default::default(),
            auth,
            route_auth: rules
                .iter()
                .map(|(k, p)| (k.to_string(), p.clone()))
                .collect::<BTreeMap<_, _>>(),
            active: None,
            updated_at: 0,
        }
    }

    fn public() -> RoutePolicy {
        RoutePolicy {
            public: true,
            ..RoutePolicy::default()
        }
    }

    fn scoped(scope: &str) -> RoutePolicy {
        RoutePolicy {
            scopes: vec![scope.into()],
            ..RoutePolicy::default()
        }
    }

    #[test]
    fn without_tenant_auth_or_a_policy_the_gateway_stays_out() {
        let plan = AuthPlan::new(false, &function(None, &[]));
        assert!(plan.policy("GET", "/todos").is_none());
        assert!(!plan.is_enforced());
    }

    #[test]
    fn a_tenant_with_auth_requires_a_token_by_default() {
        let plan = AuthPlan::new(true, &function(None, &[]));
        let policy = plan.policy("GET", "/todos").expect("enforced");
        assert!(!policy.public && policy.scopes.is_empty());
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let plan = AuthPlan::new(
            true,
            &function(
                Some(scoped("todos:write")),
                &[
                    ("GET /todos", public()),
                    ("/todos/admin", scoped("admin")),
                    ("DELETE /todos/admin", scoped("root")),
                ],
            ),
        );
        assert!(plan.policy("GET", "/todos/1").expect("rule").public);
        assert_eq!(
            plan.policy("POST", "/todos").expect("fn").scopes,
            ["todos:write"]
        );
        assert_eq!(
            plan.policy("GET", "/todos/admin/x").expect("rule").scopes,
            ["admin"]
        );
        assert_eq!(
            plan.policy("DELETE", "/todos/admin").expect("rule").scopes,
            ["root"]
        );
    }

    #[test]
    fn rules_alone_protect_the_paths_they_do_not_cover() {
        let plan = AuthPlan::new(false, &function(None, &[("GET /todos", public())]));
        assert!(plan.policy("GET", "/todos").expect("rule").public);
        let other = plan.policy("POST", "/todos").expect("protected");
        assert!(!other.public);
    }
}
