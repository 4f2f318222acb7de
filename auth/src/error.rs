//! The errors the sign-in server functions (and `require_user`) return to the browser, and
//! the one place that gives each its HTTP status.
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// Why a sign-in server function refused; its text is fit to show the visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AuthError {
    /// The request carries no valid identity cookie.
    // The wire names (serde, `code()`) stay as they were: browsers and clients read them.
    #[error("You are not signed in.")]
    #[serde(rename = "NotSignedIn")]
    NotLoggedIn,
    /// The server runs without an `[auth]` configuration.
    #[error("Sign-in is not configured on this server: add an [auth] table to its secrets file.")]
    NotConfigured,
    /// `login` named a provider this site does not have; the text lists the choices.
    #[error("{0}")]
    UnknownProvider(String),
    /// The request to the server function was malformed (arguments that do not parse, a body
    /// that is not text); the text says what.
    #[error("{0}")]
    BadRequest(String),
    /// The login began at another host than the one the provider sends it back to
    /// (`localhost` against `127.0.0.1`), where its cookie would be missing; the text names
    /// both.
    #[error("{0}")]
    WrongAddress(String),
    /// The request's body is larger than any sign-in request can be.
    #[error("This sign-in request is too large.")]
    TooLarge,
    /// Another site's page asked to sign the visitor in or out (login/logout CSRF).
    #[error("Another site cannot sign you in or out here.")]
    CrossSite,
    /// The provider cannot be reached or is misconfigured; the text says which.
    #[error("{0}")]
    ProviderUnavailable(String),
    /// Listing or ending sessions elsewhere needs a session store; with the stateless cookie
    /// there is no list of sessions to end.
    #[error(
        "This needs sessions kept on the server (session_store in [auth]); this site keeps \
         them in each browser's cookie, so nothing was changed."
    )]
    NeedsSessionStore,
    /// `end_session` named no session of the signed-in account: unknown, ended already, or
    /// another account's (one answer for all, so it tells nothing about other accounts).
    #[error("There is no such session of yours.")]
    NoSuchSession,
    /// Server code asked for tokens this sign-in does not keep; the text says why.
    #[error("{0}")]
    NoTokens(String),
    /// The provider would not renew the session's tokens (revoked, expired): the session is
    /// over and the visitor signed out.
    #[error("Your sign-in has ended. Please sign in again.")]
    #[serde(rename = "SignInEnded")]
    LoginEnded,
    /// Signed in, but not recently or strongly enough for what was asked (step-up,
    /// `User::signed_in_within`, `User::with_acr`): signing in again lets them through; the
    /// text says so.
    #[error("{0}")]
    FreshLoginNeeded(String),
    /// The session store did not answer in time; the visitor can try again.
    #[error("Sessions cannot be reached right now. Please try again in a moment.")]
    StoreUnavailable,
    /// This server failed; the details are in its log.
    #[error("Sign-in failed on this server. Please try again.")]
    Internal,
    /// The browser could not reach the server function (network, decoding its answer).
    #[error("{0}")]
    Request(String),
}

impl AuthError {
    /// A short name for the kind of error, for a URL: a sign-in form posted without
    /// JavaScript that failed comes back to its page with `?auth_error=CODE`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotLoggedIn => "not_signed_in",
            Self::NotConfigured => "not_configured",
            Self::UnknownProvider(_) => "unknown_provider",
            Self::BadRequest(_) => "bad_request",
            Self::WrongAddress(_) => "wrong_address",
            Self::TooLarge => "too_large",
            Self::CrossSite => "cross_site",
            Self::ProviderUnavailable(_) => "provider",
            Self::NeedsSessionStore => "needs_session_store",
            Self::NoSuchSession => "no_such_session",
            Self::NoTokens(_) => "no_tokens",
            Self::LoginEnded => "sign_in_ended",
            Self::FreshLoginNeeded(_) => "fresh_login_needed",
            Self::StoreUnavailable => "store_unavailable",
            Self::Internal => "internal",
            Self::Request(_) => "request",
        }
    }

    /// The error a code stands for, with a fixed text: the URL says only which kind, so a
    /// link cannot put words of its choosing on the page.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "not_signed_in" => Self::NotLoggedIn,
            "not_configured" => Self::NotConfigured,
            "unknown_provider" => Self::UnknownProvider(
                "Sign-in could not start: this site has no such sign-in provider.".to_owned(),
            ),
            "bad_request" => {
                Self::BadRequest("Sign-in could not start: the request was malformed.".to_owned())
            }
            "wrong_address" => Self::WrongAddress(
                "Sign-in could not start: this sign-in began at another address than the one \
                 the sign-in provider returns to (localhost against 127.0.0.1, say). Open the \
                 site at the address its sign-in is set up for, and sign in there."
                    .to_owned(),
            ),
            "too_large" => Self::TooLarge,
            "cross_site" => Self::CrossSite,
            "provider" => Self::ProviderUnavailable(
                "Sign-in could not start: the sign-in provider cannot be reached right now. \
                 Please try again later."
                    .to_owned(),
            ),
            "needs_session_store" => Self::NeedsSessionStore,
            "no_such_session" => Self::NoSuchSession,
            "no_tokens" => Self::NoTokens("This sign-in holds no tokens.".to_owned()),
            "sign_in_ended" => Self::LoginEnded,
            "store_unavailable" => Self::StoreUnavailable,
            "internal" => Self::Internal,
            "request" => Self::Request("Sign-in could not start. Please try again.".to_owned()),
            _ => return None,
        })
    }

    /// The HTTP status this error is answered with.
    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            Self::NotLoggedIn | Self::LoginEnded | Self::FreshLoginNeeded(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::UnknownProvider(_) | Self::BadRequest(_) | Self::WrongAddress(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NoSuchSession => StatusCode::NOT_FOUND,
            Self::CrossSite => StatusCode::FORBIDDEN,
            Self::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::NeedsSessionStore | Self::NoTokens(_) => StatusCode::CONFLICT,
            Self::NotConfigured | Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal | Self::Request(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An axum handler may return `Result<_, AuthError>` (from `tokens()`, `userinfo()`, …): the
/// error leaves with its status and its text.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AuthError {
    fn into_response(self) -> axum::response::Response {
        (self.status(), self.to_string()).into_response()
    }
}

impl FromServerFnError for AuthError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server: the request's arguments did not parse.
            ServerFnErrorErr::Args(details)
            | ServerFnErrorErr::Deserialization(details)
            | ServerFnErrorErr::MissingArg(details) => {
                // Parser messages can quote the whole input back: keep what a person reads.
                let details: String = details.chars().take(200).collect();
                Self::BadRequest(format!("The sign-in request was malformed: {details}"))
            }
            ServerFnErrorErr::UnsupportedRequestMethod(method) => {
                Self::BadRequest(format!("Sign-in requests are POSTs, not {method}."))
            }
            other => Self::Request(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> [AuthError; 16] {
        [
            AuthError::NotLoggedIn,
            AuthError::NotConfigured,
            AuthError::UnknownProvider("details".to_owned()),
            AuthError::BadRequest("details".to_owned()),
            AuthError::WrongAddress("details".to_owned()),
            AuthError::TooLarge,
            AuthError::CrossSite,
            AuthError::ProviderUnavailable("details".to_owned()),
            AuthError::NeedsSessionStore,
            AuthError::NoSuchSession,
            AuthError::NoTokens("details".to_owned()),
            AuthError::LoginEnded,
            AuthError::FreshLoginNeeded("details".to_owned()),
            AuthError::StoreUnavailable,
            AuthError::Internal,
            AuthError::Request("details".to_owned()),
        ]
    }

    #[test]
    fn every_code_stands_for_its_kind() {
        // A step-up refusal never comes back in a URL (no sign-in form raises it), so the
        // browser bundle carries no text for its code.
        for error in every_kind()
            .into_iter()
            .filter(|error| !matches!(error, AuthError::FreshLoginNeeded(_)))
        {
            let back = AuthError::from_code(error.code()).expect("a known code");
            assert_eq!(back.code(), error.code());
        }
        assert_eq!(AuthError::from_code("<script>"), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn only_our_own_failures_are_5xx_and_the_visitors_are_4xx() {
        use http::StatusCode;
        let status = |error: AuthError| error.status();
        assert_eq!(status(AuthError::NotLoggedIn), StatusCode::UNAUTHORIZED);
        assert_eq!(status(AuthError::CrossSite), StatusCode::FORBIDDEN);
        assert_eq!(
            status(AuthError::UnknownProvider(String::new())),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(AuthError::BadRequest(String::new())),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status(AuthError::TooLarge), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            status(AuthError::ProviderUnavailable(String::new())),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(status(AuthError::NeedsSessionStore), StatusCode::CONFLICT);
        assert_eq!(status(AuthError::NoSuchSession), StatusCode::NOT_FOUND);
        assert_eq!(
            status(AuthError::StoreUnavailable),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(AuthError::Internal),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn arguments_that_do_not_parse_are_the_callers_fault() {
        let error = AuthError::from_server_fn_error(ServerFnErrorErr::Args(
            "invalid utf-8 sequence".repeat(100),
        ));
        let AuthError::BadRequest(text) = error else {
            panic!("expected BadRequest")
        };
        assert!(text.starts_with("The sign-in request was malformed: invalid utf-8"));
        assert!(text.chars().count() < 300, "{text}");
    }
}
