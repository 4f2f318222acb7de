//! `use_user()`: the visitor, read once per page load.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::User;

/// What a page knows about sign-in, computed on the server and carried in the page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct PageAuth {
    user: User,
    dev_provider: bool,
}

// The browser's own JSON parser reads it (page_json.rs); the server writes it with serde_json.
impl std::fmt::Display for PageAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&json)
    }
}

impl std::str::FromStr for PageAuth {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        let page = page_json::parse(text);
        #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
        let page = serde_json::from_str(text).ok();
        page.ok_or("not the page's sign-in data")
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod page_json;

/// Whether sign-in goes through the embedded development provider.
#[derive(Clone, Copy, Debug, Default)]
pub struct DevProvider(pub bool);

/// Call once at the root of the app, inside the component tree (before any `use_user()`).
///
/// On the server it reads the identity cookie of the request being rendered; the result is
/// written into the page, and the browser reads it back while hydrating instead of asking
/// again. A tab keeps this user until it loads a page again, as a Streamlit session does.
pub fn provide_user() {
    let page = SharedValue::new_str(this_request).into_inner();
    provide_context(page.user);
    provide_context(DevProvider(page.dev_provider));
}

/// The visitor of this page load; signed out if nobody is (or `provide_user` was not called,
/// which a debug build says once).
pub fn use_user() -> User {
    use_context::<User>().unwrap_or_else(|| {
        #[cfg(debug_assertions)]
        warn_once_without_provide_user();
        User::default()
    })
}

#[cfg(debug_assertions)]
fn warn_once_without_provide_user() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        leptos::logging::warn!(
            "auth: use_user() found no user: call auth::provide_user() once at the root of the \
             app (inside the component tree, before any use_user()); until then everyone looks \
             signed out"
        );
    });
}

#[cfg(feature = "ssr")]
fn this_request() -> PageAuth {
    match server::request_auth() {
        Some(request) => PageAuth {
            user: request.visitor.known(),
            dev_provider: request.auth.dev_provider_active(),
        },
        None => PageAuth::default(),
    }
}

/// In the browser the value comes from the page; this runs only when rendering client-side
/// without server data, where nobody can be known.
#[cfg(not(feature = "ssr"))]
fn this_request() -> PageAuth {
    PageAuth::default()
}

/// Server functions that need a signed-in user start with this.
#[cfg(feature = "ssr")]
pub mod server {
    use axum::{
        extract::{FromRequestParts, OptionalFromRequestParts},
        response::{IntoResponse, Response},
    };
    use http::request::Parts;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_cookies::Cookies;

    use crate::{Auth, AuthError, User, session::Visitor};

    /// What sign-in knows of one request, from the layers `Auth::install` adds.
    #[derive(Clone)]
    pub(crate) struct RequestAuth {
        pub(crate) auth: Auth,
        pub(crate) cookies: Cookies,
        /// Who sent it, found by the session layer (or on first need).
        pub(crate) visitor: Visitor,
        /// Marked when something reads who sent it: the answer is then personal.
        pub(crate) personal: Option<crate::middleware::Personal>,
    }

    tokio::task_local! {
        /// The request being handled, for code that has neither Leptos's context nor the
        /// request's parts (`auth::tokens()` in a plain axum handler).
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
        pub(crate) async fn found(&self) -> crate::session::Found {
            self.visitor.found(&self.auth, &self.cookies).await
        }

        async fn user(&self) -> Option<User> {
            Some(self.found().await.user).filter(User::is_logged_in)
        }
    }

    /// The [`RequestAuth`] of a request. Whatever asks for it depends on who is signed in:
    /// its answer is not cached.
    pub(crate) fn auth_of(parts: &http::request::Parts) -> Option<RequestAuth> {
        let personal = parts
            .extensions
            .get::<crate::middleware::Personal>()
            .cloned();
        if let Some(personal) = &personal {
            personal.mark();
        }
        let auth = parts.extensions.get::<Auth>().cloned();
        let cookies = parts.extensions.get::<Cookies>().cloned();
        if auth.is_none() || cookies.is_none() {
            // Also true while leptos_axum renders the app once at start-up to list its routes.
            tracing::debug!("no Auth in this request: is `auth.install(router)` missing?");
        }
        Some(RequestAuth {
            auth: auth?,
            cookies: cookies?,
            visitor: parts
                .extensions
                .get::<Visitor>()
                .cloned()
                .unwrap_or_default(),
            personal,
        })
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
            let error = AuthError::NotSignedIn;
            if let Some(response) = use_context::<ResponseOptions>() {
                response.set_status(error.status());
            }
            error
        })
    }

    /// `async fn handler(user: auth::User)` answers 401 to anyone not signed in;
    /// `Option<auth::User>` lets everyone in. Both need the layers of `Auth::install`.
    impl<S: Send + Sync> FromRequestParts<S> for User {
        type Rejection = NotSignedIn;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            match auth_of(parts) {
                Some(request) => request.user().await.ok_or(NotSignedIn),
                None => Err(NotSignedIn),
            }
        }
    }

    impl<S: Send + Sync> OptionalFromRequestParts<S> for User {
        type Rejection = std::convert::Infallible;

        async fn from_request_parts(
            parts: &mut Parts,
            _: &S,
        ) -> Result<Option<Self>, Self::Rejection> {
            Ok(match auth_of(parts) {
                Some(request) => request.user().await,
                None => None,
            })
        }
    }

    /// The [`User`] extractor's refusal: 401, saying so as `require_user` does.
    #[derive(Debug)]
    pub struct NotSignedIn;

    impl IntoResponse for NotSignedIn {
        fn into_response(self) -> Response {
            AuthError::NotSignedIn.into_response()
        }
    }
}
