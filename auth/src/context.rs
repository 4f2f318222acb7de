//! `use_user()`: the visitor, read once per page load.
use leptos::prelude::*;

use crate::User;

/// Call once at the root of the app, inside the component tree (before any `use_user()`).
///
/// On the server it reads the identity cookie of the request being rendered; the result is
/// written into the page, and the browser reads it back while hydrating instead of asking
/// again. A tab keeps this user until it loads a page again, as a Streamlit session does.
pub fn provide_user() {
    let user = SharedValue::new(user_of_this_request).into_inner();
    provide_context(user);
}

/// The visitor of this page load; signed out if nobody is (or `provide_user` was not called).
pub fn use_user() -> User {
    use_context::<User>().unwrap_or_default()
}

#[cfg(feature = "ssr")]
fn user_of_this_request() -> User {
    match server::request_auth() {
        Some((auth, cookies)) => auth.user(&cookies),
        None => User::default(),
    }
}

/// In the browser the value comes from the page; this runs only when rendering client-side
/// without server data, where nobody can be known.
#[cfg(not(feature = "ssr"))]
fn user_of_this_request() -> User {
    User::default()
}

/// Server functions that need a signed-in user start with this.
#[cfg(feature = "ssr")]
pub mod server {
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_cookies::Cookies;

    use crate::{Auth, AuthError, User};

    /// The [`Auth`] and cookies of the request being handled, from the layers `Auth::install` adds.
    pub(crate) fn request_auth() -> Option<(Auth, Cookies)> {
        let parts = use_context::<http::request::Parts>()?;
        let auth = parts.extensions.get::<Auth>().cloned();
        let cookies = parts.extensions.get::<Cookies>().cloned();
        if auth.is_none() || cookies.is_none() {
            tracing::error!(
                "use_user()/require_user(): the router is missing `auth.install(router)`"
            );
        }
        Some((auth?, cookies?))
    }

    /// The user this request's cookie names, read afresh (not the page's `use_user()`), so a
    /// tab still showing a signed-out user cannot act as them. Sets status 401 when nobody is
    /// signed in.
    pub async fn require_user() -> Result<User, AuthError> {
        let user = request_auth()
            .map(|(auth, cookies)| auth.user(&cookies))
            .filter(User::is_logged_in);
        user.ok_or_else(|| {
            if let Some(response) = use_context::<ResponseOptions>() {
                response.set_status(http::StatusCode::UNAUTHORIZED);
            }
            AuthError::NotSignedIn
        })
    }
}
