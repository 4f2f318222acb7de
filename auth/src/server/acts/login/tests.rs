//! A whole sign-in through the server functions, the callback and the development provider,
//! played by a hostile browser: spoofed hosts, replayed codes, cross-site GETs; and the log
//! of it all searched for anything secret.
use std::sync::{Arc, LazyLock, Mutex};

use axum::{
    Router,
    http::{StatusCode, header},
    routing::post,
};
use openidconnect::reqwest;
use time::OffsetDateTime;
use url::Url;

use crate::{
    Auth,
    server::sealing::LoginState,
    server::test_support::{self, LogBuffer},
};

/// Everything every test in this binary logs, at every level.
static LOG: LazyLock<LogBuffer> = LazyLock::new(|| {
    let log = LogBuffer::default();
    let _ = tracing::subscriber::set_global_default(log.subscriber());
    log
});

fn log_text() -> String {
    LOG.text()
}

struct Site {
    auth: Auth,
    origin: String,
    http: reqwest::Client,
}

/// The app's server as `server/` wires it (server functions plus `Auth::install`), with the
/// development provider, on a loopback port.
async fn site() -> Site {
    site_with(|auth| auth).await
}

/// [`site`], with the app's hooks.
async fn site_with(hooks: impl FnOnce(Auth) -> Auth) -> Site {
    LazyLock::force(&LOG);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let auth = hooks(Auth::with_dev_provider(addr).expect("dev provider"));
    let app = Router::new()
        .route("/api/{*fn_name}", post(leptos_axum::handle_server_fns))
        // Server code reading the tokens: `leptos_login::tokens()` in a plain handler, and the
        // extractor. Test only: an app never sends a token to the browser.
        .route(
            "/probe/tokens",
            axum::routing::get(|| async {
                match crate::tokens().await {
                    Ok(tokens) => format!(
                        "{} {}",
                        tokens.access_token().unwrap_or("-"),
                        tokens.id_token().map_or("-", |_| "id")
                    ),
                    Err(error) => format!("refused: {}", error.code()),
                }
            }),
        )
        .route(
            "/probe/user",
            axum::routing::get(|user: Option<crate::User>| async move {
                serde_json::to_string(&user.unwrap_or_default()).unwrap_or_default()
            }),
        )
        .route(
            "/probe/extractor",
            axum::routing::get(|tokens: crate::server::acts::tokens::Tokens| async move {
                tokens.access_token().unwrap_or("-").to_owned()
            }),
        );
    let app = auth.install(app);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Site {
        auth,
        origin: format!("http://{addr}"),
        http,
    }
}

/// `name=value` of a `Set-Cookie` header.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    test_support::set_cookies(response.headers())
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// What a login left behind, for the checks.
struct Login {
    authorization: Url,
    login_cookie: String,
    code: String,
    state: String,
}

impl Site {
    /// Posts `login` as the hydrated `<LoginButton/>` does, with hostile `Host` headers.
    async fn start_login(&self, next: &str) -> (Url, String) {
        let response = self
            .http
            .post(format!("{}/api/auth/login", self.origin))
            .header(header::ACCEPT, "application/json")
            .header(header::HOST, "evil.example")
            .header("x-forwarded-host", "evil.example")
            .form(&[("next", next)])
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), StatusCode::OK);
        let cookies = set_cookies(&response);
        let login_cookie = cookies
            .iter()
            .find(|cookie| cookie.starts_with("auth_login_"))
            .map(|cookie| cookie_pair(cookie))
            .expect("a login-state cookie");
        let body = response.text().await.expect("body");
        let url: String = serde_json::from_str(&body).expect("the authorization URL");
        (Url::parse(&url).expect("absolute"), login_cookie)
    }

    /// Signs in at the development provider as Ada and comes back with a code.
    async fn login(&self, next: &str) -> Login {
        let (authorization, login_cookie) = self.start_login(next).await;
        let mut form: Vec<(String, String)> = authorization.query_pairs().into_owned().collect();
        form.push(("name".to_owned(), "Ada Lovelace".to_owned()));
        form.push(("email".to_owned(), "ada@example.com".to_owned()));
        let mut action = authorization.clone();
        action.set_query(None);
        let response = self
            .http
            .post(action)
            .form(&form)
            .send()
            .await
            .expect("sign in");
        let back = response.headers()[header::LOCATION]
            .to_str()
            .expect("ascii")
            .to_owned();
        let back = Url::parse(&back).expect("absolute");
        Login {
            authorization,
            login_cookie,
            code: param(&back, "code").expect("code"),
            state: param(&back, "state").expect("state"),
        }
    }

    /// Who the server takes `identity` (`name=value`) for, now.
    async fn user(&self, identity: &str) -> crate::User {
        let text = self
            .http
            .get(format!("{}/probe/user", self.origin))
            .header(header::COOKIE, identity)
            .send()
            .await
            .expect("probe")
            .text()
            .await
            .expect("the user");
        serde_json::from_str(&text).expect("a user")
    }

    async fn callback(&self, login: &Login, with_cookie: bool) -> reqwest::Response {
        let mut request = self.http.get(format!(
            "{}/oauth2callback?code={}&state={}",
            self.origin, login.code, login.state
        ));
        if with_cookie {
            request = request.header(header::COOKIE, &login.login_cookie);
        }
        request.send().await.expect("callback")
    }
}

fn identity_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookies(response)
        .iter()
        .find(|cookie| cookie.starts_with("auth_user=") && !cookie.contains("Max-Age=0"))
        .map(|cookie| cookie_pair(cookie))
}

#[tokio::test]
async fn spoofed_hosts_do_not_move_the_redirect_uri_and_the_login_returns_home() {
    let site = site().await;
    let login = site.login("/private?tab=2").await;
    assert_eq!(
        param(&login.authorization, "redirect_uri"),
        Some(format!("{}/oauth2callback", site.origin))
    );
    assert!(login.authorization.as_str().starts_with(&site.origin));

    let response = site.callback(&login, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/private?tab=2");
    assert!(identity_cookie(&response).is_some());
}

#[tokio::test]
async fn an_off_site_next_is_ignored() {
    let site = site().await;
    for hostile in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/%09/evil.example",
    ] {
        let login = site.login(hostile).await;
        let response = site.callback(&login, true).await;
        let location = response.headers()[header::LOCATION]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            location == "/" || (location.starts_with('/') && !location.starts_with("//")),
            "{hostile:?} led to {location:?}"
        );
        assert!(
            !location.contains("evil.example") || location.starts_with("/%09"),
            "{location}"
        );
    }
}

#[tokio::test]
async fn the_same_callback_twice_signs_in_once() {
    let site = site().await;
    let login = site.login("/").await;
    let first = site.callback(&login, true).await;
    assert!(identity_cookie(&first).is_some());

    // The browser dropped the login-state cookie: the state is unknown.
    let again = site.callback(&login, false).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(identity_cookie(&again).is_none());
    // An attacker who kept the cookie too: the provider refuses the used code.
    let replay = site.callback(&login, true).await;
    assert!(replay.status().is_client_error() || replay.status().is_server_error());
    assert!(identity_cookie(&replay).is_none());
    let page = replay.text().await.expect("page");
    assert!(page.contains("Sign-in failed"), "{page}");
}

#[tokio::test]
async fn two_logins_at_once_both_finish_as_themselves() {
    let site = site().await;
    let first = site.login("/one").await;
    let second = site.login("/two").await;
    assert_ne!(first.state, second.state);
    let second_done = site.callback(&second, true).await;
    let first_done = site.callback(&first, true).await;
    assert_eq!(first_done.headers()[header::LOCATION], "/one");
    assert_eq!(second_done.headers()[header::LOCATION], "/two");
    // Each callback only accepts its own login's cookie.
    let crossed = Login {
        login_cookie: first.login_cookie.clone(),
        ..site.login("/three").await
    };
    assert_eq!(
        site.callback(&crossed, true).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn cross_site_gets_cannot_log_in_or_out() {
    let site = site().await;
    let login = site.login("/").await;
    let identity = identity_cookie(&site.callback(&login, true).await).expect("signed in");
    for path in ["/api/auth/login?next=/", "/api/auth/logout"] {
        let response = site
            .http
            .get(format!("{}{path}", site.origin))
            .header(header::COOKIE, &identity)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert!(set_cookies(&response).is_empty(), "{path}");
    }
    let user = site.user(&identity).await;
    assert_eq!(user.name(), Some("Ada Lovelace"), "still signed in");
}

#[tokio::test]
async fn nothing_secret_reaches_the_log() {
    let site = site().await;
    let login = site.login("/").await;
    let done = site.callback(&login, true).await;
    let identity = identity_cookie(&done).expect("signed in");
    // And a failed one: the replay.
    let failed = site.callback(&login, true).await;
    assert!(identity_cookie(&failed).is_none());

    let (name, sealed) = login.login_cookie.split_once('=').expect("name=value");
    let opened: LoginState = site
        .auth
        .codec()
        .open_login_state(
            &cookie::Cookie::new(name.to_owned(), sealed.to_owned()),
            &login.state,
            OffsetDateTime::now_utc(),
        )
        .expect("our own login-state cookie");
    let idp = site.auth.dev_provider().expect("dev provider");
    let mut secrets = vec![
        ("the code", login.code.clone()),
        ("the state", login.state.clone()),
        ("the nonce", opened.nonce.clone()),
        ("the PKCE verifier", opened.pkce_verifier.clone()),
        ("the login-state cookie", sealed.to_owned()),
        (
            "the identity cookie",
            identity.trim_start_matches("auth_user=").to_owned(),
        ),
        ("the client secret", idp.client_secret().to_owned()),
    ];
    for token in idp.access_tokens() {
        secrets.push(("an access token", token));
    }
    assert!(secrets.len() > 7, "the provider issued an access token");

    let log = log_text();
    if std::env::var_os("SHOW_LOG").is_some() {
        eprintln!("{log}");
    }
    assert!(log.contains("signed in"), "the log was captured:\n{log}");
    assert!(
        log.contains("sign-in failed"),
        "the failure was logged:\n{log}"
    );
    for (what, secret) in secrets {
        assert!(!log.contains(&secret), "{what} is in the log");
    }
}

#[tokio::test]
async fn another_sites_forms_cannot_log_in_or_out() {
    let site = site().await;
    for (path, body) in [("/api/auth/login", "next=%2F"), ("/api/auth/logout", "")] {
        let response = site
            .http
            .post(format!("{}{path}", site.origin))
            .header(header::ACCEPT, "text/html")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            set_cookies(&response).is_empty(),
            "{path}: {:?}",
            set_cookies(&response)
        );
    }
    // The app's own pages (same-origin) may.
    let response = site
        .http
        .post(format!("{}/api/auth/logout", site.origin))
        .header(header::ACCEPT, "application/json")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_failed_login_without_javascript_comes_back_saying_so() {
    let site = site().await;
    let response = site
        .http
        .post(format!("{}/api/auth/login", site.origin))
        .header(header::ACCEPT, "text/html")
        .form(&[("provider", "nope"), ("next", "/claims?tab=1")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/claims?tab=1&auth_error=unknown_provider&auth_form=login.nope"
    );
    assert!(set_cookies(&response).is_empty(), "no login under way");
}

#[tokio::test]
async fn a_made_up_provider_name_comes_back_unescaped_nowhere() {
    let site = site().await;
    let response = site
        .post_login(&[HTML], "provider=x%26auth_error%3Dinternal&next=%2F")
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/?auth_error=unknown_provider",
        "the plain button says it"
    );
}

impl Site {
    /// Posts `body` to the `login` server function with these headers, as some client might.
    async fn post_login(
        &self,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/api/auth/login", self.origin))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(body).send().await.expect("post")
    }
}

/// The error a refused server-function call carries, as the browser's client decodes it.
async fn auth_error(response: reqwest::Response) -> crate::AuthError {
    let body = response.text().await.expect("body");
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("an AuthError: {body}"))
}

const DATA: (&str, &str) = ("accept", "application/json");
const HTML: (&str, &str) = ("accept", "text/html");

#[tokio::test]
async fn arguments_that_are_not_text_are_a_400_saying_so() {
    let site = site().await;
    let response = site.post_login(&[DATA], vec![b'n', b'=', 0xff, 0xfe]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookies(&response).is_empty());
    let crate::AuthError::BadRequest(text) = auth_error(response).await else {
        panic!("expected BadRequest")
    };
    assert!(text.contains("not text"), "{text}");
}

#[tokio::test]
async fn a_huge_body_is_a_413_with_or_without_javascript() {
    let site = site().await;
    let huge = format!("next=/{}", "a".repeat(5 << 20));
    let response = site.post_login(&[DATA], huge.clone()).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(auth_error(response).await, crate::AuthError::TooLarge);

    let response = site.post_login(&[HTML], huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = response.text().await.expect("page");
    assert!(
        page.contains("This sign-in request is too large."),
        "{page}"
    );
    assert!(page.contains("<a href=\"/\">"), "a way back: {page}");
}

/// A keep-alive client posts a body far over the limit and, on the same connection, a normal
/// request: it reads the 413 (not a reset), and its next request goes through, on a new
/// connection since the server closed the first (`Connection: close`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_huge_body_leaves_a_keep_alive_client_its_next_request() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let site = site().await;
    let host = site.origin.trim_start_matches("http://").to_owned();
    let next = format!("GET /probe/user HTTP/1.1\r\nHost: {host}\r\n\r\n");
    for (path, size) in [
        ("/api/auth/login", 1 << 20),
        ("/api/auth/login", 5 << 20),
        ("/oauth2/backchannel-logout", 1 << 20),
    ] {
        let stream = tokio::net::TcpStream::connect(&host)
            .await
            .expect("connect");
        let (mut reading, mut writing) = stream.into_split();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nSec-Fetch-Site: same-origin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {size}\r\n\r\n"
        );
        let then = next.clone();
        let writer = tokio::spawn(async move {
            writing.write_all(head.as_bytes()).await?;
            writing.write_all(&vec![b'a'; size]).await?;
            writing.write_all(then.as_bytes()).await
        });
        let mut answers = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            reading.read_to_end(&mut answers),
        )
        .await;
        let answers = String::from_utf8_lossy(&answers).to_lowercase();
        assert!(
            matches!(read, Ok(Ok(_))),
            "{path} {size}: read until the server closed, not {read:?}: {answers}"
        );
        assert!(
            answers.starts_with("http/1.1 413"),
            "{path} {size}: {answers:.300}"
        );
        assert!(
            answers.contains("\r\nconnection: close\r\n"),
            "{path} {size}: the 413 closes the connection: {answers:.300}"
        );
        let _ = writer.await;
        // The next request, on a new connection.
        let response = site
            .http
            .get(format!("{}/probe/user", site.origin))
            .send()
            .await
            .expect("the next request goes through");
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn malformed_arguments_are_a_400_not_a_500() {
    let site = site().await;
    let response = site.post_login(&[DATA], "provider[=x&&next=%zz").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(
        auth_error(response).await,
        crate::AuthError::BadRequest(_)
    ));
}

/// A login's own parameters, as `<LoginButton params=…>` posts them (one field, `params`,
/// encoded as a query, form-encoded again as browsers send it).
#[tokio::test]
async fn a_login_asks_for_the_parameters_it_may_and_is_refused_the_rest_by_name() {
    let site = site().await;
    let response = site
        .post_login(
            &[DATA],
            "next=%2F&params=login_hint%3Dada%2540example.com%26prompt%3Dconsent",
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let url: String = serde_json::from_str(&response.text().await.expect("body")).expect("URL");
    let url = Url::parse(&url).expect("absolute");
    assert_eq!(
        param(&url, "login_hint").as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(param(&url, "prompt").as_deref(), Some("consent"));
    assert_eq!(
        url.query_pairs()
            .filter(|(name, _)| name == "prompt")
            .count(),
        1,
        "one prompt: {url}"
    );

    // What the flow sets, or what the provider's login_params does not list, is refused by
    // name: with JavaScript, the client's 400; without, a 400 page, and no login begun.
    for (name, body) in [
        (
            "redirect_uri",
            "params=redirect_uri%3Dhttps%3A%2F%2Fevil.example%2F",
        ),
        ("scope", "params=scope%3Dadmin"),
        ("response_type", "params=response_type%3Dtoken"),
    ] {
        let response = site.post_login(&[DATA], body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        assert!(
            set_cookies(&response).is_empty(),
            "{name}: no login under way"
        );
        let crate::AuthError::BadRequest(text) = auth_error(response).await else {
            panic!("expected BadRequest for {name}")
        };
        assert!(text.contains(&format!("\"{name}\"")), "{text}");

        let response = site.post_login(&[HTML], body).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{name}, no JavaScript"
        );
        assert!(response.headers().get(header::LOCATION).is_none());
        assert!(set_cookies(&response).is_empty());
        let page = response.text().await.expect("page");
        assert!(page.contains(name), "{page}");
    }
}

#[tokio::test]
async fn an_unknown_provider_is_a_400_that_says_to_name_none() {
    let site = site().await;
    let response = site.post_login(&[DATA], "provider=github").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let crate::AuthError::UnknownProvider(text) = auth_error(response).await else {
        panic!("expected UnknownProvider")
    };
    assert!(!text.contains("choices are: ."), "{text}");
    assert!(text.contains("only its default provider"), "{text}");
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_a_502() {
    LazyLock::force(&LOG);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let auth = test_support::auth(
        &format!("http://{addr}"),
        "a test cookie secret that is long enough",
        test_support::NOWHERE,
        "client_id = \"app\"\n",
    );
    let app =
        auth.install(Router::new().route("/api/{*fn_name}", post(leptos_axum::handle_server_fns)));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/auth/login"))
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("next=%2F")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(matches!(
        auth_error(response).await,
        crate::AuthError::ProviderUnavailable(_)
    ));
}

#[tokio::test]
async fn without_sec_fetch_site_another_origin_cannot_log_in_or_out() {
    let site = site().await;
    let own_page = format!("{}/claims", site.origin);
    for (path, headers, expected) in [
        (
            "login",
            vec![("origin", "http://evil.example")],
            StatusCode::FORBIDDEN,
        ),
        (
            "logout",
            vec![("origin", "http://evil.example")],
            StatusCode::FORBIDDEN,
        ),
        ("login", vec![("origin", "null")], StatusCode::FORBIDDEN),
        (
            "login",
            vec![("referer", "http://evil.example/x")],
            StatusCode::FORBIDDEN,
        ),
        (
            "login",
            vec![
                ("sec-fetch-site", "same-site"),
                ("origin", "http://sub.127.0.0.1.nip"),
            ],
            StatusCode::FORBIDDEN,
        ),
        (
            "login",
            vec![("origin", site.origin.as_str())],
            StatusCode::OK,
        ),
        (
            "login",
            vec![("referer", own_page.as_str())],
            StatusCode::OK,
        ),
        (
            "logout",
            vec![("origin", site.origin.as_str())],
            StatusCode::OK,
        ),
    ] {
        let mut request = site
            .http
            .post(format!("{}/api/auth/{path}", site.origin))
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, "auth_user=whatever");
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let response = request.body("next=%2F").send().await.expect("post");
        assert_eq!(response.status(), expected, "{path} with {headers:?}");
        if expected == StatusCode::FORBIDDEN {
            assert!(set_cookies(&response).is_empty(), "{path} with {headers:?}");
            assert_eq!(auth_error(response).await, crate::AuthError::CrossSite);
        }
    }
}

#[tokio::test]
async fn sign_in_answers_are_never_cached_and_the_callback_is_never_framed() {
    let site = site().await;
    let started = site.post_login(&[DATA], "next=%2F").await;
    assert_eq!(
        started.headers()[header::CACHE_CONTROL],
        "private, no-store"
    );
    let login = site.login("/").await;
    for response in [
        site.callback(&login, true).await,
        site.callback(&login, false).await,
    ] {
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "private, no-store"
        );
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
    }
    let error_page = site.callback(&login, false).await;
    assert_eq!(
        error_page.headers()[header::CONTENT_SECURITY_POLICY],
        "frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn the_back_button_to_a_used_callback_goes_home_when_signed_in() {
    let site = site().await;
    let login = site.login("/claims").await;
    let done = site.callback(&login, true).await;
    let identity = identity_cookie(&done).expect("signed in");
    let again = site
        .http
        .get(format!(
            "{}/oauth2callback?code={}&state={}",
            site.origin, login.code, login.state
        ))
        .header(header::COOKIE, &identity)
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.headers()[header::LOCATION], "/");
    // Signed out, the same visit is a "start again" page.
    let signed_out = site.callback(&login, false).await;
    assert_eq!(signed_out.status(), StatusCode::BAD_REQUEST);
    assert!(
        signed_out
            .text()
            .await
            .expect("page")
            .contains("Please start again")
    );
}

#[tokio::test]
async fn abandoned_logins_keep_the_cookie_header_small() {
    let site = site().await;
    let mut jar: Vec<String> = Vec::new();
    for _ in 0..30 {
        let response = site
            .post_login(&[DATA, ("cookie", &jar.join("; "))], "next=%2F")
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        for set in set_cookies(&response) {
            let pair = cookie_pair(&set);
            let name = pair.split('=').next().unwrap_or_default().to_owned();
            jar.retain(|kept| !kept.starts_with(&format!("{name}=")));
            if !set.contains("Max-Age=0") {
                jar.push(pair);
            }
        }
    }
    assert_eq!(
        jar.len(),
        crate::server::sealing::MAX_LOGINS_IN_FLIGHT,
        "{jar:?}"
    );
    let header_bytes = jar.join("; ").len();
    assert!(
        header_bytes < crate::server::sealing::MAX_LOGIN_STATE_BYTES,
        "{header_bytes}"
    );
}

#[tokio::test]
async fn the_apps_hooks_hear_of_sign_ins_and_outs_and_shape_the_claims() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let (heard_in, heard_out) = (events.clone(), events.clone());
    let site = site_with(move |auth| {
        auth.on_login(move |event| {
            if let Ok(mut events) = heard_in.lock() {
                events.push(format!("in {}", event.user.name().unwrap_or("?")));
            }
        })
        .on_logout(move |event| {
            if let Ok(mut events) = heard_out.lock() {
                events.push(format!("out {}", event.user.name().unwrap_or("?")));
            }
        })
        .map_claims(|claims, _| {
            claims.remove("email");
            claims.insert("role".to_owned(), serde_json::json!("reader"));
            Ok(())
        })
    })
    .await;
    let login = site.login("/").await;
    let done = site.callback(&login, true).await;
    let identity = identity_cookie(&done).expect("signed in");
    let user = site.user(&identity).await;
    assert!(user.is_logged_in());
    assert_eq!(user.email(), None, "the hook dropped it");
    assert_eq!(user.claim::<String>("role").as_deref(), Some("reader"));

    let logout = site
        .http
        .post(format!("{}/api/auth/logout", site.origin))
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, &identity)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::OK);
    let events = events
        .lock()
        .map(|events| events.clone())
        .unwrap_or_default();
    assert_eq!(events, ["in Ada Lovelace", "out Ada Lovelace"]);
}

#[tokio::test]
async fn an_account_the_app_refuses_is_not_signed_in_and_is_told_why() {
    let site = site_with(|auth| {
        auth.map_claims(
            |claims, _| match claims.get("email").and_then(|e| e.as_str()) {
                Some(email) if email.ends_with("@company.example") => Ok(()),
                _ => Err("Only company.example accounts may sign in here.".to_owned()),
            },
        )
    })
    .await;
    let login = site.login("/").await;
    let refused = site.callback(&login, true).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(identity_cookie(&refused).is_none());
    let page = refused.text().await.expect("page");
    assert!(
        page.contains("Only company.example accounts may sign in here."),
        "{page}"
    );
}

#[tokio::test]
async fn server_code_reads_the_tokens_which_live_only_in_the_store() {
    let site = site().await;
    let probe = |path: &'static str, cookie: Option<String>| {
        let mut request = site.http.get(format!("{}{path}", site.origin));
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        async move {
            let response = request.send().await.expect("probe");
            (response.status(), response.text().await.expect("body"))
        }
    };
    assert_eq!(
        probe("/probe/tokens", None).await.1,
        "refused: not_signed_in"
    );
    assert_eq!(
        probe("/probe/extractor", None).await.0,
        StatusCode::UNAUTHORIZED
    );

    let login = site.login("/").await;
    let done = site.callback(&login, true).await;
    let identity = identity_cookie(&done).expect("signed in");
    let issued = site
        .auth
        .dev_provider()
        .expect("dev provider")
        .access_tokens();
    let (status, body) = probe("/probe/tokens", Some(identity.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let (access, id) = body.split_once(' ').expect("two fields");
    assert!(issued.iter().any(|token| token == access), "{body}");
    assert_eq!(id, "id");
    assert_eq!(
        probe("/probe/extractor", Some(identity.clone())).await.1,
        access
    );
    // The cookie holds a session id only: the same size whatever the tokens.
    assert!(identity.len() < 200, "{identity}");

    // Logged out, the same cookie reads no tokens.
    let logout = site
        .http
        .post(format!("{}/api/auth/logout", site.origin))
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, &identity)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::OK);
    assert_eq!(
        probe("/probe/tokens", Some(identity)).await.1,
        "refused: not_signed_in"
    );
}

/// A developer who opens `http://localhost:PORT` of a server the development provider set up
/// on 127.0.0.1 signs in there: the login-state cookie is `localhost`'s, so the provider
/// sends the login back to `localhost`.
#[tokio::test]
async fn a_visitor_on_localhost_signs_in_there_with_the_development_provider() {
    let site = site().await;
    let port = Url::parse(&site.origin)
        .expect("origin")
        .port()
        .expect("a port");
    let localhost = format!("http://localhost:{port}");
    let host = format!("localhost:{port}");
    // The button's page, which the login comes back to.
    let page = format!("{localhost}/private");
    let from_localhost = [
        DATA,
        ("host", host.as_str()),
        ("origin", localhost.as_str()),
        ("referer", page.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let response = site.post_login(&from_localhost, "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let login_cookie = set_cookies(&response)
        .iter()
        .find(|cookie| cookie.starts_with("auth_login_"))
        .map(|cookie| cookie_pair(cookie))
        .expect("a login-state cookie");
    let body = response.text().await.expect("body");
    let authorization: String = serde_json::from_str(&body).expect("the authorization URL");
    let authorization = Url::parse(&authorization).expect("absolute");
    assert_eq!(
        param(&authorization, "redirect_uri"),
        Some(format!("{localhost}/oauth2callback"))
    );

    let mut form: Vec<(String, String)> = authorization.query_pairs().into_owned().collect();
    form.push(("name".to_owned(), "Ada Lovelace".to_owned()));
    form.push(("email".to_owned(), "ada@example.com".to_owned()));
    let mut action = authorization.clone();
    action.set_query(None);
    let response = site
        .http
        .post(action)
        .form(&form)
        .send()
        .await
        .expect("sign in");
    let back = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    let back = Url::parse(back).expect("absolute");
    assert_eq!(back.host_str(), Some("localhost"));

    let response = site
        .http
        .get(format!(
            "{}{}?{}",
            site.origin,
            back.path(),
            back.query().unwrap_or("")
        ))
        .header(header::HOST, &host)
        .header(header::COOKIE, &login_cookie)
        .send()
        .await
        .expect("callback");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/private");
    let identity = identity_cookie(&response).expect("signed in on localhost");
    assert_eq!(site.user(&identity).await.name(), Some("Ada Lovelace"));
}

/// The development provider's other names are a fixed few: a request that claims to come
/// from elsewhere cannot move the callback off this machine.
#[tokio::test]
async fn a_spoofed_host_cannot_move_the_development_callback() {
    let site = site().await;
    let spoofed = [
        DATA,
        ("host", "evil.example"),
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "same-origin"),
    ];
    let response = site.post_login(&spoofed, "").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookies(&response).is_empty(), "no login under way");
    let crate::AuthError::WrongAddress(text) = auth_error(response).await else {
        panic!("a WrongAddress refusal");
    };
    assert!(text.contains("began at evil.example but"), "{text}");
}

/// With a real provider, a login begun at another host than `redirect_uri`'s could only
/// end in "expired" (its cookie stays behind): it is refused at once, saying both hosts.
#[tokio::test]
async fn a_login_begun_at_another_host_than_redirect_uris_says_so() {
    LazyLock::force(&LOG);
    let auth = test_support::auth_with("");
    let cookies = tower_cookies::Cookies::default();
    let began_at = Url::parse("http://127.0.0.1:3000").expect("url");
    let refused = auth
        .start_login(
            &cookies,
            None,
            &crate::ui::LoginParams::default(),
            "/".to_owned(),
            Some(&began_at),
        )
        .await;
    let Err(crate::AuthError::WrongAddress(text)) = refused else {
        panic!("refused, not {refused:?}");
    };
    let said = "this sign-in began at 127.0.0.1:3000 but the provider returns to localhost:3000";
    assert!(text.to_lowercase().contains(said), "{text}");
    assert!(
        text.contains("Open the site at http://localhost:3000/"),
        "{text}"
    );
    assert!(log_text().contains(said), "{}", log_text());
    assert!(cookies.list().is_empty(), "no login-state cookie");
}

fn request(headers: &[(&str, &str)]) -> http::request::Parts {
    let mut request = http::Request::post("/api/auth/login");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(()).expect("a request").into_parts().0
}

#[test]
fn a_login_began_where_its_page_and_its_host_agree_and_nowhere_else_is_known() {
    let began =
        |headers: &[(&str, &str)]| super::began_at(&request(headers)).map(|url| url.to_string());
    let local = [
        ("host", "localhost:3000"),
        ("origin", "http://localhost:3000"),
    ];
    assert_eq!(began(&local).as_deref(), Some("http://localhost:3000/"));
    let by_referer = [("host", "[::1]:3000"), ("referer", "http://[::1]:3000/a?b")];
    assert_eq!(began(&by_referer).as_deref(), Some("http://[::1]:3000/"));
    // A proxy that rewrites Host, or a trusted origin's page posting here: unknown.
    let proxied = [
        ("host", "127.0.0.1:3000"),
        ("origin", "https://app.example"),
    ];
    assert_eq!(began(&proxied), None);
    assert_eq!(began(&[("host", "localhost:3000")]), None);
    assert_eq!(began(&[("origin", "http://localhost:3000")]), None);
    assert_eq!(began(&[("host", "x"), ("origin", "null")]), None);
}
