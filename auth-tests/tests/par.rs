//! Pushed authorization requests (RFC 9126, `use_par`) against the programmable fake provider
//! (see `support/`): what is pushed and how it is authenticated, what the browser is sent
//! with, and the pushes that fail (provider down or slow, a refusal, a malformed answer, no
//! endpoint). The real flow against `oidc-provider` is end2end/tests/par.spec.ts.
#[allow(dead_code)]
mod support;

use std::time::Duration;

use axum::http::StatusCode;
use leptos_login::testing::{MAX_PAR_ANSWER_BYTES, MAX_REQUEST_URI_BYTES, MAX_SHOWN_REFUSAL_CHARS};
use serde_json::{Value, json};

use support::{
    Answer, CLIENT_ID, CLIENT_SECRET, Harness, Login, PROVIDER_TIMEOUT, REDIRECT_URI,
    jwt::Jwt,
    keys::RSA_A,
    provider::{Endpoint, Hit, request_uri},
};

/// The app with `client` (TOML lines) and `more`, its provider advertising a PAR endpoint
/// (`required`: and requiring it) and listing `methods` for client authentication.
async fn start(client: &str, more: &str, required: bool, methods: &[&str]) -> Harness {
    let h = Harness::start_with_client(client, more).await;
    h.idp.advertise_par(required);
    h.idp
        .advertise("token_endpoint_auth_methods_supported", json!(methods));
    for n in 1..=3 {
        h.keep_out_of_the_log(&request_uri(n));
    }
    h
}

fn secret() -> String {
    format!("client_secret = \"{CLIENT_SECRET}\"\n")
}

/// The authorization URL the `login` server function answered.
#[track_caller]
fn authorization_url(h: &Harness, answer: &Answer) -> url::Url {
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}\n{}", h.log());
    let url: String = serde_json::from_str(&answer.body).expect("a JSON string");
    url::Url::parse(&url).expect("a URL")
}

/// The URL's query, in order.
fn query(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// Every value of the form field `name` in `hit`.
fn all(hit: &Hit, name: &str) -> Vec<String> {
    url::form_urlencoded::parse(hit.body.as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// The one pushed authorization request made so far.
#[track_caller]
fn the_push(h: &Harness) -> Hit {
    let pushed = h.idp.requests(Endpoint::Par);
    assert_eq!(pushed.len(), 1, "one push: {:?}", h.idp.hit_counts());
    pushed[0].clone()
}

/// The browser is sent to the authorization endpoint with the client id and the pushed
/// request's reference, nothing more (RFC 9126 §4): no state, PKCE or scope to read or change.
#[track_caller]
fn assert_sent_with_the_reference_only(h: &Harness, url: &url::Url) {
    assert_eq!(
        url.as_str().split('?').next(),
        Some(format!("{}/authorize", h.idp.issuer()).as_str())
    );
    assert_eq!(
        query(url),
        [
            ("client_id".to_owned(), CLIENT_ID.to_owned()),
            ("request_uri".to_owned(), request_uri(1)),
        ],
        "{url}"
    );
}

/// A login refused before the browser leaves: `status`, the visitor's text holding
/// `page_text`, no authorization URL, no login under way, and `log_reason` in the log.
#[track_caller]
fn assert_not_started(h: &Harness, answer: &Answer, page_text: &str, log_reason: &str) {
    let log = h.log();
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{answer:?}\n{log}");
    let error: Value = serde_json::from_str(&answer.body).expect("an AuthError");
    let text = error["ProviderUnavailable"].as_str().unwrap_or_default();
    assert!(text.contains(page_text), "{page_text:?} in {text:?}");
    assert!(!answer.body.contains("/authorize"), "{answer:?}");
    assert!(
        !answer
            .set_cookies
            .iter()
            .any(|cookie| cookie.starts_with("auth_login_")),
        "a login was left under way: {answer:?}"
    );
    assert!(
        log.contains("cannot start a login with the default provider"),
        "{log}"
    );
    assert!(
        log.contains(log_reason),
        "{log_reason:?} in the log:\n{log}"
    );
    h.assert_log_keeps_secrets();
}

#[tokio::test]
async fn use_par_pushes_the_login_and_the_browser_carries_only_a_reference() {
    let h = start(
        &secret(),
        "use_par = true\n",
        false,
        &["client_secret_basic"],
    )
    .await;
    let answer = h.call_login_server_fn().await;
    let url = authorization_url(&h, &answer);
    assert_sent_with_the_reference_only(&h, &url);

    // What the browser would have carried went to the provider, with the client's
    // credentials (HTTP Basic, as at the token endpoint) and the client id once.
    let push = the_push(&h);
    assert_eq!(
        push.authorization.as_deref(),
        Some(
            format!(
                "Basic {}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    format!("{CLIENT_ID}:{CLIENT_SECRET}")
                )
            )
            .as_str()
        )
    );
    assert_eq!(all(&push, "client_id"), [CLIENT_ID]);
    assert_eq!(all(&push, "client_secret"), Vec::<String>::new());
    assert_eq!(all(&push, "response_type"), ["code"]);
    assert_eq!(all(&push, "redirect_uri"), [REDIRECT_URI]);
    assert_eq!(all(&push, "scope"), ["openid email profile"]);
    assert_eq!(all(&push, "code_challenge_method"), ["S256"]);
    assert_eq!(all(&push, "code_challenge").len(), 1);
    assert_eq!(all(&push, "request_uri"), Vec::<String>::new());
    let [state] = all(&push, "state").try_into().expect("one state");
    let [nonce] = all(&push, "nonce").try_into().expect("one nonce");
    assert_eq!(h.idp.hits(Endpoint::Authorize), 0);

    // The login under way is the pushed one: the provider sends the browser back with its
    // state, and the state, nonce and PKCE checks of every login sign the visitor in.
    let cookie_name = format!("auth_login_{state}");
    let cookie = answer
        .set_cookies
        .iter()
        .find(|cookie| cookie.starts_with(&format!("{cookie_name}=")))
        .and_then(|cookie| cookie.split(';').next())
        .unwrap_or_else(|| panic!("no login under way for the pushed state: {answer:?}"))
        .to_owned();
    let login = Login {
        state,
        nonce,
        pkce_verifier: String::new(),
        code: format!("code-{}", support::random_token()),
        cookie,
    };
    let back = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&back, &login);
    let exchange = h.idp.requests(Endpoint::Token);
    assert_eq!(all(&exchange[0], "redirect_uri"), [REDIRECT_URI]);
    assert_eq!(all(&exchange[0], "code_verifier").len(), 1);
}

#[tokio::test]
async fn a_login_is_pushed_where_discovery_requires_it_and_not_otherwise() {
    // Advertised but not required, and use_par off: the usual authorization URL.
    let h = start(&secret(), "", false, &["client_secret_basic"]).await;
    let url = authorization_url(&h, &h.call_login_server_fn().await);
    assert!(url.query_pairs().any(|(name, _)| name == "state"), "{url}");
    assert!(
        !url.query_pairs().any(|(name, _)| name == "request_uri"),
        "{url}"
    );
    assert_eq!(h.idp.hits(Endpoint::Par), 0);

    // Required: pushed, though use_par is not set.
    let h = start(&secret(), "", true, &["client_secret_basic"]).await;
    let url = authorization_url(&h, &h.call_login_server_fn().await);
    assert_sent_with_the_reference_only(&h, &url);
    the_push(&h);
}

#[tokio::test]
async fn client_secret_post_sends_the_secret_in_the_pushed_form() {
    let client = secret() + "token_endpoint_auth_method = \"client_secret_post\"\n";
    let h = start(&client, "use_par = true\n", false, &["client_secret_post"]).await;
    let url = authorization_url(&h, &h.call_login_server_fn().await);
    assert_sent_with_the_reference_only(&h, &url);
    let push = the_push(&h);
    assert_eq!(push.authorization, None, "{push:?}");
    assert_eq!(all(&push, "client_id"), [CLIENT_ID]);
    assert_eq!(all(&push, "client_secret"), [CLIENT_SECRET]);
    assert_eq!(all(&push, "response_type"), ["code"]);
    h.assert_log_keeps_secrets();
}

#[tokio::test]
async fn private_key_jwt_sends_an_assertion_in_the_pushed_form() {
    let key = format!(
        "{}/../end2end/oidc/client-keys/rsa.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let client = format!("client_private_key_file = \"{key}\"\n");
    let h = start(&client, "use_par = true\n", false, &["private_key_jwt"]).await;
    let url = authorization_url(&h, &h.call_login_server_fn().await);
    assert_sent_with_the_reference_only(&h, &url);
    let push = the_push(&h);
    assert_eq!(push.authorization, None, "{push:?}");
    assert_eq!(all(&push, "client_id"), [CLIENT_ID]);
    assert_eq!(
        all(&push, "client_assertion_type"),
        [leptos_login::testing::ASSERTION_TYPE]
    );
    assert_eq!(all(&push, "client_assertion").len(), 1);
    assert_eq!(all(&push, "client_secret"), Vec::<String>::new());
}

#[tokio::test]
async fn a_provider_down_during_the_push_gives_the_502_page() {
    let h = start(
        &secret(),
        "use_par = true\n",
        false,
        &["client_secret_basic"],
    )
    .await;
    // A port nothing listens on: connection refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.local_addr().expect("bound").port()
    };
    let gone = format!("http://127.0.0.1:{closed}/par");
    h.idp
        .advertise("pushed_authorization_request_endpoint", json!(gone));
    let answer = h.call_login_server_fn().await;
    assert_not_started(
        &h,
        &answer,
        "cannot be reached right now",
        &format!("the pushed authorization request to {gone} failed"),
    );
}

#[tokio::test]
async fn a_push_answered_too_late_gives_the_502_page() {
    let h = start(
        &secret(),
        "use_par = true\n",
        false,
        &["client_secret_basic"],
    )
    .await;
    h.idp
        .set_par_delay(PROVIDER_TIMEOUT + Duration::from_millis(500));
    let answer = h.call_login_server_fn().await;
    assert_not_started(
        &h,
        &answer,
        "cannot be reached right now",
        &format!(
            "the pushed authorization request to {} failed",
            h.idp.par_endpoint()
        ),
    );
}

#[tokio::test]
async fn a_refused_push_is_shown_cut_short_and_logged_with_the_endpoint() {
    let h = start(
        &secret(),
        "use_par = true\n",
        false,
        &["client_secret_basic"],
    )
    .await;
    let description = format!("scope \"admin\" is not allowed\n{}", "x".repeat(5000));
    let refusal = json!({"error": "invalid_scope", "error_description": description});
    h.idp
        .set_par_answer(Some((StatusCode::BAD_REQUEST, &refusal.to_string())));
    let answer = h.call_login_server_fn().await;
    assert_not_started(
        &h,
        &answer,
        "The sign-in provider refused to start the sign-in: invalid_scope: scope \"admin\" \
         is not allowed\\nxxx",
        &format!(
            "the pushed authorization request to {} was refused (400 Bad Request): \
             error=invalid_scope error_description=scope \"admin\" is not allowed\\nxxx",
            h.idp.par_endpoint()
        ),
    );
    let error: Value = serde_json::from_str(&answer.body).expect("an AuthError");
    let text = error["ProviderUnavailable"].as_str().unwrap_or_default();
    let shown = text
        .strip_prefix("The sign-in provider refused to start the sign-in: ")
        .expect("the provider's words");
    assert_eq!(
        shown.chars().count(),
        MAX_SHOWN_REFUSAL_CHARS + 1,
        "{shown}"
    );
    assert!(shown.ends_with('…'), "{shown}");
    // The log cuts it too, saying how long it was.
    let log = h.log();
    assert!(!log.contains(&"x".repeat(1000)), "{log}");
    assert!(log.contains("bytes in all)"), "{log}");
}

#[tokio::test]
async fn a_push_refusing_the_clients_credentials_says_so() {
    let h = start(
        &secret(),
        "use_par = true\n",
        false,
        &["client_secret_basic"],
    )
    .await;
    let refusal = json!({"error": "invalid_client", "error_description": "bad secret"});
    h.idp
        .set_par_answer(Some((StatusCode::UNAUTHORIZED, &refusal.to_string())));
    let answer = h.call_login_server_fn().await;
    assert_not_started(
        &h,
        &answer,
        "did not accept this site's credentials",
        &format!(
            "client authentication at the default provider (client_secret_basic) failed: the \
             provider refused it at the pushed authorization request endpoint {} (401 \
             Unauthorized): invalid_client: bad secret",
            h.idp.par_endpoint()
        ),
    );
}

#[tokio::test]
async fn a_malformed_push_answer_never_sends_the_browser_anywhere() {
    let long_uri = format!(
        "urn:ietf:params:oauth:request_uri:{}",
        "a".repeat(MAX_REQUEST_URI_BYTES)
    );
    let too_large = format!(
        r#"{{"request_uri": "urn:x", "expires_in": 60, "padding": "{}"}}"#,
        " ".repeat(MAX_PAR_ANSWER_BYTES)
    );
    let answers: Vec<(StatusCode, String, &str)> = vec![
        (StatusCode::CREATED, "{}".to_owned(), "the answer is not"),
        (
            StatusCode::CREATED,
            "not json".to_owned(),
            "the answer is not",
        ),
        (
            StatusCode::CREATED,
            r#"{"request_uri": 42, "expires_in": 60}"#.to_owned(),
            "the answer is not",
        ),
        (
            StatusCode::CREATED,
            r#"{"request_uri": "urn:x"}"#.to_owned(),
            "the answer is not",
        ),
        (
            StatusCode::CREATED,
            r#"{"request_uri": "", "expires_in": 60}"#.to_owned(),
            "the request_uri it answered is empty",
        ),
        (
            StatusCode::CREATED,
            r#"{"request_uri": "urn:x\nSet-Cookie: a", "expires_in": 60}"#.to_owned(),
            "the request_uri it answered holds spaces or control characters",
        ),
        (
            StatusCode::CREATED,
            json!({"request_uri": long_uri, "expires_in": 60}).to_string(),
            "the request_uri it answered is 1058 bytes, more than 1024",
        ),
        (
            StatusCode::CREATED,
            r#"{"request_uri": "urn:x", "expires_in": 0}"#.to_owned(),
            "the request_uri it answered expires at once",
        ),
        (
            StatusCode::CREATED,
            too_large,
            "the answer (201 Created) is larger than 65536 bytes",
        ),
        // The right body under the wrong status, and an error page that is no OAuth error.
        (
            StatusCode::OK,
            r#"{"request_uri": "urn:x", "expires_in": 60}"#.to_owned(),
            "the provider answered 200 OK, not 201 Created",
        ),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "<html>down for maintenance</html>".to_owned(),
            "the provider answered 503 Service Unavailable without an OAuth error",
        ),
    ];
    for (status, body, reason) in answers {
        let h = start(
            &secret(),
            "use_par = true\n",
            false,
            &["client_secret_basic"],
        )
        .await;
        h.idp.set_par_answer(Some((status, &body)));
        let answer = h.call_login_server_fn().await;
        assert_not_started(
            &h,
            &answer,
            "did not start the sign-in properly",
            &format!(
                "the pushed authorization request to {} failed: {reason}",
                h.idp.par_endpoint()
            ),
        );
        assert!(
            !h.log().contains(&"a".repeat(100)),
            "the log holds the request_uri"
        );
    }
}

#[tokio::test]
async fn use_par_without_an_endpoint_says_so_at_discovery_and_at_each_login() {
    let h = start(
        &secret(),
        "use_par = true\n",
        false,
        &["client_secret_basic"],
    )
    .await;
    h.idp
        .advertise("pushed_authorization_request_endpoint", Value::Null);
    let answer = h.call_login_server_fn().await;
    let reason = "use_par is set, but the discovery document has no \
                  pushed_authorization_request_endpoint";
    assert_not_started(&h, &answer, "does not match this site's", reason);
    assert!(
        h.log()
            .contains(&format!("logins with the default provider cannot start: the discovery document at {} is not acceptable: {reason}", h.idp.discovery_url())),
        "{}",
        h.log()
    );
    assert_eq!(h.idp.hits(Endpoint::Par), 0);
}

#[tokio::test]
async fn a_required_push_to_a_clear_text_endpoint_is_refused() {
    let h = start(&secret(), "", true, &["client_secret_basic"]).await;
    h.idp.advertise(
        "pushed_authorization_request_endpoint",
        json!("http://par.example/par"),
    );
    let answer = h.call_login_server_fn().await;
    assert_not_started(
        &h,
        &answer,
        "does not match this site's",
        "its pushed_authorization_request_endpoint http://par.example/par is not an https URL",
    );
}

/// end2end/secrets.tokens.e2e.toml, which par.spec.ts's server reads: its `par` provider
/// pushes and its control does not (a typo there would only show in the browser run).
#[test]
fn the_end_to_end_configuration_pushes_for_the_par_client_only() {
    let path = format!(
        "{}/../end2end/secrets.tokens.e2e.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let end2end = format!("{}/../end2end/", env!("CARGO_MANIFEST_DIR"));
    // Its key files are named from end2end/, where the server runs.
    let text = std::fs::read_to_string(&path)
        .expect("the end-to-end secrets")
        .replace(
            "\"oidc/client-keys/",
            &format!("\"{end2end}oidc/client-keys/"),
        );
    let config =
        leptos_login::testing::from_sources(std::path::Path::new(&path), Some(&text), |_| None)
            .expect("a valid configuration")
            .expect("configured");
    let use_par = |name: &str| {
        config
            .providers
            .iter()
            .find(|provider| provider.name.as_deref() == Some(name))
            .map(|provider| (provider.client_id.as_str(), provider.use_par))
    };
    assert_eq!(use_par("par"), Some(("leptos-par", true)));
    assert_eq!(use_par("par-unpushed"), Some(("leptos-par", false)));
    assert_eq!(use_par("post").map(|(_, on)| on), Some(false));
}
