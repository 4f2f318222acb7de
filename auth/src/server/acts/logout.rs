//! Signing out, in all its forms:
//! - here: the session ends (the cookie, and with a store the session in it), the refresh
//!   token is revoked at the provider when it has a `revocation_endpoint` (RFC 7009), after
//!   the answer: the visitor never waits on the provider, whose failure is only logged;
//! - everywhere: every session of the account, on every server (needs a store);
//! - at the provider (`logout_at_provider = true`): then the browser goes to the provider's
//!   `end_session_endpoint` (RP-Initiated Logout 1.0) and comes back home with a `state` this
//!   browser must hold;
//! - from the provider: its back-channel logout token ends the matching sessions (Back-Channel
//!   Logout 1.0).
use axum::{
    Router,
    extract::{Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use time::OffsetDateTime;
use tower_cookies::Cookies;

use crate::{
    Auth, AuthError,
    server::html::NO_STORE,
    server::protocol::LOGOUT_TOKEN_REPLAY_WINDOW,
    server::protocol::TokenSet,
    server::session::{Ended, Found, Group},
    session_info::SessionInfo,
};

/// A logout token is a few kilobytes at most.
const MAX_LOGOUT_REQUEST_BYTES: usize = 16 * 1024;

impl Auth {
    /// Signs the visitor of `found` out (of every browser with `everywhere`); returns where the
    /// browser goes next: home, or the provider's logout page.
    pub(crate) async fn log_out(
        &self,
        cookies: &Cookies,
        found: &Found,
        everywhere: bool,
    ) -> Result<String, AuthError> {
        let sessions = self.sessions();
        let tokens = sessions.tokens(self.codec(), found);
        if everywhere {
            let ended = sessions
                .end_everywhere(self.codec(), cookies, found)
                .await?;
            tracing::info!(sessions = ended, "signed out everywhere");
        } else {
            sessions.end(self.codec(), cookies, found).await?;
        }
        if !found.user.is_logged_in() {
            return Ok("/".to_owned());
        }
        self.hooks().signed_out(&found.user);
        let Some(provider) = self.provider_named(found.user.provider()) else {
            return Ok("/".to_owned());
        };
        if let Some(tokens) = tokens.clone() {
            self.revoke_later(found.user.provider(), tokens);
        }
        if !provider.config().logout_at_provider {
            return Ok("/".to_owned());
        }
        let state = openidconnect::CsrfToken::new_random().into_secret();
        let home = self.home();
        let id_token = tokens.as_ref().map(|tokens| tokens.id_token.as_str());
        match provider.end_session_url(id_token, &home, &state).await {
            Some(url) => {
                let cookie = self
                    .codec()
                    .logout_state_cookie(&state, OffsetDateTime::now_utc())
                    .map_err(|_| AuthError::Internal)?;
                cookies.add(cookie);
                Ok(url.to_string())
            }
            None => Ok("/".to_owned()),
        }
    }
}

impl Auth {
    /// Revokes the refresh token of `tokens` (if any) at `provider`, after the answer: a round
    /// trip to a provider far away, for nothing the visitor sees; the session is over here
    /// whatever it answers. On a task of its own, so the page goes now.
    fn revoke_later(&self, provider: Option<&str>, tokens: TokenSet) {
        if tokens.refresh_token.is_none() {
            return;
        }
        let auth = self.clone();
        let name = provider.map(str::to_owned);
        tokio::spawn(async move {
            if let Some(provider) = auth.provider_named(name.as_deref()) {
                provider.revoke(&tokens).await;
            }
        });
    }

    /// The sessions of the visitor's account, for "Where you're signed in".
    pub(crate) async fn list_sessions(&self, found: &Found) -> Result<Vec<SessionInfo>, AuthError> {
        self.sessions().list(self.codec(), found).await
    }

    /// Signs out the browser of the visitor's account whose session `id` names: at its next
    /// request it is signed out, and its refresh token is revoked. Returns where this browser
    /// goes next: `back`, or where a logout goes when `id` names this browser's own session
    /// (ending it is a logout). An `id` of no session of this account is
    /// [`AuthError::NoSuchSession`], whatever it is.
    pub(crate) async fn end_session(
        &self,
        cookies: &Cookies,
        found: &Found,
        id: &str,
        back: String,
    ) -> Result<String, AuthError> {
        match self.sessions().end_one(self.codec(), found, id).await? {
            Ended::ThisBrowser => self.log_out(cookies, found, false).await,
            Ended::Other { provider, tokens } => {
                tracing::info!("signed out another browser of the account");
                if let Some(tokens) = tokens {
                    self.revoke_later(provider.as_deref(), *tokens);
                }
                Ok(back)
            }
        }
    }
}

/// The browser back from the provider's logout page (`/?state=…`): with the `state` this
/// browser sent, the answer that cleans up the address; anything else is an ordinary visit
/// home (`None`). Asked before the visitor is found (`middleware::find_visitor`).
pub(crate) fn returned_from_provider(
    auth: &Auth,
    cookies: &Cookies,
    request: &Request,
) -> Option<Response> {
    let name = auth.codec().logout_state_name();
    let cookie = cookies.get(&name)?.into_owned();
    if request.uri().path() != "/" {
        return None;
    }
    let returned_state = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "state")
            .map(|(_, value)| value.into_owned())
    });
    cookies.add(auth.codec().removal(&name));
    let expected = auth
        .codec()
        .open_logout_state(&cookie, OffsetDateTime::now_utc());
    match (returned_state, expected) {
        (Some(returned), Some(expected)) if returned == expected => {
            Some(Redirect::to("/").into_response())
        }
        (Some(_), _) => {
            tracing::info!("a return from the provider's logout page with a state we did not send");
            None
        }
        (None, _) => None,
    }
}

/// The back-channel logout route (`backchannel_logout_path`): the provider posts
/// `logout_token`; a valid one ends the sessions it names and is answered 200, anything else
/// 400 and ends nothing (Back-Channel Logout 1.0 §2.8).
pub(crate) fn backchannel_router(auth: &Auth) -> Router {
    Router::new()
        .route(auth.backchannel_path(), post(backchannel_logout))
        .with_state(auth.clone())
}

async fn backchannel_logout(State(auth): State<Auth>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = crate::server::body::read(&parts.headers, body, MAX_LOGOUT_REQUEST_BYTES).await
    else {
        let answer = (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CACHE_CONTROL, NO_STORE)],
        );
        return crate::server::body::closing(answer.into_response());
    };
    let answer = match logout_token_of(&body) {
        Some(token) => end_sessions_of(&auth, &token).await,
        None => Err("no logout_token in the request".to_owned()),
    };
    let status = match &answer {
        Ok(ended) => {
            tracing::info!(
                sessions = ended,
                "signed out by the provider (back-channel)"
            );
            StatusCode::OK
        }
        Err(reason) => {
            if let Some(held_back) = auth
                .log_throttle()
                .admit("backchannel", std::time::Instant::now())
            {
                tracing::warn!(held_back, "refused a back-channel logout: {reason}");
            }
            StatusCode::BAD_REQUEST
        }
    };
    (status, [(header::CACHE_CONTROL, NO_STORE)]).into_response()
}

fn logout_token_of(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(key, _)| key == "logout_token")
        .map(|(_, value)| value.into_owned())
}

/// Verifies `token` with the provider that signed it and ends its sessions: those of its
/// `sid` when it names one, else every session of its `sub`.
async fn end_sessions_of(auth: &Auth, token: &str) -> Result<u64, String> {
    let store = auth
        .sessions()
        .store()
        .ok_or("sessions are kept in cookies only (no session_store): nothing can end them")?;
    let mut refusals = Vec::new();
    for provider in auth.providers() {
        let claims = match provider.verify_logout_token(token).await {
            Ok(claims) => claims,
            Err(error) => {
                refusals.push(error.to_string());
                continue;
            }
        };
        // For a multi-tenant provider, the issuer of the token's own tenant, as at sign-in.
        let issuer = provider.account_issuer(Some(&claims.iss));
        let seen = format!(
            "logout-token:{}",
            crate::server::session::owner_of(issuer, &claims.jti)
        );
        let holder = openidconnect::CsrfToken::new_random().into_secret();
        let first = store
            .try_lock(&seen, &holder, LOGOUT_TOKEN_REPLAY_WINDOW)
            .await
            .map_err(|error| format!("the session store failed: {error}"))?;
        if !first {
            return Err("a logout token seen before (same jti)".to_owned());
        }
        let (group, id) = match (&claims.sid, &claims.sub) {
            (Some(sid), _) => (
                Group::ProviderSession,
                crate::server::session::provider_session_of(issuer, sid),
            ),
            (None, Some(sub)) => (Group::Owner, crate::server::session::owner_of(issuer, sub)),
            (None, None) => return Err("a logout token naming no session".to_owned()),
        };
        return match store.remove_group(group, &id).await {
            Ok(ended) => Ok(ended),
            Err(error) => {
                // Not seen after all: the provider's retry (§2.8) must get through.
                let _ = store.unlock(&seen, &holder).await;
                Err(format!("the session store failed: {error}"))
            }
        };
    }
    Err(refusals.join("; "))
}
