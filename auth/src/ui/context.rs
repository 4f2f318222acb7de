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
            "leptos-login: use_user() found no user: call leptos_login::provide_user() once at the root of the \
             app (inside the component tree, before any use_user()); until then everyone looks \
             signed out"
        );
    });
}

#[cfg(feature = "ssr")]
fn this_request() -> PageAuth {
    match crate::server::acts::visitor::request_auth() {
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
