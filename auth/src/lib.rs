//! Sign-in for Leptos apps, as easy as Streamlit's `st.login()`: a [`LoginButton`] sends the
//! visitor to an OpenID Connect provider, [`use_user()`] says who they are, a
//! [`LogoutButton`] forgets them.
//!
//! # Using it in an app
//!
//! cargo-leptos builds an app twice, its server with the app's feature `ssr` and its browser
//! bundle with `hydrate`; the app's features pass them on, so each build gets its own side:
//!
//! ```toml
//! [dependencies]
//! leptos-login = "0.1"
//!
//! [features]
//! hydrate = ["leptos-login/hydrate", "leptos/hydrate"]
//! ssr = ["leptos-login/ssr", "leptos-login/dev-idp", "leptos/ssr", "leptos_router/ssr"]
//! ```
//!
//! Not `features = ["ssr"]` on the dependency: that holds for both builds, and would put the
//! server side (openidconnect, the crypto, the stores) into the wasm. `dev-idp` gives a debug
//! build with no configuration a working sign-in. Then four steps:
//!
//! 1. At the root of the component tree, once: [`provide_user()`].
//! 2. Anywhere: [`use_user()`] returns the [`User`] of this page load, at no cost (it came
//!    with the page); [`LoginButton`] and [`LogoutButton`] are forms that work before
//!    hydration and without JavaScript.
//! 3. Pages for members only: [`RequireUser`] (sends anyone else to [`LoginPage`] and back),
//!    [`ShowWhenLoggedIn`], or `leptos_router`'s `ProtectedRoute` with [`ui::is_logged_in`] and
//!    [`ui::login_path`]. Server code: `require_user().await?` in a server function, a `User`
//!    argument in an axum handler (401 otherwise), `Option<User>` where anyone may come.
//! 4. In `main`: `let auth = Auth::from_env()?;` (the `[auth]` table of `secrets.toml`, the
//!    `AUTH_*` variables), then `auth.install(router)` adds the callback route and the layers.
//!
//! Sessions live where `session_store` says: in the identity cookie alone (the default, as
//! Streamlit), or in a SQLite file, Redis or Postgres (`"sqlite:PATH"`, `"redis://HOST:PORT/DB"`
//! (`rediss://` for TLS, `redis+sentinel://` behind Sentinels),
//! `"postgres://USER:PASSWORD@HOST:PORT/DB"` with the feature `postgres`), where
//! [`logout`] ends them for every copy of the cookie and [`logout_everywhere`] for every
//! browser of the account, [`ui::sessions`] lists them ("Where you're signed in") and
//! [`ui::end_session`] ends one. The code above is the same in every mode. A store of the app's
//! own implements [`store::SessionStore`].
//!
//! The root holds what most apps name; the rest of the Leptos side is in [`ui`] (the
//! development provider's banner, the login path for `ProtectedRoute`, `go_to_login` from
//! code, the server functions' types), and the rest of the server's in [`server`] (setup
//! errors, hook events, the extractors' types).
//!
//! ```
//! use leptos::prelude::*;
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     leptos_login::provide_user();
//!     view! { <Greeting /> }
//! }
//!
//! #[component]
//! fn Greeting() -> impl IntoView {
//!     let user = leptos_login::use_user();
//!     if user.is_logged_in() {
//!         let name = user.name().unwrap_or("there").to_owned();
//!         view! { <p>"Hello, " {name} "!"</p> <leptos_login::LogoutButton /> }.into_any()
//!     } else {
//!         view! { <leptos_login::LoginButton /> }.into_any()
//!     }
//! }
//!
//! /// A claim of the app's own, typed.
//! fn groups(user: &leptos_login::User) -> Vec<String> {
//!     user.claim("groups").unwrap_or_default()
//! }
//! # assert!(groups(&leptos_login::User::default()).is_empty());
//! ```
//!
//! The server side (feature `ssr`):
//!
//! ```no_run
//! # #[cfg(feature = "ssr")]
//! # mod server {
//! use axum::{Router, routing::get};
//!
//! async fn me(user: leptos_login::User) -> String {
//!     format!("You are {}", user.name().unwrap_or("someone"))
//! }
//!
//! pub fn router() -> Result<Router, leptos_login::server::SetupError> {
//!     let auth = leptos_login::Auth::from_env()?.on_login(|event| {
//!         tracing::info!(user = ?event.user.id(), "signed in");
//!     });
//!     Ok(auth.install(Router::new().route("/api/me", get(me))))
//! }
//! # }
//! ```
//!
//! # How it is built
//!
//! Layers, each importing only those below it, and a folder for each (`auth-tests/tests/layers.rs`
//! holds the order and fails on any import that runs up, so there is no circle). Why this
//! order: what the browser needs stands apart from what only the server may know, and on the
//! server each layer is one question, asked of the ones below it.
//! - `ui/`, the Leptos side, in the browser and on the server: `guards.rs` → `components.rs`
//!   → `server_fns.rs` (the `#[server]` functions) → `context.rs` (`use_user()`);
//! - `server/`, behind one `ssr` gate:
//!   - `http/`: `install.rs` (`auth.install`) → `routes.rs` (the callback, logout) →
//!     `middleware.rs` (the rules every request meets, and finding its visitor);
//!   - `acts/`: `login.rs`, `logout.rs` (every kind, and the list of sessions it ends one
//!     of), `tokens.rs` (tokens for server code),
//!     and `visitor.rs` (who sent the request being handled, as each act asks it);
//!   - `auth/`: `Auth`, what one server process knows (configuration, keys, providers,
//!     sessions, hooks);
//!   - `session/`: who is signed in and how long, in the cookie or a store (`guarded.rs`
//!     the store in use, behind its timeouts), with `store/` beneath: the `SessionStore`
//!     trait and its backends (`memory.rs`, `sqlite.rs`, `redis.rs`, `postgres.rs`,
//!     `conformance.rs`);
//!   - `dev_idp/` (the development provider), `sealing/` (the sealed cookies), `protocol/`
//!     (OpenID Connect: discovery and keys, the ID token, tokens and refresh, DPoP proofs,
//!     logout tokens), `config/` (the `[auth]` table), and what they all share (`body.rs`,
//!     `html.rs`, `log.rs`);
//! - shared by both sides: `login_params.rs` (what one login may ask of the provider),
//!   `return_to.rs`, `session_info.rs` (a line of "Where you're signed in"), `error.rs`,
//!   `user.rs`.
//!
//! Four read paths, each in four files (`auth-tests/tests/layers.rs` checks that each file holds
//! what it is named for):
//! - **A sign-in**, button to cookie and back: `ui/components.rs` (`LoginButton`) →
//!   `ui/server_fns.rs` (`login`) → `server/acts/login.rs` (`start_login`, `finish_login`) →
//!   `server/session/mod.rs` (`begin`).
//! - **How a request's visitor is found**: `server/http/install.rs` (`install`) →
//!   `server/http/middleware.rs` (`find_visitor`) → `server/acts/visitor.rs` (`found`) →
//!   `server/session/mod.rs` (`identify`).
//! - **A token refresh**: `server/acts/tokens.rs` (`tokens`, `fresh`) →
//!   `server/session/mod.rs` (`fresh_tokens`) → `server/protocol/mod.rs` (`refresh`) →
//!   `server/protocol/token_set.rs` (`needs_refresh`, `margin`).
//! - **A back-channel logout**: `server/acts/logout.rs` (`backchannel_router`,
//!   `backchannel_logout`, `end_sessions_of`) → `server/protocol/logout_token.rs`
//!   (`verify_logout_token`) → `server/session/guarded.rs` (`try_lock`, `remove_group`) →
//!   `server/session/store/mod.rs` (`SessionStore`).
#![warn(missing_docs)]

mod error;
mod login_params;
mod return_to;
mod session_info;
pub mod ui;
mod user;

/// The server side (feature `ssr`), behind one gate: none of it reaches the browser bundle.
/// What an app names from it beyond the root's [`Auth`], [`require_user`], [`tokens`] and
/// [`userinfo`]: the errors of setting up, the events hooks hear, the extractors' types.
#[cfg(feature = "ssr")]
pub mod server;

pub use error::AuthError;
#[cfg(feature = "ssr")]
pub use server::{Auth, require_user, tokens, userinfo};
pub use ui::{
    LoginButton, LoginPage, LogoutButton, RequireUser, ShowWhenLoggedIn, login, logout,
    logout_everywhere, provide_user, use_user,
};
pub use user::{Claims, User};

/// Where sessions are kept: the [`store::SessionStore`] trait, for a store of the app's own,
/// and the in-memory store; with feature `conformance`, the suite a store must pass.
#[cfg(feature = "ssr")]
pub mod store {
    #[cfg(feature = "conformance")]
    pub use crate::server::session::conformance;
    pub use crate::server::session::{Group, MemoryStore, Record, SessionStore, StoreError};
    /// The attribute a [`SessionStore`] implementation is written with.
    pub use async_trait::async_trait;
}

/// Internals for this crate's own integration tests and fuzzing (`auth-tests/tests/`); not an API.
#[doc(hidden)]
#[cfg(feature = "ssr")]
pub mod testing {
    pub use crate::return_to::{referer_path, same_site_path};
    pub use crate::server::config::{
        AssertionAudience, AuthMethod, ClientAuth, ClientKey, ProviderConfig, Secret,
        SessionConfig, StoreConfig, from_sources,
    };
    pub use crate::server::protocol::{
        ASSERTION_LIFETIME, ASSERTION_TYPE, Clock, Completion, DEFAULT_MAX_AGE,
        DISCOVERY_RETRY_AFTER, JWKS_REFETCH_COOLDOWN, OidcError, Provider, RefreshPolicy,
    };
    pub use crate::server::protocol::{LOGOUT_TOKEN_MAX_AGE, LogoutClaims, LogoutTokenError};
    pub use crate::server::protocol::{
        MAX_PAR_ANSWER_BYTES, MAX_REQUEST_URI_BYTES, MAX_SHOWN_REFUSAL_CHARS,
    };
    pub use crate::server::protocol::{RefreshError, TokenSet};
    pub use crate::server::sealing::{CookieCodec, LoginState, MAX_COOKIE_BYTES, SealError};
    pub use crate::server::session::{Account, Found, Sessions, WallClock};
}
