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

impl AuthError {
    /// A short name for the kind of error, for a URL: a login form posted without JavaScript
    /// comes back to its page with `?auth_error=CODE`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotSignedIn => "not_signed_in",
            Self::NotConfigured => "not_configured",
            Self::Provider(_) => "provider",
            Self::Request(_) => "request",
        }
    }

    /// The error a code stands for, with a fixed text: the URL says only which kind.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "not_signed_in" => Self::NotSignedIn,
            "not_configured" => Self::NotConfigured,
            "provider" => Self::Provider(
                "Sign-in could not start: the sign-in provider is unknown or cannot be reached \
                 right now. Please try again later."
                    .to_owned(),
            ),
            "request" => Self::Request("Sign-in could not start. Please try again.".to_owned()),
            _ => return None,
        })
    }
}

impl FromServerFnError for AuthError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Request(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_stands_for_its_kind() {
        for error in [
            AuthError::NotSignedIn,
            AuthError::NotConfigured,
            AuthError::Provider("details".to_owned()),
            AuthError::Request("details".to_owned()),
        ] {
            let back = AuthError::from_code(error.code()).expect("a known code");
            assert_eq!(back.code(), error.code());
        }
        assert_eq!(AuthError::from_code("<script>"), None);
    }
}
