//! The errors the sign-in server functions (and `require_user`) return to the browser.
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// Why a sign-in server function refused; its text is fit to show the visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AuthError {
    /// The request carries no valid identity cookie.
    #[error("You are not signed in.")]
    NotSignedIn,
    /// The server runs without an `[auth]` configuration.
    #[error("Sign-in is not configured on this server: add an [auth] table to its secrets file.")]
    NotConfigured,
    /// The chosen provider does not exist or cannot be reached; the text says which.
    #[error("{0}")]
    Provider(String),
    /// The server function call itself failed (network, encoding).
    #[error("{0}")]
    Request(String),
}

impl FromServerFnError for AuthError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Request(value.to_string())
    }
}
