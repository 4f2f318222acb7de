//! Claims kept fresh: what a session holds of its user after sign-in, as the provider says it
//! later. A token refresh that brings a new ID token (checked as at sign-in, with the same
//! `iss`, `sub` and `aud`: OpenID Connect Core 12.2) replaces the claims, merged with userinfo
//! when the `userinfo` setting asks; with `claims_refresh_interval`, a session without a
//! refresh token reads userinfo again once its claims are that old. Either way the claims go
//! through the app's `map_claims` as at sign-in, and must name the same `sub`; a refusal
//! (another subject, a dead access token, the app's hook) ends the session.
use serde_json::{Map, Value};
use tower_cookies::Cookies;

use crate::{
    Auth, AuthError, User,
    server::protocol::{Provider, RefreshError, TokenSet},
    server::session::{Found, Refreshed},
};

/// Refreshes `current` (the tokens of `before`'s session) at `provider`, and makes the user
/// the session holds from now on: `None` (the claims stay) when the refresh brought no new
/// claims, or userinfo could not be read just now.
pub(crate) async fn refresh(
    auth: &Auth,
    provider: &Provider,
    before: &User,
    current: &TokenSet,
) -> Result<Refreshed, RefreshError> {
    let refreshed = provider.refresh_with_claims(current).await?;
    let claims = match provider
        .refreshed_claims(&refreshed.tokens, refreshed.id_token_claims)
        .await
    {
        Ok(claims) => claims,
        // The new tokens are good; only userinfo failed for now: the old claims stay.
        Err(RefreshError::Provider(error)) => {
            tracing::warn!(
                provider = %provider.config().label(),
                "refreshed a session's tokens, but kept its claims: {error}"
            );
            None
        }
        Err(refused) => return Err(refused),
    };
    let user = claims
        .map(|claims| user_of(auth, before, claims))
        .transpose()?;
    Ok(Refreshed {
        tokens: refreshed.tokens,
        user,
    })
}

/// The user `claims` (fresh from the provider) make of `before`: the same subject, the
/// provider session's `sid` kept when the fresh claims have none (back-channel logout names
/// it), and the app's `map_claims` run as at sign-in.
fn user_of(
    auth: &Auth,
    before: &User,
    mut claims: Map<String, Value>,
) -> Result<User, RefreshError> {
    let subject = claims.get("sub").and_then(Value::as_str);
    if subject.is_none() || subject != before.sub() {
        return Err(RefreshError::IdentityChanged);
    }
    if let Some(sid) = before.get("sid")
        && !claims.contains_key("sid")
    {
        claims.insert("sid".to_owned(), sid.clone());
    }
    auth.hooks()
        .map_claims(&mut claims, before.provider())
        .map_err(RefreshError::RefusedByApp)?;
    Ok(User::signed_in(
        claims,
        before.provider().map(str::to_owned),
    ))
}

/// Who the request's cookie names, with claims read again first when their provider's
/// `claims_refresh_interval` says they are due (sessions without a refresh token). A read
/// that ends the session leaves the visitor signed out, and the cookie goes.
pub(crate) async fn identify(auth: &Auth, cookies: &Cookies) -> Found {
    let found = auth.sessions().identify(auth.codec(), cookies).await;
    if !found.user.is_logged_in() {
        return found;
    }
    let Some(provider) = auth.provider_named(found.user.provider()) else {
        return found;
    };
    let Some(interval) = provider.config().claims_refresh_interval else {
        return found;
    };
    let before = found.user.clone();
    let read = |tokens: TokenSet| async move {
        let claims = provider.reread_claims(&tokens).await?;
        user_of(auth, &before, claims)
    };
    // On the heap: its provider requests would otherwise make every request's future, and
    // the copies of it the service stack makes, several kilobytes larger.
    match Box::pin(
        auth.sessions()
            .reread_claims(auth.codec(), &found, interval, read),
    )
    .await
    {
        Ok(Some(user)) => found.with_user(user),
        Ok(None) => found,
        Err(AuthError::LoginEnded) => {
            cookies.add(auth.codec().removal(&auth.codec().identity_name()));
            Found::default()
        }
        // The store did not answer: the claims it had stay, for this request.
        Err(_) => found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_a_requests_visitor_is_a_small_future() {
        // Every request's future holds this one, and the service stack copies that future
        // whole when it boxes it: provider requests, which a lookup rarely makes, live on
        // the heap instead. (With them inline it was 6 KB in a debug build, and a page cost
        // 8,000 instructions of copying more in a release build.)
        let auth = Auth::unconfigured();
        let cookies = Cookies::default();
        let size = std::mem::size_of_val(&identify(&auth, &cookies));
        assert!(size <= 512, "identify's future is {size} bytes");
    }
}
