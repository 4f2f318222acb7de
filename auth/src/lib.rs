//! Sign-in for Leptos apps, the way Streamlit does it.
//!
//! - `<LoginButton/>` (or the [`login`] server function) sends the visitor to their OpenID
//!   provider; [`use_user()`] says who they are; `<LogoutButton/>` ([`logout`]) forgets them.
//! - On the server, [`Auth`] reads the `[auth]` configuration and `auth.install(router)` adds
//!   the `/oauth2callback` route; [`require_user`] guards server functions.
//!
//! A sign-in from button to cookie: [`components`] → [`server_fns`] → `routes` (the callback).
pub mod components;
pub mod context;
mod error;
mod guards;
pub mod server_fns;
mod user;

#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod cookies;
#[cfg(feature = "dev-idp")]
pub mod dev_idp;
#[cfg(feature = "ssr")]
mod flow;
#[cfg(feature = "ssr")]
mod hooks;
#[cfg(feature = "ssr")]
mod html;
#[cfg(feature = "ssr")]
mod log;
#[cfg(feature = "ssr")]
mod middleware;
#[cfg(feature = "ssr")]
pub mod oidc;
pub mod return_to;
#[cfg(feature = "ssr")]
mod routes;
#[cfg(feature = "ssr")]
mod service;

pub use components::{DevProviderBanner, LoginButton, LogoutButton};
#[cfg(feature = "ssr")]
pub use context::server::require_user;
pub use context::{provide_user, use_user};
pub use error::AuthError;
pub use guards::{LOGIN_PATH, LoginPage, RequireUser, ShowWhenSignedIn, is_signed_in, login_path};
#[cfg(feature = "ssr")]
pub use hooks::AuthEvent;
pub use return_to::local_path;
pub use server_fns::{Login, Logout, login, logout, sign_in};
#[cfg(feature = "ssr")]
pub use service::{Auth, SetupError};
pub use user::User;

/// A user's claims, as the provider sent them: names and JSON values.
pub type Claims = serde_json::Map<String, serde_json::Value>;
/// One claim's value.
pub use serde_json::Value as ClaimValue;
