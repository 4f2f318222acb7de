//! Whether a sign-in asks the userinfo endpoint after the ID token: each call is a round trip
//! to the provider while the visitor waits, so with `userinfo = "auto"` only when the ID token
//! lacks something the app asked for (OpenID Connect Core 5.4 lets either carry the claims).
use serde_json::{Map, Value};

use crate::server::config::{ProviderConfig, Userinfo};

/// For each standard scope, the claim whose absence from the ID token says the provider
/// keeps that scope's claims for userinfo (as Okta's and oidc-provider's conformant ID
/// tokens do). Only claims every account has: `picture` or `given_name` may be missing for
/// an account that has none, which userinfo would not mend.
const PROMISED: [(&str, &str); 4] = [
    ("email", "email"),
    ("profile", "name"),
    ("phone", "phone_number"),
    ("address", "address"),
];

/// Whether the callback must ask userinfo for claims the verified ID token (`claims`) lacks.
pub(super) fn wanted(config: &ProviderConfig, claims: &Map<String, Value>) -> bool {
    match config.userinfo {
        Userinfo::Always => true,
        Userinfo::Never => false,
        Userinfo::Auto => promised(config).any(|claim| !claims.contains_key(&claim)),
    }
}

/// The claims the scopes promise, and those `client_kwargs.claims` asks of userinfo.
fn promised(config: &ProviderConfig) -> impl Iterator<Item = String> {
    let scopes = config.scopes();
    let by_scope = PROMISED
        .iter()
        .filter(move |(scope, _)| scopes.iter().any(|asked| asked == scope))
        .map(|(_, claim)| (*claim).to_owned());
    by_scope.chain(asked_of_userinfo(config))
}

/// The names in the `userinfo` member of the `claims` request parameter (checked to be a
/// JSON object when the configuration was read).
fn asked_of_userinfo(config: &ProviderConfig) -> Vec<String> {
    config
        .auth_params
        .get("claims")
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .and_then(|request| match request.get("userinfo") {
            Some(Value::Object(claims)) => Some(claims.keys().cloned().collect()),
            _ => None,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(more: &str) -> ProviderConfig {
        let toml = crate::server::test_support::toml(
            "http://localhost:3000",
            crate::server::test_support::SECRET,
            crate::server::test_support::NOWHERE,
            &format!("client_id = \"a\"\n{more}"),
        );
        crate::server::test_support::config(&toml).providers[0].clone()
    }

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn auto_asks_only_for_what_the_scopes_promise_and_the_id_token_lacks() {
        let default_scopes = provider("");
        let full = claims(serde_json::json!({"sub": "a", "name": "A", "email": "a@x"}));
        assert!(!wanted(&default_scopes, &full));
        let no_email = claims(serde_json::json!({"sub": "a", "name": "A"}));
        assert!(wanted(&default_scopes, &no_email));
        let no_name = claims(serde_json::json!({"sub": "a", "email": "a@x"}));
        assert!(wanted(&default_scopes, &no_name));
        // Scope `openid` alone promises nothing beyond `sub`.
        let openid_only = provider("[auth.client_kwargs]\nscope = \"openid\"\n");
        assert!(!wanted(
            &openid_only,
            &claims(serde_json::json!({"sub": "a"}))
        ));
        let phone = provider("[auth.client_kwargs]\nscope = \"openid phone\"\n");
        assert!(wanted(&phone, &no_email));
    }

    #[test]
    fn auto_asks_for_claims_requested_of_userinfo() {
        let with_groups = provider(
            "[auth.client_kwargs]\nclaims = '{\"userinfo\": {\"groups\": null}, \"id_token\": {\"acr\": null}}'\n",
        );
        let full = claims(serde_json::json!({"sub": "a", "name": "A", "email": "a@x"}));
        assert!(wanted(&with_groups, &full));
        let with =
            claims(serde_json::json!({"sub": "a", "name": "A", "email": "a@x", "groups": []}));
        assert!(!wanted(&with_groups, &with));
    }

    #[test]
    fn always_and_never_do_as_they_say() {
        let full = claims(serde_json::json!({"sub": "a", "name": "A", "email": "a@x"}));
        let bare = claims(serde_json::json!({"sub": "a"}));
        assert!(wanted(&provider("userinfo = \"always\"\n"), &full));
        assert!(!wanted(&provider("userinfo = \"never\"\n"), &bare));
    }
}
