//! A hostile-provider test bench: a programmable fake OpenID provider on a loopback port
//! (`provider.rs`), keys and JWTs it signs with (`keys.rs`, `jwt.rs`), and [`Harness`], which
//! drives the crate's real callback through `Auth::install` and captures its log.
pub mod dpop;
pub mod jwt;
pub mod keys;
pub mod provider;
// Only the tests on a session store start Postgres or Redis; hostile_provider.rs builds this
// module too.
#[allow(dead_code)]
pub mod postgres;
#[allow(dead_code)]
pub mod redis;

use std::{
    cell::{Cell, RefCell},
    io::Write,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::{Body, to_bytes},
    http::{Request, StatusCode, header},
    routing::{get, post},
};
use leptos_login::{
    Auth, User,
    testing::{
        Clock, Completion, CookieCodec, LoginState, OidcError, Provider, ProviderConfig,
        RefreshPolicy, Secret, WallClock,
    },
};
use rand::{Rng as _, distributions::Alphanumeric};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use tower::ServiceExt as _;

use provider::FakeProvider;

pub const CLIENT_ID: &str = "hostile-suite-client";
pub const CLIENT_SECRET: &str = "hostile-suite-client-secret-0123456789";
pub const COOKIE_SECRET: &str = "hostile-suite cookie secret, 32+ bytes long";
pub const REDIRECT_URI: &str = "http://127.0.0.1:3000/oauth2callback";
/// Whom the ID tokens name unless a test says otherwise.
pub const SUBJECT: &str = "alice-0001";
/// Where the logins in these tests started, so where a success returns.
pub const RETURN_TO: &str = "/dashboard";
/// The resource server `/dpop-call` makes a proof for (query and fragment stay out of `htu`).
pub const RESOURCE_URL: &str = "https://api.example/items?page=2#top";
/// Each call to the provider may take this long (short, for the slow-endpoint case).
pub const PROVIDER_TIMEOUT: Duration = Duration::from_millis(500);

pub fn random_token() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

pub fn now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since_epoch.as_secs()).expect("fits")
}

/// A clock that reads the system's plus an offset the test advances: hours pass at once.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(
            u64::try_from(by.as_millis()).expect("fits"),
            Ordering::SeqCst,
        );
    }

    pub fn clock(&self) -> Clock {
        let offset = self.0.clone();
        Clock::new(move || Instant::now() + Duration::from_millis(offset.load(Ordering::SeqCst)))
    }

    /// The default refresh policy on this clock.
    pub fn policy(&self) -> RefreshPolicy {
        RefreshPolicy {
            clock: self.clock(),
            ..RefreshPolicy::default()
        }
    }
}

/// A login under way, as the `login` server function would have sealed it.
pub struct Login {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub code: String,
    /// `name=value` for the request's `Cookie:` header.
    pub cookie: String,
}

/// What the app answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Answer {
    /// The identity cookie this answer sets (not a removal), as sent.
    pub fn identity_cookie(&self) -> Option<&str> {
        self.set_cookies
            .iter()
            .map(String::as_str)
            .find(|cookie| cookie.starts_with("auth_user=") && !cookie.contains("Max-Age=0"))
    }

    pub fn removes(&self, name: &str) -> bool {
        self.set_cookies
            .iter()
            .any(|cookie| cookie.starts_with(&format!("{name}=")) && cookie.contains("Max-Age=0"))
    }
}

/// The app under test (`Auth::install` around a home page and the server functions), the
/// fake provider it is configured with, and everything the app logged during the test.
pub struct Harness {
    pub idp: FakeProvider,
    pub app: Router,
    provider_config: ProviderConfig,
    codec: CookieCodec,
    logs: Logs,
    /// How far the sessions' clock is ahead of the system's (seconds).
    sessions_ahead: Arc<AtomicI64>,
    /// Values that must never appear in the log.
    secrets: RefCell<Vec<String>>,
    /// How much of the log the previous assertion looked at.
    log_seen: Cell<usize>,
    _log_guard: tracing::subscriber::DefaultGuard,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with("").await
    }

    /// [`Harness::start`] with more `[auth]` keys (`more`: TOML lines).
    pub async fn start_with(more: &str) -> Self {
        Self::start_with_client(&format!("client_secret = \"{CLIENT_SECRET}\"\n"), more).await
    }

    /// [`Harness::start_with`] configured with the fake provider's multi-tenant discovery
    /// document (as Entra's `common`), whose issuer is a template.
    #[allow(dead_code)]
    pub async fn start_multi_tenant(more: &str) -> Self {
        Self::start_at(
            &format!("client_secret = \"{CLIENT_SECRET}\"\n"),
            more,
            Discovery::MultiTenant,
            |auth| auth,
        )
        .await
    }

    /// [`Harness::start_with`] with `client` (TOML lines) in place of the client secret: the
    /// client authentication under test.
    pub async fn start_with_client(client: &str, more: &str) -> Self {
        Self::start_at(client, more, Discovery::Single, |auth| auth).await
    }

    /// [`Harness::start_with`], with the app's hooks (`hooks` adds them to the `Auth`).
    #[allow(dead_code)]
    pub async fn start_hooked(more: &str, hooks: impl FnOnce(Auth) -> Auth) -> Self {
        Self::start_at(
            &format!("client_secret = \"{CLIENT_SECRET}\"\n"),
            more,
            Discovery::Single,
            hooks,
        )
        .await
    }

    async fn start_at(
        client: &str,
        more: &str,
        discovery: Discovery,
        hooks: impl FnOnce(Auth) -> Auth,
    ) -> Self {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        // Per thread: `#[tokio::test]` runs the test, the app and the provider on this one.
        let log_guard = tracing::subscriber::set_default(subscriber);

        let idp = FakeProvider::start().await;
        let (discovery_url, issuer) = match discovery {
            Discovery::Single => (idp.discovery_url(), idp.issuer().to_owned()),
            Discovery::MultiTenant => (
                idp.multi_tenant_discovery_url(),
                format!("{}/common/v2.0", idp.issuer()),
            ),
        };
        let toml = format!(
            r#"
[auth]
redirect_uri = "{REDIRECT_URI}"
cookie_secret = "{COOKIE_SECRET}"
client_id = "{CLIENT_ID}"
{client}server_metadata_url = "{}"
{more}
"#,
            discovery_url
        );
        let config =
            leptos_login::testing::from_sources(Path::new("test.toml"), Some(&toml), |_| None)
                .expect("a valid configuration")
                .expect("configured");
        assert_eq!(config.providers[0].issuer, issuer);
        let provider_config = config.providers[0].clone();
        let sessions_ahead = Arc::new(AtomicI64::new(0));
        let ahead = sessions_ahead.clone();
        let clock = WallClock::new(move || {
            OffsetDateTime::now_utc() + time::Duration::seconds(ahead.load(Ordering::SeqCst))
        });
        let auth = hooks(
            Auth::with_provider_timeout(config, PROVIDER_TIMEOUT)
                .expect("auth")
                .with_session_clock(clock),
        );
        let app = auth.install(
            Router::new()
                .route("/", get(|| async { "home page" }))
                .route(
                    "/whoami",
                    get(|user: Option<User>| async move {
                        user.and_then(|user| user.sub().map(str::to_owned))
                            .unwrap_or_else(|| "nobody".to_owned())
                    }),
                )
                // The signed-in user's claims, as a page would show them.
                .route(
                    "/claims",
                    get(|user: Option<User>| async move {
                        user.map(|user| Value::Object(user.claims().clone()).to_string())
                            .unwrap_or_else(|| "nobody".to_owned())
                    }),
                )
                // Server code that reads the access token (refreshed when due).
                .route(
                    "/access-token",
                    get(|| async {
                        let tokens = leptos_login::tokens().await?;
                        Ok::<_, leptos_login::AuthError>(
                            tokens.access_token().unwrap_or("-").to_owned(),
                        )
                    }),
                )
                // Server code about to call a resource server with a DPoP-bound token
                // (tests/dpop.rs): the token type, the token, and a proof for the call.
                .route(
                    "/dpop-call",
                    get(|| async {
                        let tokens = leptos_login::tokens().await?;
                        let proof = tokens.dpop_proof("GET", RESOURCE_URL)?;
                        Ok::<_, leptos_login::AuthError>(format!(
                            "{}\n{}\n{proof}",
                            tokens.token_type(),
                            tokens.access_token().unwrap_or("-"),
                        ))
                    }),
                )
                // Server code that reads the tokens, then asks userinfo with them, in one
                // request (tests/refresh.rs): what it shows is the access token used.
                .route(
                    "/tokens-then-userinfo",
                    get(|| async {
                        let tokens = leptos_login::tokens().await?;
                        leptos_login::userinfo().await?;
                        Ok::<_, leptos_login::AuthError>(
                            tokens.access_token().unwrap_or("-").to_owned(),
                        )
                    }),
                )
                .route("/api/{*fn_name}", post(leptos_axum::handle_server_fns)),
        );
        let secrets = vec![
            CLIENT_SECRET.to_owned(),
            COOKIE_SECRET.to_owned(),
            idp.access_token().to_owned(),
        ];
        Self {
            idp,
            app,
            provider_config,
            codec: CookieCodec::new(&Secret::new(COOKIE_SECRET), false),
            sessions_ahead,
            logs,
            secrets: RefCell::new(secrets),
            log_seen: Cell::new(0),
            _log_guard: log_guard,
        }
    }

    /// Moves the app's sessions' clock on by `seconds` (the provider's stays).
    #[allow(dead_code)]
    pub fn advance_sessions(&self, seconds: i64) {
        self.sessions_ahead.fetch_add(seconds, Ordering::SeqCst);
    }

    /// The provider as the app has it, but on its own (with `policy`): for the tests that
    /// move its clock, which call [`Provider::complete`] as the callback does.
    pub fn provider(&self, policy: RefreshPolicy) -> Provider {
        let http = Provider::http_client(PROVIDER_TIMEOUT).expect("an HTTP client");
        let redirect_uri = url::Url::parse(REDIRECT_URI).expect("a URL");
        Provider::new(self.provider_config.clone(), &redirect_uri, http).with_refresh_policy(policy)
    }

    /// What `provider` makes of `login` when the provider's code exchange answers `id_token`.
    pub async fn complete(
        &self,
        provider: &Provider,
        login: &Login,
        id_token: String,
    ) -> Result<Map<String, Value>, OidcError> {
        self.idp.set_id_token(id_token);
        provider
            .complete(Completion {
                code: login.code.clone(),
                pkce_verifier: login.pkce_verifier.clone(),
                nonce: &login.nonce,
                max_age: None,
            })
            .await
    }

    /// `secret` must never appear in the log either.
    #[allow(dead_code)]
    pub fn keep_out_of_the_log(&self, secret: &str) {
        self.secrets.borrow_mut().push(secret.to_owned());
    }

    /// A fresh login under way: random `state`, `nonce`, PKCE verifier and code.
    pub fn login(&self) -> Login {
        self.login_asking(None)
    }

    /// [`Harness::login`] for a login that asked for `max_age` (seconds).
    pub fn login_asking(&self, max_age: Option<u64>) -> Login {
        self.login_as_asked(max_age, None)
    }

    /// [`Harness::login`] for a login that asked for one of `acr_values`.
    pub fn login_asking_acr(&self, acr_values: &str) -> Login {
        self.login_as_asked(None, Some(acr_values.to_owned()))
    }

    fn login_as_asked(&self, max_age: Option<u64>, acr_values: Option<String>) -> Login {
        let login = LoginState {
            state: random_token(),
            nonce: random_token(),
            pkce_verifier: random_token(),
            provider: None,
            return_to: RETURN_TO.to_owned(),
            redirect_uri: None,
            max_age,
            acr_values,
        };
        let cookie = self
            .codec
            .login_state_cookie(&login, OffsetDateTime::now_utc())
            .expect("a plausible state");
        let code = format!("code-{}", random_token());
        self.secrets.borrow_mut().extend([
            code.clone(),
            login.pkce_verifier.clone(),
            cookie.value().to_owned(),
        ]);
        Login {
            cookie: format!("{}={}", cookie.name(), cookie.value()),
            state: login.state,
            nonce: login.nonce,
            pkce_verifier: login.pkce_verifier,
            code,
        }
    }

    /// A valid claim set for `login`: our issuer and client, fresh, its nonce.
    pub fn claims(&self, login: &Login) -> Value {
        json!({
            "iss": self.idp.issuer(),
            "sub": SUBJECT,
            "aud": CLIENT_ID,
            "iat": now(),
            "exp": now() + 300,
            "nonce": login.nonce,
            "name": "Alice Example",
            "email": "alice@example.com",
        })
    }

    /// The provider's next code exchange answers `id_token`; then the browser comes back.
    pub async fn return_with(&self, login: &Login, id_token: String) -> Answer {
        {
            let mut secrets = self.secrets.borrow_mut();
            secrets.extend(id_token.split('.').map(str::to_owned));
            secrets.push(id_token.clone());
        }
        self.idp.set_id_token(id_token);
        self.callback(login).await
    }

    /// The browser comes back from the provider with `login`'s code and state.
    pub async fn callback(&self, login: &Login) -> Answer {
        let uri = format!("/oauth2callback?code={}&state={}", login.code, login.state);
        self.get(&uri, Some(&login.cookie)).await
    }

    /// [`Harness::callback`] with `iss` on the redirect, as RFC 9207 has providers say who
    /// sent the browser back.
    pub async fn callback_from(&self, login: &Login, iss: &str) -> Answer {
        let iss: String = url::form_urlencoded::byte_serialize(iss.as_bytes()).collect();
        let uri = format!(
            "/oauth2callback?code={}&state={}&iss={iss}",
            login.code, login.state
        );
        self.get(&uri, Some(&login.cookie)).await
    }

    pub async fn get(&self, uri: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::get(uri);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).expect("a request"))
            .await
    }

    /// POSTs `body` (a form) to `uri`, as a provider or a hydrated form does.
    // Only logout_routes.rs posts forms; hostile_provider.rs builds this module too.
    #[allow(dead_code)]
    pub async fn post_form(&self, uri: &str, body: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(
            request
                .body(Body::from(body.to_owned()))
                .expect("a request"),
        )
        .await
    }

    /// Calls the `login` server function as `<LoginButton/>`'s script does.
    pub async fn call_login_server_fn(&self) -> Answer {
        self.call_login_server_fn_with("next=%2Fdashboard").await
    }

    /// The `login` server function called with `form` (URL-encoded arguments).
    pub async fn call_login_server_fn_with(&self, form: &'static str) -> Answer {
        let request = Request::post("/api/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(form))
            .expect("a request");
        self.send(request).await
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned))
            .collect();
        let body = to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        let mut secrets = self.secrets.borrow_mut();
        for cookie in &set_cookies {
            if let Ok(parsed) = cookie::Cookie::parse(cookie.as_str())
                && !parsed.value().is_empty()
            {
                secrets.push(parsed.value().to_owned());
            }
        }
        Answer {
            status,
            location,
            set_cookies,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// A success: back to where the login started, with an identity cookie that opens.
    /// Returns the user it holds.
    #[track_caller]
    pub fn assert_signed_in(&self, answer: &Answer, login: &Login) -> User {
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "expected a sign-in; got {answer:?}\nlog:\n{}",
            self.log()
        );
        assert_eq!(answer.location.as_deref(), Some(RETURN_TO));
        let set = answer
            .identity_cookie()
            .unwrap_or_else(|| panic!("no identity cookie in {:?}", answer.set_cookies));
        assert!(
            set.len() <= 4096,
            "the identity cookie is {} bytes",
            set.len()
        );
        let cookie = cookie::Cookie::parse(set.to_owned()).expect("a cookie");
        let user = self
            .codec
            .open_identity(&cookie, OffsetDateTime::now_utc())
            .expect("the identity cookie opens");
        assert!(answer.removes(&format!("auth_login_{}", login.state)));
        assert!(self.new_log().contains("signed in"));
        self.assert_log_keeps_secrets();
        user
    }

    /// A rejection as the checklist defines it: the error page with a link home and
    /// `page_text`, `status`, no identity cookie, the login over, and exactly one log line
    /// since the previous assertion saying why (holding `log_reason`), and no token, code,
    /// cookie or secret anywhere in the log.
    #[track_caller]
    pub fn assert_rejected(
        &self,
        answer: &Answer,
        login: &Login,
        status: StatusCode,
        page_text: &str,
        log_reason: &str,
    ) {
        let log = self.new_log();
        assert_eq!(answer.status, status, "{answer:?}\nlog:\n{log}");
        assert!(
            answer.body.contains("<h1>Sign-in failed</h1>"),
            "{answer:?}"
        );
        assert!(
            answer
                .body
                .contains("<a href=\"/\">Back to the home page</a>"),
            "{answer:?}"
        );
        assert!(
            answer.body.contains(page_text),
            "expected {page_text:?} on the page: {answer:?}"
        );
        assert_eq!(
            answer.identity_cookie(),
            None,
            "an identity cookie was set: {answer:?}"
        );
        assert!(
            answer.removes(&format!("auth_login_{}", login.state)),
            "the login-state cookie was not removed: {answer:?}"
        );
        let failures: Vec<&str> = log
            .lines()
            .filter(|line| line.contains("sign-in failed"))
            .collect();
        assert_eq!(failures.len(), 1, "one failure line expected; log:\n{log}");
        assert!(
            failures[0].contains(log_reason),
            "expected {log_reason:?} in the log line: {}",
            failures[0]
        );
        assert!(!log.contains("signed in"), "log:\n{log}");
        self.assert_log_keeps_secrets();
    }

    /// No token, code, PKCE verifier, cookie value or secret seen in this test is in the log.
    #[track_caller]
    pub fn assert_log_keeps_secrets(&self) {
        let log = self.log();
        for secret in self.secrets.borrow().iter().filter(|s| s.len() >= 8) {
            assert!(
                !log.contains(secret.as_str()),
                "the log holds a secret ({}…):\n{log}",
                &secret[..8]
            );
        }
    }

    /// Everything logged in this test.
    pub fn log(&self) -> String {
        self.logs.text()
    }

    /// What was logged since the previous call.
    fn new_log(&self) -> String {
        let log = self.logs.text();
        let fresh = log
            .get(self.log_seen.get()..)
            .unwrap_or_default()
            .to_owned();
        self.log_seen.set(log.len());
        fresh
    }
}

/// Which of the fake provider's discovery documents the app is configured with.
enum Discovery {
    /// Its own issuer, exactly.
    Single,
    /// The multi-tenant one, with a templated issuer.
    MultiTenant,
}

/// The test's log output, shared with the subscriber's writer.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
