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

/// Whether sign-in goes through the embedded development provider.
#[derive(Clone, Copy, Debug, Default)]
pub struct DevProvider(pub bool);

/// Call once at the root of the app, inside the component tree (before any `use_user()`).
///
/// On the server it reads the identity cookie of the request being rendered; the result is
/// written into the page, and the browser reads it back while hydrating instead of asking
/// again. A tab keeps this user until it loads a page again, as a Streamlit session does.
pub fn provide_user() {
    let page = SharedValue::new(this_request).into_inner();
    provide_context(page.user);
    provide_context(DevProvider(page.dev_provider));
}

/// The visitor of this page load; signed out if nobody is (or `provide_user` was not called).
pub fn use_user() -> User {
    use_context::<User>().unwrap_or_default()
}

#[cfg(feature = "ssr")]
fn this_request() -> PageAuth {
    match server::request_auth() {
        Some((auth, cookies)) => PageAuth {
            user: auth.user(&cookies),
            dev_provider: auth.dev_provider_active(),
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
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_cookies::Cookies;

    use crate::{Auth, AuthError, User};

    /// The [`Auth`] and cookies of the request being handled, from the layers `Auth::install`
    /// adds. Whatever asks for them depends on who is signed in: its answer is not cached.
    pub(crate) fn request_auth() -> Option<(Auth, Cookies)> {
        let parts = use_context::<http::request::Parts>()?;
        if let Some(personal) = parts.extensions.get::<crate::middleware::Personal>() {
            personal.mark();
        }
        let auth = parts.extensions.get::<Auth>().cloned();
        let cookies = parts.extensions.get::<Cookies>().cloned();
        if auth.is_none() || cookies.is_none() {
            // Also true while leptos_axum renders the app once at start-up to list its routes.
            tracing::debug!("no Auth in this request: is `auth.install(router)` missing?");
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
            let error = AuthError::NotSignedIn;
            if let Some(response) = use_context::<ResponseOptions>() {
                response.set_status(error.status());
            }
            error
        })
    }
}
