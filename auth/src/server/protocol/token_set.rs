//! What a sign-in's tokens are, as the token endpoint issued them and the session store keeps
//! them (sealed): the access token with its expiry and lifetime, the refresh token, and the
//! ID token with the identity a refreshed one must keep.
use std::fmt;

use openidconnect::OAuth2TokenResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the session store keeps of a sign-in's tokens (sealed).
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenSet {
    pub(crate) id_token: String,
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    /// Unix seconds.
    pub(crate) expires_at: Option<i64>,
    /// The access token's lifetime as issued (`expires_in`, seconds): what bounds the
    /// refresh margin.
    #[serde(default)]
    pub(crate) lifetime: Option<i64>,
    pub(crate) scopes: Vec<String>,
    /// The ID token's `nonce`, `iss`, `sub`, `aud`, `azp` and `auth_time`: a refreshed ID
    /// token must keep them (`iss` matters for a multi-tenant provider: the same tenant;
    /// `auth_time` if it has one: the time of the original authentication).
    #[serde(default)]
    pub(crate) nonce: Option<String>,
    /// `None` in sessions stored before it was kept.
    #[serde(default)]
    pub(crate) issuer: Option<Value>,
    #[serde(default)]
    pub(crate) subject: Option<Value>,
    #[serde(default)]
    pub(crate) audience: Option<Value>,
    #[serde(default)]
    pub(crate) authorized_party: Option<Value>,
    #[serde(default)]
    pub(crate) auth_time: Option<Value>,
    /// Unix seconds: when the session's claims were last read from the provider (sign-in, a
    /// refresh that brought them, userinfo), or last tried; `None` for sessions from before
    /// this was kept. Set by the session, on its clock.
    #[serde(default)]
    pub(crate) claims_at: Option<i64>,
    /// The access token's `token_type` as issued (`Bearer`, `DPoP`); `None` in sessions
    /// stored before it was kept (they were all bearer tokens).
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    /// The session's DPoP private key (`dpop = true`): its tokens are bound to it, and every
    /// call with them carries a proof it signs. Only here, sealed in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dpop: Option<super::dpop::DpopKey>,
}

impl TokenSet {
    /// The tokens of a token endpoint's answer; `id_token` as it came, `claims` its checked
    /// claims.
    pub(crate) fn issued(
        response: &impl OAuth2TokenResponse,
        id_token: String,
        claims: &serde_json::Map<String, Value>,
    ) -> Self {
        let claim = |name: &str| claims.get(name).cloned();
        Self {
            nonce: claims
                .get("nonce")
                .and_then(Value::as_str)
                .map(str::to_owned),
            issuer: claim("iss"),
            subject: claim("sub"),
            audience: claim("aud"),
            authorized_party: claim("azp"),
            auth_time: claim("auth_time"),
            ..Self::issued_without_id_token(response, &Self::only(id_token))
        }
    }

    /// The tokens of a refresh that sent no ID token: `before`'s ID token and identity stay.
    pub(crate) fn issued_without_id_token(
        response: &impl OAuth2TokenResponse,
        before: &TokenSet,
    ) -> Self {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let lifetime = response
            .expires_in()
            .and_then(|lifetime| i64::try_from(lifetime.as_secs()).ok());
        Self {
            id_token: before.id_token.clone(),
            nonce: before.nonce.clone(),
            issuer: before.issuer.clone(),
            subject: before.subject.clone(),
            audience: before.audience.clone(),
            authorized_party: before.authorized_party.clone(),
            auth_time: before.auth_time.clone(),
            claims_at: before.claims_at,
            token_type: token_type(response),
            dpop: before.dpop.clone(),
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|token| token.secret().clone()),
            expires_at: lifetime.map(|seconds| now.saturating_add(seconds)),
            lifetime,
            scopes: response
                .scopes()
                .map(|scopes| scopes.iter().map(|scope| scope.to_string()).collect())
                .unwrap_or_default(),
        }
    }

    fn only(id_token: String) -> Self {
        Self {
            id_token,
            access_token: String::new(),
            refresh_token: None,
            expires_at: None,
            lifetime: None,
            scopes: Vec::new(),
            nonce: None,
            issuer: None,
            subject: None,
            audience: None,
            authorized_party: None,
            auth_time: None,
            claims_at: None,
            token_type: None,
            dpop: None,
        }
    }

    /// The ID token (tests).
    #[doc(hidden)]
    pub fn id_token(&self) -> &str {
        &self.id_token
    }

    /// The access token (tests).
    #[doc(hidden)]
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token, if the provider gave one (tests).
    #[doc(hidden)]
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// The access token's `token_type` as issued, if kept (tests).
    #[doc(hidden)]
    pub fn token_type(&self) -> Option<&str> {
        self.token_type.as_deref()
    }

    /// The thumbprint of the session's DPoP key (`cnf.jkt` of its tokens), if it has one
    /// (tests).
    #[doc(hidden)]
    pub fn dpop_thumbprint(&self) -> Option<String> {
        self.dpop.as_ref().and_then(|key| key.thumbprint().ok())
    }

    /// A copy without the DPoP key: what a thief who read the store's tokens but not the key
    /// would hold (tests).
    #[doc(hidden)]
    pub fn without_dpop_key(&self) -> Self {
        Self {
            dpop: None,
            ..self.clone()
        }
    }

    /// When the access token expires, Unix seconds (tests).
    #[doc(hidden)]
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }

    /// Whether `self` (refreshed) names the same issuer (when `before` kept one), subject,
    /// audience and authorized party, and the same `auth_time` when both say one (OpenID
    /// Connect Core 12.2: a refreshed ID token's `auth_time` is the original authentication's).
    pub(crate) fn same_identity(&self, before: &TokenSet) -> bool {
        let same_auth_time = match (&self.auth_time, &before.auth_time) {
            (Some(now), Some(then)) => now == then,
            _ => true,
        };
        (before.issuer.is_none() || self.issuer == before.issuer)
            && self.subject == before.subject
            && self.audience == before.audience
            && self.authorized_party == before.authorized_party
            && same_auth_time
    }

    /// Whether the claims were last read `interval` (seconds) or longer before `now`.
    pub(crate) fn claims_due(&self, now: i64, interval: i64) -> bool {
        self.claims_at
            .is_none_or(|at| now.saturating_sub(at) >= interval)
    }

    /// Whether the access token expires within the margin in force ([`Self::margin`]) of
    /// `now` and a refresh token could renew it.
    pub(crate) fn needs_refresh(&self, now: i64, margin: i64) -> bool {
        self.refresh_token.is_some()
            && self
                .expires_at
                .is_some_and(|at| at - now < self.margin(margin))
    }

    /// The refresh margin in force: `configured`, but at most half the access token's
    /// lifetime, so that a token living less than the margin is refreshed once per expiry
    /// rather than at every request (a fresh one would still expire "soon").
    pub(crate) fn margin(&self, configured: i64) -> i64 {
        match self.lifetime {
            Some(lifetime) if lifetime > 0 => configured.min(lifetime / 2),
            _ => configured,
        }
    }
}

/// The answer's `token_type`, spelled as RFC 6750 and RFC 9449 spell the schemes (`Bearer`,
/// `DPoP`: what an `Authorization` header names): `openidconnect` says it only through serde,
/// and lower-cased.
pub(crate) fn token_type(response: &impl OAuth2TokenResponse) -> Option<String> {
    match serde_json::to_value(response.token_type()) {
        Ok(Value::String(token_type)) => Some(match token_type.to_ascii_lowercase().as_str() {
            "bearer" => "Bearer".to_owned(),
            "dpop" => "DPoP".to_owned(),
            _ => token_type,
        }),
        _ => None,
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("token_type", &self.token_type)
            .field("dpop", &self.dpop.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn named(iss: Option<&str>) -> TokenSet {
        TokenSet {
            issuer: iss.map(Value::from),
            subject: Some(json!("alice")),
            audience: Some(json!("app")),
            ..TokenSet::only("id".to_owned())
        }
    }

    /// A multi-tenant provider's refreshed ID token must come from the same tenant's issuer.
    #[test]
    fn a_refreshed_id_token_keeps_the_issuer() {
        let tenant_a = Some("https://op.example/tenant-a");
        let tenant_b = Some("https://op.example/tenant-b");
        assert!(named(tenant_a).same_identity(&named(tenant_a)));
        assert!(!named(tenant_b).same_identity(&named(tenant_a)));
        assert!(!named(None).same_identity(&named(tenant_a)));
        // A session stored before the issuer was kept.
        assert!(named(tenant_b).same_identity(&named(None)));
    }
}
