//! The callback's failure paths, through the real router (`Auth::install`) with `oneshot`.
use axum::{
    body::{Body, to_bytes},
    http::{Request, header},
};
use tower::ServiceExt;

use super::*;
use crate::{User, server::sealing::LoginState, server::test_support};
use axum::http::StatusCode;
use time::OffsetDateTime;

fn auth() -> Auth {
    auth_with_secret("a test cookie secret that is long enough")
}

/// A configuration whose provider listens nowhere: anything that reaches it fails.
fn auth_with_secret(cookie_secret: &str) -> Auth {
    test_support::auth(
        "http://127.0.0.1:3000",
        cookie_secret,
        test_support::NOWHERE,
        "client_id = \"app\"\n",
    )
}

struct Answer {
    status: StatusCode,
    set_cookies: Vec<String>,
    body: String,
}

async fn get(auth: &Auth, uri: &str, cookie: Option<String>) -> Answer {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = auth
        .install(Router::new())
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let set_cookies = test_support::set_cookies(response.headers());
    let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    Answer {
        status,
        set_cookies,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn assert_error_page(answer: &Answer, status: StatusCode, text: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(
        answer.body.contains("<h1>Sign-in failed</h1>"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains(text),
        "expected {text:?} in {}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains("<a href=\"/\">Back to the home page</a>")
    );
    let signed_in = answer
        .set_cookies
        .iter()
        .any(|cookie| cookie.starts_with("auth_user=") && !cookie.contains("Max-Age=0"));
    assert!(
        !signed_in,
        "an identity cookie was set: {:?}",
        answer.set_cookies
    );
}

/// A login under way, as `login` would have sealed it.
fn login_cookie(auth: &Auth, state: &str) -> String {
    let login = LoginState {
        state: state.to_owned(),
        nonce: "nonce".to_owned(),
        pkce_verifier: "verifier".to_owned(),
        provider: None,
        return_to: "/private".to_owned(),
        redirect_uri: None,
        max_age: None,
        acr_values: None,
    };
    let cookie = auth
        .codec()
        .login_state_cookie(&login, OffsetDateTime::now_utc())
        .expect("valid state");
    format!("{}={}", cookie.name(), cookie.value())
}

fn removes(answer: &Answer, name: &str) -> bool {
    answer
        .set_cookies
        .iter()
        .any(|cookie| cookie.starts_with(&format!("{name}=")) && cookie.contains("Max-Age=0"))
}

#[tokio::test]
async fn callback_without_state_is_refused() {
    let answer = get(&auth(), "/oauth2callback?code=abc", None).await;
    assert_error_page(
        &answer,
        StatusCode::BAD_REQUEST,
        "not a valid sign-in response",
    );
}

#[tokio::test]
async fn callback_without_login_state_cookie_is_refused() {
    // This is what stops login CSRF: a code and state the browser did not ask for.
    let answer = get(&auth(), "/oauth2callback?code=abc&state=attacker", None).await;
    assert_error_page(
        &answer,
        StatusCode::BAD_REQUEST,
        "expired or was already used",
    );
}

#[tokio::test]
async fn callback_with_another_logins_state_is_refused() {
    let auth = auth();
    let cookie = login_cookie(&auth, "mine");
    let answer = get(&auth, "/oauth2callback?code=abc&state=theirs", Some(cookie)).await;
    assert_error_page(
        &answer,
        StatusCode::BAD_REQUEST,
        "expired or was already used",
    );
}

#[tokio::test]
async fn login_state_from_another_secret_is_refused_and_removed() {
    let other = auth_with_secret("some other secret, also long enough!!");
    let cookie = login_cookie(&other, "s1");
    let answer = get(&auth(), "/oauth2callback?code=abc&state=s1", Some(cookie)).await;
    assert_error_page(
        &answer,
        StatusCode::BAD_REQUEST,
        "expired or was already used",
    );
    assert!(
        removes(&answer, "auth_login_s1"),
        "{:?}",
        answer.set_cookies
    );
}

#[tokio::test]
async fn provider_error_is_shown_escaped_and_ends_the_login() {
    let auth = auth();
    let cookie = login_cookie(&auth, "s2");
    let answer = get(
        &auth,
        "/oauth2callback?state=s2&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E%0D%0Aforged%20line",
        Some(cookie),
    )
    .await;
    assert_error_page(&answer, StatusCode::BAD_REQUEST, "access_denied");
    assert!(
        answer
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("<script>"));
    assert!(removes(&answer, "auth_login_s2"));
}

#[tokio::test]
async fn callback_without_code_is_refused_and_ends_the_login() {
    let auth = auth();
    let cookie = login_cookie(&auth, "s3");
    let answer = get(&auth, "/oauth2callback?state=s3", Some(cookie)).await;
    assert_error_page(
        &answer,
        StatusCode::BAD_REQUEST,
        "not a valid sign-in response",
    );
    assert!(removes(&answer, "auth_login_s3"));
}

#[tokio::test]
async fn malformed_query_is_refused() {
    let answer = get(&auth(), "/oauth2callback?state=a&state=b", None).await;
    assert_error_page(
        &answer,
        StatusCode::BAD_REQUEST,
        "not a valid sign-in response",
    );
}

#[tokio::test]
async fn unreachable_provider_is_a_bad_gateway_page() {
    let auth = auth();
    let cookie = login_cookie(&auth, "s4");
    let answer = get(&auth, "/oauth2callback?code=abc&state=s4", Some(cookie)).await;
    assert_error_page(
        &answer,
        StatusCode::BAD_GATEWAY,
        "cannot be reached right now",
    );
    assert!(removes(&answer, "auth_login_s4"));
}

#[tokio::test]
async fn the_callback_answers_only_get() {
    let response = auth()
        .install(Router::new())
        .oneshot(
            Request::post("/oauth2callback?code=a&state=b")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn callback_from_another_issuer_is_refused_before_the_code_is_used() {
    // RFC 9207: a provider that says who it is must be the one this login went to.
    let auth = auth();
    let cookie = login_cookie(&auth, "s5");
    let answer = get(
        &auth,
        "/oauth2callback?code=abc&state=s5&iss=https%3A%2F%2Fevil.example",
        Some(cookie),
    )
    .await;
    // Not 502: the unreachable provider was never called.
    assert_error_page(
        &answer,
        StatusCode::BAD_REQUEST,
        "not a valid sign-in response",
    );
    assert!(removes(&answer, "auth_login_s5"));
}

#[tokio::test]
async fn a_link_cannot_put_its_own_words_on_the_error_page() {
    // Without a login under way, `error_description` is not shown: no content spoofing.
    let answer = get(
        &auth(),
        "/oauth2callback?state=x&error=access_denied&error_description=Call%20support%20on%20555-0100",
        None,
    )
    .await;
    assert_error_page(
        &answer,
        StatusCode::BAD_REQUEST,
        "expired or was already used",
    );
    assert!(!answer.body.contains("555-0100"), "{}", answer.body);
}

#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_stray_callbacks_writes_a_line_not_a_line_each() {
    let log = test_support::LogBuffer::default();
    let _guard = log.capture_this_thread();
    let auth = auth();
    for i in 0..2_000 {
        let answer = get(&auth, &format!("/oauth2callback?code=c&state=s{i}"), None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    }
    let text = log.text();
    let lines = text
        .lines()
        .filter(|line| line.contains("sign-in failed"))
        .count();
    assert_eq!(lines, 1, "{text}");

    // This browser's own login failing is always told.
    let state = "own-login";
    for _ in 0..3 {
        let cookie = login_cookie(&auth, state);
        get(
            &auth,
            &format!("/oauth2callback?error=access_denied&state={state}"),
            Some(cookie),
        )
        .await;
    }
    let text = log.text();
    let own = text
        .lines()
        .filter(|line| line.contains("access_denied"))
        .count();
    assert_eq!(own, 3, "{text}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_huge_error_description_is_cut_short_in_the_log_and_on_the_page() {
    let log = test_support::LogBuffer::default();
    let _guard = log.capture_this_thread();
    let auth = auth();
    let state = "long-description";
    let description = "d".repeat(60_000);
    let answer = get(
        &auth,
        &format!(
            "/oauth2callback?error=server_error&error_description={description}&state={state}"
        ),
        Some(login_cookie(&auth, state)),
    )
    .await;
    assert!(answer.body.len() < 5_000, "{}", answer.body.len());
    let text = log.text();
    assert!(text.contains("(60000 bytes in all)"), "{text}");
    assert!(text.len() < 2_000, "{}", text.len());
}

#[tokio::test]
async fn a_used_callback_revisited_while_signed_in_goes_home() {
    let auth = auth();
    let identity = {
        let serde_json::Value::Object(claims) = serde_json::json!({"sub": "a", "name": "A"}) else {
            unreachable!()
        };
        let cookie = auth
            .codec()
            .identity_cookie(&User::signed_in(claims, None), OffsetDateTime::now_utc())
            .expect("fits");
        format!("{}={}", cookie.name(), cookie.value())
    };
    let answer = get(
        &auth,
        "/oauth2callback?code=used&state=gone",
        Some(identity),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let answer = get(&auth, "/oauth2callback?code=used&state=gone", None).await;
    assert_error_page(&answer, StatusCode::BAD_REQUEST, "Please start again");
}
