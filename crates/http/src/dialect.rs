//! Which dialect a route belongs to, for the metrics and the audit trail.

/// Every API a login arrives through: the dialects and the OpenID Provider.
pub const LOGIN_APIS: [&str; 7] = [
    "flow",
    "tokens",
    "bimplus",
    "gradido",
    "lime",
    "oidc_provider",
    "passkeys",
];

/// The dialect a route pattern belongs to; `service` for Limen's own routes,
/// `none` for a path that matched no route.
pub fn dialect_of(route: &str) -> &'static str {
    let first = route
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    match first {
        "authentication" | "user" => "flow",
        "auth" => "tokens",
        "v2" => "bimplus",
        "login_api" | "account" => "gradido",
        // The lime dialect's OpenID login publishes its payload key there.
        "oidc" if route == "/oidc/payload-key" => "lime",
        "oidc" => "oidc_provider",
        "login" | "bankid" | "reset" | "oauth2" => "lime",
        "passkeys" => "passkeys",
        "healthz" | "readyz" | "openapi.json" | "metrics" => "service",
        _ => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_belong_to_their_dialect() {
        for (route, wanted) in [
            ("/authentication/login", "flow"),
            ("/user/{id}/enable2fa", "flow"),
            ("/auth/bump", "tokens"),
            ("/v2/authorize", "bimplus"),
            ("/login_api/unsecureLogin", "gradido"),
            ("/account/checkEmail/{code}", "gradido"),
            ("/login/", "lime"),
            ("/bankid/collect/", "lime"),
            ("/oauth2/authorize/", "lime"),
            ("/oidc/payload-key", "lime"),
            ("/oidc/authorize", "oidc_provider"),
            ("/oidc/token", "oidc_provider"),
            ("/readyz", "service"),
            ("(no route)", "none"),
        ] {
            assert_eq!(dialect_of(route), wanted, "{route}");
        }
    }
}
