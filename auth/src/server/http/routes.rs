//! The one route sign-in adds to an app: the provider's redirect back (`/oauth2callback`).
use axum::{
    Router,
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use tower_cookies::Cookies;

use crate::{
    Auth,
    server::acts::login::{CallbackFailure, CallbackParams, finish_login},
    server::html,
    server::log::{one_line, tell_developer},
};

pub(crate) fn callback_router(auth: &Auth) -> Router {
    Router::new()
        .route(auth.callback_path(), get(callback))
        .with_state(auth.clone())
}

async fn callback(
    State(auth): State<Auth>,
    cookies: Cookies,
    signed_in: Option<crate::User>,
    headers: axum::http::HeaderMap,
    params: Result<Query<CallbackParams>, QueryRejection>,
) -> Response {
    // For the list of where one is signed in: the browser is named from it, coarsely.
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    let mut response = match finish_login(&auth, &cookies, params, user_agent).await {
        Ok(return_to) => Redirect::to(&return_to).into_response(),
        // The back button to a used callback, by someone signed in: nothing is wrong.
        Err(CallbackFailure::UnknownState) if signed_in.is_some() => {
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
        tell_developer!(warn, "sign-in failed: {line}");
    } else if let Some(suppressed) = auth
        .log_throttle()
        .admit(failure.kind(), std::time::Instant::now())
    {
        tell_developer!(
            warn,
            "sign-in failed: {line} ({suppressed} more like it not logged)"
        );
    }
}

#[cfg(test)]
mod tests;
