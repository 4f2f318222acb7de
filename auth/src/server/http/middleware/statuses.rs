//! The app's own server functions and handlers: an `AuthError` they pass on from
//! `require_user()`, `tokens()` or `userinfo()` leaves with its status, for the
//! server-function client and for a form posted without JavaScript; the app's other errors
//! pass untouched.
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
    routing::{get, post},
};
use leptos::prelude::*;
use tower::ServiceExt as _;
use tower_cookies::Cookies;

use crate::{
    Auth, AuthError,
    server::session::Account,
    server::test_support::{alice, auth_with},
};

#[server(prefix = "/api", endpoint = "probe/require_user")]
async fn probe_require_user() -> Result<String, AuthError> {
    crate::require_user().await.map(|_| "signed in".to_owned())
}

// Anywhere under the app's prefix, however deep.
#[server(prefix = "/api/app/nested", endpoint = "tokens")]
async fn probe_tokens() -> Result<String, AuthError> {
    crate::tokens().await.map(|_| "tokens".to_owned())
}

#[server(prefix = "/api", endpoint = "probe/userinfo")]
async fn probe_userinfo() -> Result<String, AuthError> {
    crate::userinfo().await.map(|_| "claims".to_owned())
}

/// A page that needs a sign-in of the last minute (Alice's sign-in says no `auth_time`).
#[server(prefix = "/api", endpoint = "probe/step_up")]
async fn probe_step_up() -> Result<String, AuthError> {
    let user = crate::require_user()
        .await?
        .signed_in_within(std::time::Duration::from_secs(60))?;
    Ok(user.sub().unwrap_or_default().to_owned())
}

#[server(prefix = "/api", endpoint = "probe/own_error")]
async fn probe_own_error() -> Result<String, ServerFnError> {
    Err(ServerFnError::new("the app's own failure"))
}

/// An error longer than any `AuthError`.
#[server(prefix = "/api", endpoint = "probe/long_error")]
async fn probe_long_error() -> Result<String, ServerFnError> {
    Err(ServerFnError::new("x".repeat(100 * 1024)))
}

fn app(auth: &Auth) -> Router {
    auth.install(
        Router::new()
            .route("/api/{*fn_name}", post(leptos_axum::handle_server_fns))
            .route(
                "/handler/tokens",
                get(|| async { crate::tokens().await.map(|_| "tokens") }),
            )
            .route(
                "/handler/step_up",
                get(|user: crate::User| async move {
                    user.signed_in_within(std::time::Duration::from_secs(60))
                        .map(|_| "recent enough")
                }),
            )
            .route(
                "/handler/userinfo",
                get(|| async { crate::userinfo().await.map(|_| "claims") }),
            ),
    )
}

/// How the caller posts: as the server-function client, or as a form without JavaScript.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Client,
    PlainForm,
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    /// `WWW-Authenticate`, if any.
    challenge: Option<String>,
    body: String,
}

async fn post_fn(auth: &Auth, path: &str, caller: Caller, cookie: Option<&str>) -> Answer {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header(header::REFERER, "http://localhost:3000/reports?year=2026");
    request = match caller {
        Caller::Client => request.header(header::ACCEPT, "application/json"),
        Caller::PlainForm => request.header(header::ACCEPT, "text/html,application/xhtml+xml"),
    };
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    answer(auth, request.body(Body::empty()).expect("request")).await
}

async fn get_handler(auth: &Auth, path: &str, cookie: Option<&str>) -> Answer {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    answer(auth, request.body(Body::empty()).expect("request")).await
}

async fn answer(auth: &Auth, request: Request<Body>) -> Answer {
    let response = app(auth).oneshot(request).await.expect("infallible");
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Answer {
        status,
        location,
        challenge,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Alice's identity cookie, as a `Cookie` header, begun by `auth`'s session mode.
async fn signed_in(auth: &Auth) -> String {
    let cookies = Cookies::default();
    let account = Account::of("https://idp.example", alice().claims()).expect("a subject");
    auth.sessions()
        .begin(auth.codec(), &cookies, &alice(), &account, None)
        .await
        .expect("the session begins");
    let name = auth.codec().identity_name();
    let cookie = cookies.get(&name).expect("an identity cookie");
    format!("{name}={}", cookie.value())
}

/// Ends the session behind `cookie` (its owner logged out), leaving the copy a thief kept.
async fn log_out(auth: &Auth, cookie: &str) {
    let cookies = Cookies::default();
    let (name, value) = cookie.split_once('=').expect("name=value");
    cookies.add(cookie::Cookie::new(name.to_owned(), value.to_owned()));
    let found = auth.sessions().identify(auth.codec(), &cookies).await;
    assert!(found.user.is_logged_in());
    auth.sessions()
        .end(auth.codec(), &cookies, &found)
        .await
        .expect("logged out");
}

const APP_FUNCTIONS: [&str; 3] = [
    "/api/probe/require_user",
    "/api/app/nested/tokens",
    "/api/probe/userinfo",
];

async fn assert_refused_as(auth: &Auth, cookie: Option<&str>, paths: &[&str], error: AuthError) {
    for path in paths {
        let json = post_fn(auth, path, Caller::Client, cookie).await;
        assert_eq!(
            json.status,
            error.status(),
            "{path} {cookie:?}: {}",
            json.body
        );
        assert_eq!(
            serde_json::from_str::<AuthError>(&json.body).ok().as_ref(),
            Some(&error),
            "{path}: the client still reads the error"
        );
        let form = post_fn(auth, path, Caller::PlainForm, cookie).await;
        assert_eq!(
            form.status,
            error.status(),
            "{path} {cookie:?}: {}",
            form.body
        );
        assert!(
            form.body
                .contains(&crate::server::html::escape(&error.to_string())),
            "{}",
            form.body
        );
        assert!(
            form.body.contains("href=\"/reports?year=2026\""),
            "a way back to the page of the form: {}",
            form.body
        );
    }
}

#[tokio::test]
async fn signed_out_visitors_get_401_from_the_apps_functions_and_handlers() {
    let auth = auth_with("");
    for cookie in [None, Some("auth_user=junk"), Some("auth_user=")] {
        assert_refused_as(&auth, cookie, &APP_FUNCTIONS, AuthError::NotLoggedIn).await;
        for path in ["/handler/tokens", "/handler/userinfo"] {
            let answer = get_handler(&auth, path, cookie).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(answer.body, "You are not signed in.");
        }
    }
}

#[tokio::test]
async fn a_cookie_replayed_after_logout_gets_401() {
    let file = std::env::temp_dir().join(format!(
        "leptos-auth-test-statuses-{}.sqlite3",
        std::process::id()
    ));
    let auth = auth_with(&format!("session_store = \"sqlite:{}\"\n", file.display()));
    let cookie = signed_in(&auth).await;
    let answer = post_fn(&auth, APP_FUNCTIONS[0], Caller::Client, Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    log_out(&auth, &cookie).await;
    assert_refused_as(&auth, Some(&cookie), &APP_FUNCTIONS, AuthError::NotLoggedIn).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}

#[tokio::test]
async fn without_kept_tokens_a_signed_in_visitor_gets_409() {
    let auth = auth_with("");
    let cookie = signed_in(&auth).await;
    let answer = post_fn(&auth, APP_FUNCTIONS[0], Caller::Client, Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let no_tokens = crate::server::acts::tokens::not_kept();
    assert_refused_as(&auth, Some(&cookie), &APP_FUNCTIONS[1..], no_tokens).await;
    for path in ["/handler/tokens", "/handler/userinfo"] {
        let answer = get_handler(&auth, path, Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{path}");
        assert!(answer.body.contains("expose_tokens"), "{}", answer.body);
    }
}

#[tokio::test]
async fn the_apps_own_errors_pass_as_server_fn_made_them() {
    let auth = auth_with("");
    let json = post_fn(&auth, "/api/probe/own_error", Caller::Client, None).await;
    assert_eq!(json.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(json.body.contains("the app's own failure"), "{}", json.body);
    // Without JavaScript, server_fn's own redirect back, with the error for the page to show.
    let form = post_fn(&auth, "/api/probe/own_error", Caller::PlainForm, None).await;
    assert_eq!(form.status, StatusCode::FOUND);
    let location = form.location.unwrap_or_default();
    assert!(
        location.starts_with("http://localhost:3000/reports?year=2026&")
            && location.contains("__err="),
        "{location}"
    );
}

#[tokio::test]
async fn a_sign_in_too_old_for_the_page_is_a_401_with_the_step_up_challenge() {
    let auth = auth_with("");
    let cookie = signed_in(&auth).await;
    for answer in [
        post_fn(&auth, "/api/probe/step_up", Caller::Client, Some(&cookie)).await,
        get_handler(&auth, "/handler/step_up", Some(&cookie)).await,
    ] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        let challenge = answer.challenge.expect("a WWW-Authenticate header");
        assert!(
            challenge.starts_with("Bearer error=\"insufficient_user_authentication\"")
                && challenge.ends_with("max_age=60"),
            "{challenge}"
        );
        assert!(
            answer.body.contains("within the last 60 seconds"),
            "{}",
            answer.body
        );
    }
    // Nobody signed in: the plain 401 of require_user, no step-up.
    let answer = post_fn(&auth, "/api/probe/step_up", Caller::Client, None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.challenge, None);
}
