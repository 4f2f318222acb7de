//! Sign-in for Leptos apps, as easy as Streamlit's `st.login()`: a [`LoginButton`] sends the
//! visitor to an OpenID Connect provider, [`use_user()`] says who they are, a
//! [`LogoutButton`] forgets them.
//!
//! # Using it in an app
//!
//! Add the crate with the app's features: `auth = { …, features = ["hydrate"] }` for the
//! browser build, `["ssr"]` for the server's, and `"dev-idp"` for a working sign-in with no
//! configuration in debug builds. Then four steps:
//!
//! 1. At the root of the component tree, once: [`provide_user()`].
//! 2. Anywhere: [`use_user()`] returns the [`User`] of this page load, at no cost (it came
//!    with the page); [`LoginButton`] and [`LogoutButton`] are forms that work before
//!    hydration and without JavaScript.
//! 3. Pages for members only: [`RequireUser`] (sends anyone else to [`LoginPage`] and back),
//!    [`ShowWhenSignedIn`], or `leptos_router`'s `ProtectedRoute` with [`is_signed_in`] and
//!    [`login_path`]. Server code: `require_user().await?` in a server function, a `User`
//!    argument in an axum handler (401 otherwise), `Option<User>` where anyone may come.
//! 4. In `main`: `let auth = Auth::from_env()?;` (the `[auth]` table of `secrets.toml`, the
//!    `AUTH_*` variables), then `auth.install(router)` adds the callback route and the layers.
//!
//! Sessions live where `session_store` says: in the identity cookie alone (the default, as
//! Streamlit), or in a SQLite file or Redis (`"sqlite:PATH"`, `"redis://HOST:PORT/DB"`), where
//! [`logout`] ends them for every copy of the cookie and [`logout_everywhere`] for every
//! browser of the account. The code above is the same in every mode.
//!
//! ```
//! use leptos::prelude::*;
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     auth::provide_user();
//!     view! { <Greeting /> }
//! }
//!
//! #[component]
//! fn Greeting() -> impl IntoView {
//!     let user = auth::use_user();
//!     if user.is_logged_in() {
//!         let name = user.name().unwrap_or("there").to_owned();
//!         view! { <p>"Hello, " {name} "!"</p> <auth::LogoutButton /> }.into_any()
//!     } else {
//!         view! { <auth::LoginButton /> }.into_any()
//!     }
//! }
//!
//! /// A claim of the app's own, typed.
//! fn groups(user: &auth::User) -> Vec<String> {
//!     user.claim("groups").unwrap_or_default()
//! }
//! # assert!(groups(&auth::User::default()).is_empty());
//! ```
//!
//! The server side (feature `ssr`):
//!
//! ```no_run
//! # #[cfg(feature = "ssr")]
//! # mod server {
//! use axum::{Router, routing::get};
//!
//! async fn me(user: auth::User) -> String {
//!     format!("You are {}", user.name().unwrap_or("someone"))
//! }
//!
//! pub fn router() -> Result<Router, auth::SetupError> {
//!     let auth = auth::Auth::from_env()?.on_sign_in(|event| {
//!         tracing::info!(user = ?event.user.id(), "signed in");
//!     });
//!     Ok(auth.install(Router::new().route("/api/me", get(me))))
//! }
//! # }
//! ```
//!
//! # How it is built
//!
//! The modules of `auth/src` import downward only, in this order (`auth/tests/layers.rs`
//! holds it and fails on any import that runs up, so there is no circle):
//! - the Leptos side: `guards.rs` → `components.rs` → `server_fns.rs` (the `#[server]`
//!   functions), `context.rs` (`use_user()`);
//! - the HTTP layer: `install.rs` (`auth.install`) → `routes.rs` (the callback),
//!   `middleware.rs` (the rules every request meets, and finding its visitor);
//! - the acts: `flow.rs` (sign-in), `logout.rs` (every sign-out), `tokens.rs` (tokens for
//!   server code);
//! - `visitor.rs`: who sent the request being handled, as everything above asks it;
//! - `service.rs`: `Auth`, what one server process knows (configuration, keys, providers,
//!   sessions, hooks), with `dev_slot.rs` and `hooks.rs`;
//! - `session.rs` and `session/`: who is signed in and how long, in the cookie or a store
//!   (`store.rs` the trait, `guarded.rs` the store in use, `sqlite.rs`, `redis.rs`,
//!   `memory.rs`);
//! - `dev_idp/` (the development provider), `cookies.rs` (sealing), `oidc.rs` and `oidc/`
//!   (the protocol: discovery and keys, the ID token, tokens and refresh, logout tokens),
//!   `config.rs` (the `[auth]` table);
//! - shared by all: `body.rs`, `html.rs`, `log.rs`, `return_to.rs`, `error.rs`, `user.rs`.
//!
//! Four read paths, each in four files (`auth/tests/layers.rs` checks that each file holds
//! what it is named for):
//! - **A sign-in**, button to cookie and back: `components.rs` (`LoginButton`) →
//!   `server_fns.rs` (`login`) → `flow.rs` (`start_login`, `finish_login`) → `session.rs`
//!   (`begin`).
//! - **How a request's visitor is found**: `install.rs` (`install`) → `middleware.rs`
//!   (`find_visitor`) → `visitor.rs` (`found`) → `session.rs` (`identify`).
//! - **A token refresh**: `tokens.rs` (`tokens`, `fresh`) → `session.rs` (`fresh_tokens`) →
//!   `oidc.rs` (`refresh`) → `oidc/token_set.rs` (`needs_refresh`, `margin`).
//! - **A back-channel logout**: `logout.rs` (`backchannel_router`, `backchannel_logout`,
//!   `end_sessions_of`) → `oidc/logout_token.rs` (`verify_logout_token`) →
//!   `session/guarded.rs` (`try_lock`, `remove_group`) → `session/store.rs` (`SessionStore`).
#![warn(missing_docs)]

mod components;
mod context;
mod error;
mod guards;
mod return_to;
mod server_fns;
mod user;

#[cfg(feature = "ssr")]
mod body;
#[cfg(feature = "ssr")]
#[allow(missing_docs)]
mod config;
#[cfg(feature = "ssr")]
mod cookies;
#[cfg(feature = "dev-idp")]
mod dev_idp;
#[cfg(feature = "ssr")]
mod dev_slot;
#[cfg(feature = "ssr")]
mod flow;
#[cfg(feature = "ssr")]
mod hooks;
#[cfg(feature = "ssr")]
mod html;
#[cfg(feature = "ssr")]
mod install;
#[cfg(feature = "ssr")]
mod log;
#[cfg(feature = "ssr")]
mod logout;
#[cfg(feature = "ssr")]
mod middleware;
// Internals: reachable from outside only through the hidden `testing` module.
#[cfg(feature = "ssr")]
#[allow(missing_docs)]
mod oidc;
#[cfg(feature = "ssr")]
mod routes;
#[cfg(feature = "ssr")]
mod service;
#[cfg(feature = "ssr")]
mod session;
#[cfg(all(test, feature = "ssr"))]
mod test_support;
#[cfg(feature = "ssr")]
mod tokens;
#[cfg(feature = "ssr")]
mod visitor;

pub use components::{DevProviderBanner, LoginButton, LogoutButton};
pub use context::{provide_user, use_user};
pub use error::AuthError;
pub use guards::{LOGIN_PATH, LoginPage, RequireUser, ShowWhenSignedIn, is_signed_in, login_path};
pub use return_to::local_path;
pub use server_fns::{Login, Logout, LogoutEverywhere, login, logout, logout_everywhere, sign_in};
pub use user::{Claims, User};
#[cfg(feature = "ssr")]
pub use visitor::{NotSignedIn, require_user};
#[cfg(feature = "ssr")]
pub use {
    config::ConfigError,
    hooks::AuthEvent,
    service::Auth,
    service::SetupError,
    tokens::{Tokens, tokens, userinfo},
};

/// Where sessions are kept: the [`store::SessionStore`] trait, for a store of the app's own,
/// and the in-memory store; with feature `conformance`, the suite a store must pass.
#[cfg(feature = "ssr")]
pub mod store {
    #[cfg(feature = "conformance")]
    pub use crate::session::conformance;
    pub use crate::session::{Group, MemoryStore, Record, SessionStore, StoreError};
    /// The attribute a [`SessionStore`] implementation is written with.
    pub use async_trait::async_trait;
}

/// One claim's value.
pub use serde_json::Value as ClaimValue;

/// Internals for this crate's own integration tests and fuzzing (`auth/tests/`); not an API.
#[doc(hidden)]
#[cfg(feature = "ssr")]
pub mod testing {
    pub use crate::config::{
        AuthConfig, ProviderConfig, Secret, SessionConfig, StoreConfig, from_sources,
    };
    pub use crate::cookies::{CookieCodec, LoginState, MAX_COOKIE_BYTES, SealError};
    pub use crate::oidc::{
        Clock, Completion, DEFAULT_MAX_AGE, DISCOVERY_RETRY_AFTER, JWKS_REFETCH_COOLDOWN,
        OidcError, Provider, RefreshPolicy,
    };
    pub use crate::oidc::{
        LOGOUT_TOKEN_MAX_AGE, LOGOUT_TOKEN_REPLAY_WINDOW, LogoutClaims, LogoutTokenError,
    };
    pub use crate::oidc::{RefreshError, TokenSet};
    pub use crate::return_to::{referer_path, same_site_path};
    pub use crate::session::{
        Account, Found, Group, Record, Sessions, Store, StoreError, WallClock, owner_of,
    };
}
