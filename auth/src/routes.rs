//! The one route sign-in adds to an app: the provider's redirect back (`/oauth2callback`).
use axum::{
    Extension, Router,
    extract::{Query, rejection::QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_cookies::Cookies;

use crate::{
    Auth, User,
    cookies::{LoginState, TooLarge},
    html,
    log::{clip, one_line, outside_field},
    oidc::{Completion, OidcError},
};

/// At most this much of a provider's `error_description` is shown to the visitor.
const MAX_DESCRIPTION_CHARS: usize = 300;

pub(crate) fn callback_router(path: &str) -> Router {
    Router::new().route(path, get(callback))
}

/// What a provider may put on the redirect back (RFC 6749 §4.1.2).
#[derive(Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// RFC 9207: which provider sent the visitor back, against mix-up attacks.
    iss: Option<String>,
}

/// Why a callback did not sign anyone in. `Display` is for the log; the page says less.
#[derive(Debug, thiserror::Error)]
enum CallbackFailure {
    #[error("malformed callback query: {0}")]
    BadQuery(String),
    #[error(
        "the provider returned error={} error_description={}",
        outside_field(error),
        description.as_deref().map(outside_field).unwrap_or_default()
    )]
    ProviderSaidNo {
        error: String,
        description: Option<String>,
    },
    #[error("no state in the callback")]
    MissingState,
    #[error("no login under way for this state (no login-state cookie, or it did not open)")]
    UnknownState,
    #[error("no code in the callback")]
    MissingCode,
    #[error("the provider of this login is no longer configured")]
    ProviderGone,
    #[error("the callback names issuer {0:?}, not the provider this login went to")]
    WrongIssuer(String),
    #[error("{0}")]
    Oidc(#[from] OidcError),
    #[error("{0}")]
    TooLarge(#[from] TooLarge),
}

impl CallbackFailure {
    fn status(&self) -> StatusCode {
        match self {
            Self::Oidc(error) => error.status(),
            Self::TooLarge(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether this browser's own login failed (its login-state cookie matched), rather than
    /// a request nobody here started: those are always logged, the rest rate-limited.
    fn own_login(&self) -> bool {
        !matches!(
            self,
            Self::BadQuery(_) | Self::MissingState | Self::UnknownState
        )
    }

    /// The kind, for rate-limiting the log lines of requests nobody here started.
    fn kind(&self) -> &'static str {
        match self {
            Self::BadQuery(_) => "malformed callback",
            Self::MissingState => "callback without state",
            Self::UnknownState => "callback for no login under way",
            _ => "failed login",
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::ProviderSaidNo { error, description } => {
                let said = |text: &str| {
                    clip(text, MAX_DESCRIPTION_CHARS)
                        .map(|start| format!("{start}…"))
                        .unwrap_or_else(|| text.to_owned())
                };
                match description {
                    Some(description) => format!(
                        "The sign-in provider said: {}: {}",
                        said(error),
                        said(description)
                    ),
                    None => format!("The sign-in provider said: {}", said(error)),
                }
            }
            Self::BadQuery(_) | Self::MissingState | Self::MissingCode | Self::WrongIssuer(_) => {
                "This is not a valid sign-in response. Please start again.".to_owned()
            }
            Self::UnknownState => {
                "This sign-in has expired or was already used. Please start again.".to_owned()
            }
            Self::ProviderGone => "This sign-in provider is no longer available.".to_owned(),
            Self::Oidc(error) => error.public_message().to_owned(),
            Self::TooLarge(_) => {
                "Your account's profile is too large for this app's sign-in cookie.".to_owned()
            }
        }
    }
}

async fn callback(
    Extension(auth): Extension<Auth>,
    cookies: Cookies,
    params: Result<Query<CallbackParams>, QueryRejection>,
) -> Response {
    let mut response = match finish_login(&auth, &cookies, params).await {
        Ok(return_to) => Redirect::to(&return_to).into_response(),
        // The back button to a used callback, by someone signed in: nothing is wrong.
        Err(CallbackFailure::UnknownState) if auth.user(&cookies).is_logged_in() => {
            Redirect::to("/").into_response()
        }
        Err(failure) => {
            log_failure(&auth, &failure);
            html::error_page(
                failure.status(),
                "Sign-in failed",
                &failure.public_message(),
                "/",
            )
        }
    };
    // The callback's URL holds a code and state: no page it leads to learns it.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A failure of this browser's own login is always logged; callbacks nobody here started
/// (scanners, floods, stale bookmarks) at most once a minute per kind, with a count.
fn log_failure(auth: &Auth, failure: &CallbackFailure) {
    let line = one_line(&failure.to_string());
    if failure.own_login() {
        tracing::warn!("sign-in failed: {line}");
    } else if let Some(suppressed) = auth
        .log_throttle()
        .admit(failure.kind(), std::time::Instant::now())
    {
        tracing::warn!("sign-in failed: {line} ({suppressed} more like it not logged)");
    }
}

/// Checks the callback against the login-state cookie, finishes the login with the provider
/// and writes the identity cookie. Returns the path to send the visitor back to.
async fn finish_login(
    auth: &Auth,
    cookies: &Cookies,
    params: Result<Query<CallbackParams>, QueryRejection>,
) -> Result<String, CallbackFailure> {
    let Query(params) =
        params.map_err(|rejection| CallbackFailure::BadQuery(rejection.body_text()))?;
    let state = params.state.ok_or(CallbackFailure::MissingState)?;
    // One use only: whatever happens next, this login is over.
    let login = take_login_state(auth, cookies, &state);
    // The provider's words are shown only for a login this browser started: otherwise any
    // link could put text of its choosing on a page of this site.
    if let (Some(error), Some(_)) = (&params.error, &login) {
        return Err(CallbackFailure::ProviderSaidNo {
            error: error.clone(),
            description: params.error_description,
        });
    }
    let login = login.ok_or(CallbackFailure::UnknownState)?;
    let code = params.code.ok_or(CallbackFailure::MissingCode)?;
    let provider = auth
        .provider_named(login.provider.as_deref())
        .ok_or(CallbackFailure::ProviderGone)?;
    if let Some(iss) = params.iss
        && iss != provider.config().issuer
    {
        return Err(CallbackFailure::WrongIssuer(iss));
    }
    let claims = provider
        .complete(Completion {
            code,
            pkce_verifier: login.pkce_verifier,
            nonce: &login.nonce,
        })
        .await?;
    let user = User::signed_in(claims, login.provider);
    let cookie = auth
        .codec()
        .identity_cookie(&user, OffsetDateTime::now_utc())?;
    cookies.add(cookie);
    tracing::info!(provider = %provider.config().label(), "signed in");
    Ok(login.return_to)
}

/// Opens the login-state cookie for `state` and tells the browser to drop it.
fn take_login_state(auth: &Auth, cookies: &Cookies, state: &str) -> Option<LoginState> {
    let codec = auth.codec();
    let name = codec.login_state_name(state)?;
    let cookie = cookies.get(&name)?.into_owned();
    cookies.add(codec.removal(&name));
    codec.open_login_state(&cookie, state, OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests;
