//! The signed-in user's tokens for server code, as Streamlit's `expose_tokens`: kept only in
//! the session store, sealed with the cookie key; never in a page, a cookie, a server
//! function's answer to the browser or a log line (`Tokens` is not `Serialize`, and its
//! `Debug` shows no token).
use std::{fmt, time::SystemTime};

use openidconnect::OAuth2TokenResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AuthError, context::server::RequestAuth};

/// The tokens of the signed-in user's session, for calling APIs from server code: what
/// `expose_tokens` lists (`"id"`, `"access"`), with the access token's expiry and scopes.
#[derive(Clone)]
pub struct Tokens {
    id_token: Option<String>,
    access_token: Option<String>,
    expires_at: Option<SystemTime>,
    scopes: Vec<String>,
}

impl Tokens {
    /// The ID token (a JWT), if `expose_tokens` has `"id"`.
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_deref()
    }

    /// The access token, if `expose_tokens` has `"access"`: send it as
    /// `Authorization: Bearer …` to the provider's APIs.
    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref()
    }

    /// When the access token expires, if the provider said.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The scopes the provider granted (those asked for, when it did not say).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |token: &Option<String>| token.as_ref().map(|_| "[redacted]");
        f.debug_struct("Tokens")
            .field("id_token", &shown(&self.id_token))
            .field("access_token", &shown(&self.access_token))
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The tokens of this request's session, inside a server function or an axum handler behind
/// `Auth::install` (where a `Tokens` argument does the same).
///
/// Errors: [`AuthError::NotSignedIn`] (401) when nobody is, [`AuthError::NoTokens`] (409)
/// when `expose_tokens` does not list them or the session holds none.
pub async fn tokens() -> Result<Tokens, AuthError> {
    let request = crate::context::server::current().ok_or(AuthError::NotConfigured)?;
    of_request(&request).await
}

pub(crate) async fn of_request(request: &RequestAuth) -> Result<Tokens, AuthError> {
    let found = request.found().await;
    // What may be shown is known before anything is refreshed for it.
    let exposed = request
        .auth
        .provider_named(found.user.provider())
        .map(|provider| provider.config().expose_tokens)
        .unwrap_or_default();
    if found.user.is_logged_in() && !exposed.any() {
        return Err(not_kept());
    }
    let (_, set) = fresh(request).await?;
    Ok(Tokens {
        id_token: exposed.id.then_some(set.id_token),
        access_token: exposed.access.then_some(set.access_token),
        expires_at: set
            .expires_at
            .and_then(|at| u64::try_from(at).ok())
            .map(|at| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(at)),
        scopes: set.scopes,
    })
}

/// The signed-in user's claims from the provider's userinfo endpoint, fetched now with the
/// session's access token (refreshed first when needed): what the provider says of them
/// today, not at sign-in. Needs the tokens kept (`expose_tokens` or `logout_at_provider`).
pub async fn userinfo() -> Result<crate::Claims, AuthError> {
    let request = crate::context::server::current().ok_or(AuthError::NotConfigured)?;
    let (found, set) = fresh(&request).await?;
    let provider = request
        .auth
        .provider_named(found.user.provider())
        .ok_or(AuthError::SignInEnded)?;
    provider
        .fetch_userinfo(&set.access_token, found.user.sub().unwrap_or_default())
        .await
        .map_err(|error| {
            tracing::warn!("userinfo failed: {error}");
            AuthError::ProviderUnavailable(error.public_message().to_owned())
        })
}

/// The session's tokens, refreshed if they are about to expire.
async fn fresh(request: &RequestAuth) -> Result<(crate::session::Found, TokenSet), AuthError> {
    let found = request.found().await;
    if !found.user.is_logged_in() {
        return Err(AuthError::NotSignedIn);
    }
    let provider = request.auth.provider_named(found.user.provider());
    if !provider.is_some_and(|provider| provider.config().keeps_tokens()) {
        return Err(not_kept());
    }
    let set = request
        .visitor
        .tokens(|| {
            // On a task of its own: a visitor who leaves mid-refresh must not cancel it
            // between the provider rotating the refresh token and the store keeping the new.
            let auth = request.auth.clone();
            let session = found.clone();
            async move {
                tokio::spawn(async move {
                    let provider = auth.provider_named(session.user.provider());
                    auth.sessions()
                        .fresh_tokens(auth.codec(), &session, |current| async move {
                            match provider {
                                Some(provider) => provider.refresh(&current).await,
                                None => Err(crate::oidc::RefreshError::NoRefreshToken),
                            }
                        })
                        .await
                })
                .await
                .map_err(|_| AuthError::Internal)?
            }
        })
        .await?;
    Ok((found, set))
}

pub(crate) fn not_kept() -> AuthError {
    AuthError::NoTokens(
        "This app keeps no sign-in tokens: list them in expose_tokens (e.g. expose_tokens = \
         [\"id\", \"access\"]) in [auth]."
            .to_owned(),
    )
}

/// `async fn handler(tokens: auth::Tokens)`: the request's tokens, or the error's status.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Tokens {
    type Rejection = (http::StatusCode, String);

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let refuse = |error: AuthError| (error.status(), error.to_string());
        let request =
            crate::context::server::auth_of(parts).ok_or(refuse(AuthError::NotConfigured))?;
        of_request(&request).await.map_err(refuse)
    }
}

/// Which tokens `expose_tokens` gives server code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExposedTokens {
    /// `"id"`: the ID token.
    pub id: bool,
    /// `"access"`: the access token.
    pub access: bool,
}

impl ExposedTokens {
    /// Whether any token is to be kept.
    pub fn any(&self) -> bool {
        self.id || self.access
    }
}

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
    /// The ID token's `nonce`, `sub`, `aud` and `azp`: a refreshed ID token must keep them.
    #[serde(default)]
    pub(crate) nonce: Option<String>,
    #[serde(default)]
    pub(crate) subject: Option<Value>,
    #[serde(default)]
    pub(crate) audience: Option<Value>,
    #[serde(default)]
    pub(crate) authorized_party: Option<Value>,
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
            subject: claim("sub"),
            audience: claim("aud"),
            authorized_party: claim("azp"),
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
            subject: before.subject.clone(),
            audience: before.audience.clone(),
            authorized_party: before.authorized_party.clone(),
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
            subject: None,
            audience: None,
            authorized_party: None,
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

    /// When the access token expires, Unix seconds (tests).
    #[doc(hidden)]
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }

    /// Whether `self` (refreshed) names the same subject, audience and authorized party.
    pub(crate) fn same_identity(&self, before: &TokenSet) -> bool {
        self.subject == before.subject
            && self.audience == before.audience
            && self.authorized_party == before.authorized_party
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

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}
