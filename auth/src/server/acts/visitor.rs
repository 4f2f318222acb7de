//! Who sent the request being handled, as every part of sign-in asks it: the [`Visitor`]
//! (found once, by the layer `Auth::install` adds), the request's [`RequestAuth`], the
//! `User` extractor and `require_user()`. Whatever asks marks the answer [`Personal`].
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    response::{IntoResponse, Response},
};
use http::request::Parts;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_cookies::Cookies;

use tokio::sync::OnceCell;

use crate::{Auth, AuthError, User, server::protocol::TokenSet, server::session::Found};

/// What sign-in knows of one request, from the layers `Auth::install` adds.
#[derive(Clone)]
pub(crate) struct RequestAuth {
    pub(crate) auth: Auth,
    pub(crate) cookies: Cookies,
    /// Who sent it, found before the app runs (or on first need).
    pub(crate) visitor: Visitor,
    /// Marked when something reads who sent it: the answer is then personal.
    pub(crate) personal: Option<Personal>,
}

tokio::task_local! {
    /// The request being handled, for code that has neither Leptos's context nor the
    /// request's parts (`leptos_login::tokens()` in a plain axum handler).
    static CURRENT: RequestAuth;
}

/// Runs `handling` (the rest of the request's handling) with `request` as the current one.
pub(crate) async fn with_current<F: Future>(request: RequestAuth, handling: F) -> F::Output {
    CURRENT.scope(request, handling).await
}

/// The request being handled: from Leptos's context (server functions, page renders) or
/// from the task handling it (axum handlers).
pub(crate) fn current() -> Option<RequestAuth> {
    request_auth().or_else(|| {
        CURRENT
            .try_with(|request| {
                if let Some(personal) = &request.personal {
                    personal.mark();
                }
                request.clone()
            })
            .ok()
    })
}

impl RequestAuth {
    /// Who sent the request, and their session.
    pub(crate) async fn found(&self) -> Found {
        self.visitor.found(&self.auth, &self.cookies).await
    }

    async fn user(&self) -> Option<User> {
        Some(self.found().await.user).filter(User::is_logged_in)
    }
}

/// The [`RequestAuth`] of a request. Whatever asks for it depends on who is signed in:
/// its answer is not cached.
pub(crate) fn auth_of(parts: &http::request::Parts) -> Option<RequestAuth> {
    let Some(request) = parts.extensions.get::<RequestAuth>() else {
        // Also true while leptos_axum renders the app once at start-up to list its routes.
        tracing::debug!("no Auth in this request: is `auth.install(router)` missing?");
        return None;
    };
    if let Some(personal) = &request.personal {
        personal.mark();
    }
    Some(request.clone())
}

/// [`auth_of`] the request being handled (inside a server function or a page render).
/// Borrowed from the context: `use_context` would clone all its headers and extensions.
pub(crate) fn request_auth() -> Option<RequestAuth> {
    with_context::<Parts, _>(auth_of).flatten()
}

/// The user this request's cookie names, read afresh (not the page's `use_user()`), so a
/// tab still showing a signed-out user cannot act as them. Sets status 401 when nobody is
/// signed in. The same as the [`User`] extractor, for server functions.
pub async fn require_user() -> Result<User, AuthError> {
    leptos_axum::extract::<User>().await.map_err(|_| {
        let error = AuthError::NotLoggedIn;
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(error.status());
        }
        error
    })
}

/// `async fn handler(user: leptos_login::User)` answers 401 to anyone not signed in;
/// `Option<leptos_login::User>` lets everyone in. Both need the layers of `Auth::install`.
impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = NotLoggedIn;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match auth_of(parts) {
            Some(request) => request.user().await.ok_or(NotLoggedIn),
            None => Err(NotLoggedIn),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for User {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(match auth_of(parts) {
            Some(request) => request.user().await,
            None => None,
        })
    }
}

/// The [`User`] extractor's refusal: 401, saying so as `require_user` does.
#[derive(Debug)]
pub struct NotLoggedIn;

impl IntoResponse for NotLoggedIn {
    fn into_response(self) -> Response {
        AuthError::NotLoggedIn.into_response()
    }
}

/// Marked on a request once something read who sent it: its answer is personal.
#[derive(Clone, Debug, Default)]
pub(crate) struct Personal(Arc<AtomicBool>);

impl Personal {
    pub(crate) fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_marked(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Who sent a request: found once, then shared by everything that asks; and their tokens,
/// likewise.
#[derive(Clone, Default)]
pub(crate) struct Visitor {
    found: Arc<OnceCell<Found>>,
    tokens: Arc<OnceCell<TokenSet>>,
}

impl Visitor {
    /// Who it is, asking the session mode the first time (and reading the claims again when
    /// `claims_refresh_interval` says they are due).
    pub(crate) async fn found(&self, auth: &Auth, cookies: &Cookies) -> Found {
        self.found
            .get_or_init(|| crate::server::acts::claims::identify(auth, cookies))
            .await
            .clone()
    }

    /// Who `auth.install` found: signed out for requests it left alone (static files).
    pub(crate) fn known(&self) -> User {
        self.found
            .get()
            .map(|found| found.user.clone())
            .unwrap_or_default()
    }

    /// The session's tokens as this request first got them, through `get` (which refreshes
    /// them when due): a token refreshed for this request is never refreshed again in it
    /// (`tokens()`, then `userinfo()`).
    pub(crate) async fn tokens<Fut>(&self, get: impl FnOnce() -> Fut) -> Result<TokenSet, AuthError>
    where
        Fut: Future<Output = Result<TokenSet, AuthError>>,
    {
        self.tokens.get_or_try_init(get).await.cloned()
    }
}
