//! The signed-in user's tokens for server code, as Streamlit's `expose_tokens`: kept only in
//! the session store, sealed with the cookie key; never in a page, a cookie, a server
//! function's answer to the browser or a log line (`Tokens` is not `Serialize`, and its
//! `Debug` shows no token).
use std::{fmt, time::SystemTime};

use crate::{
    AuthError,
    server::acts::visitor::RequestAuth,
    server::protocol::{DpopKey, TokenSet},
};

/// The tokens of the signed-in user's session, for calling APIs from server code: what
/// `expose_tokens` lists (`"id"`, `"access"`), with the access token's expiry and scopes.
#[derive(Clone)]
pub struct Tokens {
    id_token: Option<String>,
    access_token: Option<String>,
    expires_at: Option<SystemTime>,
    scopes: Vec<String>,
    token_type: String,
    /// The session's DPoP key (`dpop = true`), for [`Tokens::dpop_proof`]; never shown.
    dpop: Option<DpopKey>,
}

impl Tokens {
    /// The ID token (a JWT), if `expose_tokens` has `"id"`.
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_deref()
    }

    /// The access token, if `expose_tokens` has `"access"`: send it as
    /// `Authorization: Bearer …` to the provider's APIs, or, when [`Tokens::token_type`] is
    /// `DPoP` (`dpop = true`), as `Authorization: DPoP …` with a [`Tokens::dpop_proof`].
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

    /// The access token's type as the provider issued it: `Bearer`, or `DPoP` for a token
    /// bound to this session's key (`dpop = true`).
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// A DPoP proof (RFC 9449) for one call with the access token: `method` (`"GET"`) at
    /// `url` (absolute; its query and fragment are left out of the proof), signed with the
    /// session's key, with the token's hash (`ath`). Send it as the `DPoP` header beside
    /// `Authorization: DPoP <access token>`, once: each call needs a new proof.
    ///
    /// Errors: [`AuthError::NoTokens`] when the session's tokens are not DPoP-bound (`dpop`
    /// is off) or the access token is not exposed; [`AuthError::BadRequest`] for a `url` that
    /// is not absolute; [`AuthError::Internal`] when the key cannot sign.
    pub fn dpop_proof(&self, method: &str, url: &str) -> Result<String, AuthError> {
        self.dpop_proof_with_nonce(method, url, None)
    }

    /// As [`Tokens::dpop_proof`], with the `nonce` a resource server asked for (its
    /// `DPoP-Nonce` header on a 401 `use_dpop_nonce`).
    pub fn dpop_proof_with_nonce(
        &self,
        method: &str,
        url: &str,
        nonce: Option<&str>,
    ) -> Result<String, AuthError> {
        let (Some(key), Some(access_token)) = (&self.dpop, &self.access_token) else {
            return Err(AuthError::NoTokens(
                "This session's access token is not DPoP-bound: set dpop = true for its \
                 provider, with \"access\" in expose_tokens."
                    .to_owned(),
            ));
        };
        let url = url::Url::parse(url)
            .map_err(|_| AuthError::BadRequest("a DPoP proof needs an absolute URL".to_owned()))?;
        key.proof(method, &url, Some(access_token), nonce)
            .map_err(|error| {
                // The reason names the key's trouble, never the key.
                tracing::error!("{error}");
                AuthError::Internal
            })
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
            .field("token_type", &self.token_type)
            .field("dpop", &self.dpop.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The tokens of this request's session, inside a server function or an axum handler behind
/// `Auth::install` (where a `Tokens` argument does the same).
///
/// Errors: [`AuthError::NotLoggedIn`] (401) when nobody is, [`AuthError::NoTokens`] (409)
/// when `expose_tokens` does not list them or the session holds none.
pub async fn tokens() -> Result<Tokens, AuthError> {
    let request = crate::server::acts::visitor::current().ok_or(AuthError::NotConfigured)?;
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
        // Sessions stored before the type was kept held bearer tokens.
        token_type: set.token_type.unwrap_or_else(|| "Bearer".to_owned()),
        dpop: set.dpop,
    })
}

/// The signed-in user's claims from the provider's userinfo endpoint, fetched now with the
/// session's access token (refreshed first when needed): what the provider says of them
/// today, not at sign-in. Needs the tokens kept (`expose_tokens` or `logout_at_provider`).
pub async fn userinfo() -> Result<crate::user::Claims, AuthError> {
    let request = crate::server::acts::visitor::current().ok_or(AuthError::NotConfigured)?;
    let (found, set) = fresh(&request).await?;
    let provider = request
        .auth
        .provider_named(found.user.provider())
        .ok_or(AuthError::LoginEnded)?;
    provider
        .fetch_userinfo(&set, found.user.sub().unwrap_or_default())
        .await
        .map_err(|error| {
            tracing::warn!("userinfo failed: {error}");
            AuthError::ProviderUnavailable(error.public_message())
        })
}

/// The session's tokens, refreshed if they are about to expire.
async fn fresh(
    request: &RequestAuth,
) -> Result<(crate::server::session::Found, TokenSet), AuthError> {
    let found = request.found().await;
    if !found.user.is_logged_in() {
        return Err(AuthError::NotLoggedIn);
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
            // The refresh brings the claims the session holds from now on (`claims.rs`).
            let auth = request.auth.clone();
            let session = found.clone();
            async move {
                tokio::spawn(async move {
                    let provider = auth.provider_named(session.user.provider());
                    let (auth, user) = (&auth, &session.user);
                    auth.sessions()
                        .fresh_tokens(auth.codec(), &session, |current| async move {
                            match provider {
                                Some(provider) => {
                                    crate::server::acts::claims::refresh(
                                        auth, provider, user, &current,
                                    )
                                    .await
                                }
                                None => Err(crate::server::protocol::RefreshError::NoRefreshToken),
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

/// `async fn handler(tokens: leptos_login::server::Tokens)`: the request's tokens, or the error's status.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Tokens {
    type Rejection = (http::StatusCode, String);

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let refuse = |error: AuthError| (error.status(), error.to_string());
        let request =
            crate::server::acts::visitor::auth_of(parts).ok_or(refuse(AuthError::NotConfigured))?;
        of_request(&request).await.map_err(refuse)
    }
}
