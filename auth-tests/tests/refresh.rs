//! Refreshing a session's tokens (issue #10, point 2) against the programmable fake provider
//! (see `support/`): `Sessions::fresh_tokens` with `Provider::refresh`, as `leptos_login::tokens()`
//! calls them. Sessions live in a SQLite file of the test's own; two `Sessions` on one file
//! (or on one Redis or one Postgres, when installed) stand for two servers.
//!
//! The fake provider answers the refresh grant with `{access}-refreshed-N` (N counting refresh
//! requests from 1), `expires_in` 300, no ID token and no new refresh token unless a test
//! scripts them; the sign-in here hands out `refresh-0`, and the sessions' clock then moves
//! on by [`SIGNED_IN_AGO`] (the provider's stays).
#[allow(dead_code)]
mod support;

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use axum::http::StatusCode;
use leptos_login::{
    AuthError, User,
    testing::{
        Account, Completion, CookieCodec, Found, Provider, RefreshError, Secret, SessionConfig,
        Sessions, StoreConfig, TokenSet, WallClock,
    },
};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tower_cookies::Cookies;

use support::{
    CLIENT_ID, COOKIE_SECRET, Harness, Login, PROVIDER_TIMEOUT, SUBJECT, TestClock,
    jwt::Jwt,
    keys::{RSA_A, RSA_FORGER},
    now,
    postgres::PostgresServer,
    redis::RedisServer,
};

/// The refresh token the sign-in hands out.
const FIRST_REFRESH_TOKEN: &str = "refresh-0";
/// An access token living this long, issued [`SIGNED_IN_AGO`], is within the margin in force
/// (the default 60 s, at most half the token's life: 15 s): refreshed at the first ask.
const SOON: u64 = 30;
/// Beyond it: not refreshed.
const LATER: u64 = 300;
/// How long ago, for the sessions, the test's sign-in was.
const SIGNED_IN_AGO: i64 = 20;

/// The fake provider, the crate's `Provider` for it, and where sessions are kept.
struct Bench {
    h: Harness,
    provider: Arc<Provider>,
    codec: CookieCodec,
    store: StoreConfig,
    /// How far the sessions' clock is ahead of the system's (seconds).
    ahead: Arc<AtomicI64>,
    _file: Option<TempFile>,
}

/// A browser just signed in: its cookie jar, its login and the tokens it began with.
struct SignedIn {
    cookies: Cookies,
    login: Login,
    tokens: TokenSet,
}

impl Bench {
    /// Sessions in a SQLite file of this test's own.
    async fn sqlite(name: &str) -> Self {
        let file = TempFile::new(name);
        let store = StoreConfig::Sqlite(file.0.clone());
        Self::with_store(store, Some(file)).await
    }

    async fn with_store(store: StoreConfig, file: Option<TempFile>) -> Self {
        Self::configured(store, file, "").await
    }

    /// As [`Bench::with_store`], the provider configured with `more` too (TOML lines).
    async fn configured(store: StoreConfig, file: Option<TempFile>, more: &str) -> Self {
        let h = Harness::start_with(more).await;
        let provider = Arc::new(h.provider(TestClock::default().policy()));
        Self {
            h,
            provider,
            codec: CookieCodec::new(&Secret::new(COOKIE_SECRET), false),
            store,
            ahead: Arc::default(),
            _file: file,
        }
    }

    /// A server: `Sessions` on the bench's store (each call opens another).
    fn server(&self) -> Arc<Sessions> {
        let config = SessionConfig {
            store: self.store.clone(),
            ..SessionConfig::default()
        };
        let ahead = self.ahead.clone();
        let clock = WallClock::new(move || {
            time::OffsetDateTime::now_utc() + time::Duration::seconds(ahead.load(Ordering::SeqCst))
        });
        Arc::new(
            Sessions::new(&config)
                .expect("the store opens")
                .with_clock(clock),
        )
    }

    /// Signs a browser in on `sessions`: the code exchange hands out an access token valid
    /// for `expires_in` seconds and the refresh token `refresh-0`. Refresh answers are the
    /// fake provider's defaults again afterwards.
    async fn sign_in(&self, sessions: &Sessions, expires_in: u64) -> SignedIn {
        self.sign_in_with(sessions, expires_in, FIRST_REFRESH_TOKEN)
            .await
    }

    /// As [`Bench::sign_in`], handing out `refresh_token`.
    async fn sign_in_with(
        &self,
        sessions: &Sessions,
        expires_in: u64,
        refresh_token: &str,
    ) -> SignedIn {
        let signed_in = self.sign_in_now(sessions, expires_in, refresh_token).await;
        self.ahead.fetch_add(SIGNED_IN_AGO, Ordering::SeqCst);
        signed_in
    }

    /// As [`Bench::sign_in_with`], leaving the sessions' clock where it is.
    async fn sign_in_now(
        &self,
        sessions: &Sessions,
        expires_in: u64,
        refresh_token: &str,
    ) -> SignedIn {
        let idp = &self.h.idp;
        idp.set_token_members(json!({
            "refresh_token": refresh_token,
            "expires_in": expires_in,
        }));
        let login = self.h.login();
        idp.set_id_token(Jwt::new(self.h.claims(&login)).sign(&*RSA_A));
        let (claims, tokens) = self
            .provider
            .complete_with_tokens(Completion {
                code: login.code.clone(),
                pkce_verifier: login.pkce_verifier.clone(),
                nonce: &login.nonce,
                max_age: None,
            })
            .await
            .expect("signed in");
        idp.set_token_members(json!({}));
        assert_eq!(tokens.access_token(), idp.access_token());
        assert_eq!(tokens.refresh_token(), Some(refresh_token));
        let user = User::signed_in(claims.clone(), None);
        let account = Account::of(idp.issuer(), &claims).expect("a subject");
        let cookies = Cookies::default();
        sessions
            .begin(&self.codec, &cookies, &user, &account, Some(&tokens))
            .await
            .expect("the session begins");
        SignedIn {
            cookies,
            login,
            tokens,
        }
    }

    /// Who `sessions` finds behind `browser`'s cookie.
    async fn found(&self, sessions: &Sessions, browser: &SignedIn) -> Found {
        sessions.identify(&self.codec, &browser.cookies).await
    }

    /// Whether `sessions` still finds `browser` signed in.
    async fn is_logged_in(&self, sessions: &Sessions, browser: &SignedIn) -> bool {
        self.found(sessions, browser).await.user.is_logged_in()
    }

    /// `fresh_tokens` as `leptos_login::tokens()` calls it.
    async fn fresh(&self, sessions: &Sessions, found: &Found) -> Result<TokenSet, AuthError> {
        fresh(sessions, &self.codec, found, &self.provider).await
    }

    /// An ID token for a refresh answer: the sign-in's claims (same nonce), issued now, as
    /// `edit` changes them, signed by the provider's key.
    fn refreshed_id_token(&self, login: &Login, edit: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.h.claims(login);
        edit(&mut claims);
        Jwt::new(claims).sign(&*RSA_A)
    }

    fn refreshes(&self) -> usize {
        self.h.idp.refresh_requests().len()
    }
}

async fn fresh(
    sessions: &Sessions,
    codec: &CookieCodec,
    found: &Found,
    provider: &Provider,
) -> Result<TokenSet, AuthError> {
    sessions
        .fresh_tokens(codec, found, |current| async move {
            provider.refresh(&current).await
        })
        .await
}

/// `callers` concurrent `fresh_tokens` for one session, on each of `servers` (with the session
/// as that server found it); their access tokens (or errors), in no particular order.
async fn concurrently(
    bench: &Bench,
    servers: &[(Arc<Sessions>, Found, usize)],
) -> Vec<Result<String, AuthError>> {
    let mut tasks = JoinSet::new();
    for (sessions, found, callers) in servers {
        for _ in 0..*callers {
            let (sessions, found) = (sessions.clone(), found.clone());
            let (codec, provider) = (bench.codec.clone(), bench.provider.clone());
            tasks.spawn(async move {
                fresh(&sessions, &codec, &found, &provider)
                    .await
                    .map(|tokens| tokens.access_token().to_owned())
            });
        }
    }
    tasks
        .join_all()
        .await
        .into_iter()
        .collect::<Vec<Result<String, AuthError>>>()
}

// --- 1, 2: when to refresh -------------------------------------------------------------------

#[tokio::test]
async fn an_access_token_valid_beyond_the_margin_is_returned_without_a_refresh() {
    let bench = Bench::sqlite("valid").await;
    let server = bench.server();
    let browser = bench.sign_in(&server, LATER).await;
    let found = bench.found(&server, &browser).await;
    assert!(found.user.is_logged_in());

    for _ in 0..3 {
        let tokens = bench.fresh(&server, &found).await.expect("the tokens");
        assert_eq!(tokens.access_token(), bench.h.idp.access_token());
        assert_eq!(tokens.refresh_token(), Some(FIRST_REFRESH_TOKEN));
    }
    assert_eq!(bench.refreshes(), 0, "{:?}", bench.h.idp.hit_counts());
}

#[tokio::test]
async fn within_the_margin_the_tokens_are_refreshed_once_and_the_session_keeps_them() {
    let bench = Bench::sqlite("margin").await;
    let server = bench.server();
    let browser = bench.sign_in(&server, SOON).await;
    let found = bench.found(&server, &browser).await;

    let before = now();
    let tokens = bench.fresh(&server, &found).await.expect("refreshed");
    assert_eq!(tokens.access_token(), bench.h.idp.refreshed_access_token(1));
    let expires_at = tokens.expires_at().expect("an expiry");
    assert!(
        (before + 299..=now() + 301).contains(&expires_at),
        "expires_in 300 from now, not {expires_at}"
    );
    // No new refresh token and no ID token in the answer: the old ones stay.
    assert_eq!(tokens.refresh_token(), Some(FIRST_REFRESH_TOKEN));
    assert_eq!(tokens.id_token(), browser.tokens.id_token());
    let requests = bench.h.idp.refresh_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].form("refresh_token").as_deref(),
        Some(FIRST_REFRESH_TOKEN)
    );
    assert!(
        requests[0].authorization.is_some(),
        "the client authenticates (client_secret_basic)"
    );

    // The session keeps them: the same Found (read before the refresh), a new request's, and
    // another server's all get the refreshed token without asking the provider again.
    let again = bench.fresh(&server, &found).await.expect("the tokens");
    assert_eq!(again.access_token(), tokens.access_token());
    let found_later = bench.found(&server, &browser).await;
    let later = bench
        .fresh(&server, &found_later)
        .await
        .expect("the tokens");
    assert_eq!(later.access_token(), tokens.access_token());
    let other = bench.server();
    let found_there = bench.found(&other, &browser).await;
    let there = bench.fresh(&other, &found_there).await.expect("the tokens");
    assert_eq!(there.access_token(), tokens.access_token());
    assert_eq!(bench.refreshes(), 1, "{:?}", bench.h.idp.hit_counts());
}

/// Tokens living shorter than the margin (some providers issue 5-minute ones, test set-ups
/// seconds): refreshed once per expiry, not at every request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_living_five_seconds_are_refreshed_once_per_expiry_under_the_default_margin() {
    const LIFETIME: u64 = 5;
    let bench = Bench::sqlite("short-lived").await;
    let server = bench.server();
    let browser = bench
        .sign_in_now(&server, LIFETIME, FIRST_REFRESH_TOKEN)
        .await;
    assert!(
        bench.h.log().contains(
            "token_refresh_margin (60 s) is longer than the provider's access tokens live (5 s)"
        ),
        "the log says the margin is cut: {}",
        bench.h.log()
    );
    let idp = &bench.h.idp;
    idp.set_refresh_members(json!({ "expires_in": LIFETIME }));
    let five_sequential = || async {
        let mut seen = Vec::new();
        for _ in 0..5 {
            let found = bench.found(&server, &browser).await;
            let tokens = bench.fresh(&server, &found).await.expect("the tokens");
            seen.push(tokens.access_token().to_owned());
        }
        seen
    };

    // Within its life, however often asked: no refresh.
    for access in five_sequential().await {
        assert_eq!(access, idp.access_token());
    }
    assert_eq!(bench.refreshes(), 0, "{:?}", idp.hit_counts());

    // Expired: thirty requests at once, one refresh.
    tokio::time::sleep(Duration::from_secs(LIFETIME) + Duration::from_millis(100)).await;
    let found = bench.found(&server, &browser).await;
    let results = concurrently(&bench, &[(server.clone(), found, 30)]).await;
    assert_eq!(bench.refreshes(), 1, "{:?}", idp.hit_counts());
    let refreshed = idp.refreshed_access_token(1);
    assert!(
        results
            .iter()
            .all(|result| result.as_deref() == Ok(refreshed.as_str())),
        "{results:?}"
    );

    // The new token, living 5 s too, is not refreshed again within its life.
    for access in five_sequential().await {
        assert_eq!(access, refreshed);
    }
    assert_eq!(bench.refreshes(), 1, "{:?}", idp.hit_counts());
}

/// `tokens()` and then `userinfo()` in one request, with tokens that are due again as soon as
/// refreshed (they expire at once): one refresh, not one for each.
#[tokio::test]
async fn a_token_refreshed_for_a_request_is_not_refreshed_again_in_it() {
    let file = TempFile::new("one-request");
    let h = support::Harness::start_with(&format!(
        "session_store = \"sqlite:{}\"\nexpose_tokens = [\"access\"]\n",
        file.0.display()
    ))
    .await;
    h.idp.set_token_members(json!({
        "refresh_token": FIRST_REFRESH_TOKEN,
        "expires_in": 0,
    }));
    h.idp.set_refresh_members(json!({ "expires_in": 0 }));
    let login = h.login();
    let id_token = Jwt::new(h.claims(&login)).sign(&*RSA_A);
    let answer = h.return_with(&login, id_token).await;
    let cookie = answer.identity_cookie().expect("signed in");
    let cookie = cookie.split(';').next().unwrap_or_default().to_owned();

    let answer = h.get("/tokens-then-userinfo", Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.body, h.idp.refreshed_access_token(1));
    assert_eq!(
        h.idp.refresh_requests().len(),
        1,
        "{:?}",
        h.idp.hit_counts()
    );
}

/// A refresh that a request waits on costs one request to the provider, the token endpoint's:
/// discovery and keys come from the cache, the refreshed ID token is checked with the cached
/// keys, and userinfo is not asked.
#[tokio::test]
async fn a_refresh_is_one_request_to_the_provider() {
    let file = TempFile::new("one-call");
    let h = support::Harness::start_with(&format!(
        "session_store = \"sqlite:{}\"\nexpose_tokens = [\"access\"]\n",
        file.0.display()
    ))
    .await;
    h.idp.set_token_members(json!({
        "refresh_token": FIRST_REFRESH_TOKEN,
        "expires_in": 0,
    }));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    let cookie = answer.identity_cookie().expect("signed in");
    let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
    h.idp
        .set_refresh_id_token(Some(Jwt::new(h.claims(&login)).sign(&*RSA_A)));

    let before = h.idp.hit_counts();
    let answer = h.get("/access-token", Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.body, h.idp.refreshed_access_token(1));
    let after = h.idp.hit_counts();
    let total = |counts: &std::collections::HashMap<_, usize>| counts.values().sum::<usize>();
    assert_eq!(
        total(&after) - total(&before),
        1,
        "{before:?} then {after:?}"
    );
    assert_eq!(h.idp.refresh_requests().len(), 1);
}

// --- 3: one refresh for many requests, on several servers ------------------------------------

/// Ten requests on one server and five on another, at once, for one session that needs a
/// refresh: exactly one refresh reaches the provider, and all get its access token.
async fn one_refresh_for_fifteen_callers_on_two_servers(bench: &Bench) {
    let (a, b) = (bench.server(), bench.server());
    let browser = bench.sign_in(&a, SOON).await;
    let found_a = bench.found(&a, &browser).await;
    let found_b = bench.found(&b, &browser).await;
    assert!(found_a.user.is_logged_in() && found_b.user.is_logged_in());
    bench.h.idp.set_refresh_delay(Duration::from_millis(300));

    let results = concurrently(bench, &[(a.clone(), found_a, 10), (b.clone(), found_b, 5)]).await;

    assert_eq!(
        bench.refreshes(),
        1,
        "one refresh for all; hits: {:?}",
        bench.h.idp.hit_counts()
    );
    let expected = bench.h.idp.refreshed_access_token(1);
    assert_eq!(results.len(), 15);
    for result in &results {
        assert_eq!(result.as_deref(), Ok(expected.as_str()), "{results:?}");
    }
    // And both servers keep finding the session, with the refreshed token.
    for server in [&a, &b] {
        let found = bench.found(server, &browser).await;
        let tokens = bench.fresh(server, &found).await.expect("the tokens");
        assert_eq!(tokens.access_token(), expected);
    }
    assert_eq!(bench.refreshes(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_two_servers_sharing_sqlite_refresh_once() {
    let bench = Bench::sqlite("single-flight").await;
    one_refresh_for_fifteen_callers_on_two_servers(&bench).await;
}

/// With DPoP (`dpop = true`) the key travels sealed with the tokens it guards: the single
/// flight holds as without, and the one refresh proves the session's key, which both servers
/// keep with the refreshed tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_dpop_two_servers_still_refresh_once_and_keep_the_sessions_key() {
    let file = TempFile::new("dpop-single-flight");
    let store = StoreConfig::Sqlite(file.0.clone());
    let bench = Bench::configured(
        store,
        Some(file),
        "session_store = \"memory\"\nexpose_tokens = [\"access\"]\ndpop = true\n",
    )
    .await;
    one_refresh_for_fifteen_callers_on_two_servers(&bench).await;

    let sign_in = &bench.h.idp.requests(support::provider::Endpoint::Token)[0];
    let jkt = |hit: &support::provider::Hit| {
        let htu = format!("{}/token", bench.h.idp.issuer());
        support::dpop::verify(hit.dpop.as_deref().expect("a proof"), "POST", &htu, None)
            .expect("a good proof")
            .jkt
    };
    let key = jkt(sign_in);
    let refreshes = bench.h.idp.refresh_requests();
    assert_eq!(refreshes.len(), 1);
    assert_eq!(
        jkt(&refreshes[0]),
        key,
        "the refresh proves the session's key"
    );
    let server = bench.server();
    let browser = bench.sign_in(&server, LATER).await;
    let found = bench.found(&server, &browser).await;
    let tokens = bench.fresh(&server, &found).await.expect("the tokens");
    assert_eq!(tokens.token_type(), Some("DPoP"));
    assert!(tokens.dpop_thumbprint().is_some());
    assert_ne!(
        tokens.dpop_thumbprint(),
        Some(key),
        "another session, another key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_two_servers_sharing_redis_refresh_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let bench = Bench::with_store(redis.config(), None).await;
    one_refresh_for_fifteen_callers_on_two_servers(&bench).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_two_servers_sharing_postgres_refresh_once() {
    let Some(postgres) = PostgresServer::start() else {
        return;
    };
    let bench = Bench::with_store(postgres.config(), None).await;
    one_refresh_for_fifteen_callers_on_two_servers(&bench).await;
}

// --- 4: rotating refresh tokens --------------------------------------------------------------

#[tokio::test]
async fn a_rotated_refresh_token_replaces_the_old_one_which_is_never_sent_again() {
    let bench = Bench::sqlite("rotation").await;
    let server = bench.server();
    let browser = bench.sign_in(&server, SOON).await;
    let idp = &bench.h.idp;
    idp.rotate_refresh_tokens(true);
    // Each refreshed access token is again within the margin: every ask refreshes.
    idp.set_refresh_members(json!({ "expires_in": SOON }));

    for n in 1..=4 {
        let found = bench.found(&server, &browser).await;
        let tokens = bench.fresh(&server, &found).await.expect("refreshed");
        assert_eq!(tokens.access_token(), idp.refreshed_access_token(n));
        assert_eq!(
            tokens.refresh_token(),
            Some(format!("rotated-{n}").as_str())
        );
    }

    let sent: Vec<String> = idp
        .refresh_requests()
        .iter()
        .map(|hit| {
            hit.form("refresh_token")
                .expect("a refresh_token parameter")
        })
        .collect();
    assert_eq!(
        sent,
        [FIRST_REFRESH_TOKEN, "rotated-1", "rotated-2", "rotated-3"]
    );

    // A provider that stops rotating: the last one it gave stays, and is sent again.
    idp.rotate_refresh_tokens(false);
    let found = bench.found(&server, &browser).await;
    let tokens = bench.fresh(&server, &found).await.expect("refreshed");
    assert_eq!(tokens.refresh_token(), Some("rotated-4"));
    let last = idp.refresh_requests().pop().expect("a request");
    assert_eq!(last.form("refresh_token").as_deref(), Some("rotated-4"));
}

/// As a browser's parallel requests meet two servers, in six rounds (the race is on
/// timing): with rotation and reuse detection, a refresh token sent twice would end the
/// session. Each round's sign-in hands out a refresh token of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_two_servers_spend_a_rotating_refresh_token_once() {
    const SERVERS: usize = 2;
    const ROUNDS: u64 = 6;
    let bench = Bench::sqlite("rotation-concurrent").await;
    let servers: Vec<Arc<Sessions>> = (0..SERVERS).map(|_| bench.server()).collect();
    let idp = &bench.h.idp;
    for round in 1..=ROUNDS {
        let first = format!("refresh-round-{round}");
        let browser = bench.sign_in_with(&servers[0], SOON, &first).await;
        idp.rotate_refresh_tokens(true);
        idp.refuse_spent_refresh_tokens(true);
        // About 300 ms: the other servers look again every 100 ms, and one may look just as
        // the refresh ends.
        idp.set_refresh_delay(Duration::from_millis(295 + 2 * round));
        let mut callers = Vec::new();
        for server in &servers {
            callers.push((server.clone(), bench.found(server, &browser).await, 3));
        }
        let before = bench.refreshes();

        let results = concurrently(&bench, &callers).await;

        let sent: Vec<Option<String>> = idp.refresh_requests()[before..]
            .iter()
            .map(|hit| hit.form("refresh_token"))
            .collect();
        assert_eq!(
            sent,
            [Some(first)],
            "round {round}: the sign-in's refresh token, once; results: {results:?}"
        );
        let expected = idp.refreshed_access_token(before + 1);
        for result in &results {
            assert_eq!(result.as_deref(), Ok(expected.as_str()), "round {round}");
        }
        assert!(bench.is_logged_in(&servers[0], &browser).await);
        idp.rotate_refresh_tokens(false);
        idp.set_refresh_delay(Duration::ZERO);
    }
}

// --- 5: a refused refresh ends the session ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_refresh_ends_the_session_once_without_a_retry_storm() {
    let bench = Bench::sqlite("refused").await;
    let (a, b) = (bench.server(), bench.server());
    let browser = bench.sign_in(&a, SOON).await;
    let idp = &bench.h.idp;
    idp.fail_refresh(Some((
        StatusCode::BAD_REQUEST,
        json!({ "error": "invalid_grant", "error_description": "the refresh token was revoked" }),
    )));
    idp.set_refresh_delay(Duration::from_millis(200));
    let found_a = bench.found(&a, &browser).await;
    let found_b = bench.found(&b, &browser).await;

    let results = concurrently(
        &bench,
        &[(a.clone(), found_a.clone(), 5), (b.clone(), found_b, 3)],
    )
    .await;
    for result in &results {
        assert_eq!(result, &Err(AuthError::LoginEnded), "{results:?}");
    }
    assert_eq!(bench.refreshes(), 1, "{:?}", idp.hit_counts());

    // The session is gone on both servers, and the cookie with it.
    assert!(!bench.is_logged_in(&a, &browser).await);
    assert!(!bench.is_logged_in(&b, &browser).await);
    // A later ask (by a request that found the session before it ended) does not try again.
    assert_eq!(
        bench.fresh(&a, &found_a).await.map(|_| ()),
        Err(AuthError::LoginEnded)
    );
    assert_eq!(bench.refreshes(), 1, "{:?}", idp.hit_counts());
}

// --- 6: the refreshed ID token (OpenID Connect Core 12.2) ------------------------------------

/// Signs in, has the refresh answer carry the ID token `make` writes for the login, and asks
/// for fresh tokens: first `Provider::refresh` alone (its verdict), then `fresh_tokens`.
async fn refresh_with_id_token(
    name: &str,
    make: impl FnOnce(&Bench, &Login) -> String,
) -> (
    Bench,
    Arc<Sessions>,
    SignedIn,
    Result<TokenSet, RefreshError>,
    Result<TokenSet, AuthError>,
) {
    let bench = Bench::sqlite(name).await;
    let server = bench.server();
    let browser = bench.sign_in(&server, SOON).await;
    let id_token = make(&bench, &browser.login);
    bench.h.idp.set_refresh_id_token(Some(id_token));
    let verdict = bench.provider.refresh(&browser.tokens).await;
    let found = bench.found(&server, &browser).await;
    let outcome = bench.fresh(&server, &found).await;
    (bench, server, browser, verdict, outcome)
}

/// The refreshed ID token was refused: the session ended with it.
#[track_caller]
fn assert_ended(
    verdict: &Result<TokenSet, RefreshError>,
    outcome: &Result<TokenSet, AuthError>,
    expected: impl Fn(&RefreshError) -> bool,
) {
    match verdict {
        Ok(_) => panic!("the refreshed ID token was accepted"),
        Err(error) => assert!(
            expected(error),
            "refused, but for another reason: {error:?}"
        ),
    }
    assert_eq!(outcome.as_ref().map(|_| ()), Err(&AuthError::LoginEnded));
}

#[tokio::test]
async fn a_refreshed_id_token_for_the_same_subject_audience_and_party_is_accepted() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("same-identity", |bench, login| {
            bench.refreshed_id_token(login, |claims| {
                claims["iat"] = json!(now() + 1);
                claims["exp"] = json!(now() + 600);
            })
        })
        .await;
    let accepted = verdict.expect("accepted by Provider::refresh");
    assert_ne!(accepted.id_token(), browser.tokens.id_token());
    let tokens = outcome.expect("accepted by fresh_tokens");
    assert_ne!(
        tokens.id_token(),
        browser.tokens.id_token(),
        "the new ID token is kept"
    );
    assert_eq!(tokens.access_token(), bench.h.idp.refreshed_access_token(2));
    assert!(bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_with_the_same_azp_is_accepted() {
    let bench = Bench::sqlite("same-azp").await;
    let server = bench.server();
    // A sign-in whose ID token names the authorized party.
    let idp = &bench.h.idp;
    idp.set_token_members(json!({ "refresh_token": FIRST_REFRESH_TOKEN, "expires_in": SOON }));
    let login = bench.h.login();
    let mut claims = bench.h.claims(&login);
    claims["azp"] = json!(CLIENT_ID);
    idp.set_id_token(Jwt::new(claims).sign(&*RSA_A));
    let (claims, tokens) = bench
        .provider
        .complete_with_tokens(Completion {
            code: login.code.clone(),
            pkce_verifier: login.pkce_verifier.clone(),
            nonce: &login.nonce,
            max_age: None,
        })
        .await
        .expect("signed in");
    idp.set_token_members(json!({}));
    let cookies = Cookies::default();
    server
        .begin(
            &bench.codec,
            &cookies,
            &User::signed_in(claims.clone(), None),
            &Account::of(idp.issuer(), &claims).expect("a subject"),
            Some(&tokens),
        )
        .await
        .expect("begun");
    let browser = SignedIn {
        cookies,
        login,
        tokens,
    };

    // The same azp: accepted.
    idp.set_refresh_id_token(Some(bench.refreshed_id_token(&browser.login, |claims| {
        claims["azp"] = json!(CLIENT_ID);
    })));
    assert!(bench.provider.refresh(&browser.tokens).await.is_ok());
    // None where the sign-in's had one: refused.
    idp.set_refresh_id_token(Some(bench.refreshed_id_token(&browser.login, |_| {})));
    assert!(matches!(
        bench.provider.refresh(&browser.tokens).await,
        Err(RefreshError::IdentityChanged)
    ));
    // The session takes the good one.
    idp.set_refresh_id_token(Some(bench.refreshed_id_token(&browser.login, |claims| {
        claims["azp"] = json!(CLIENT_ID);
    })));
    let found = bench.found(&server, &browser).await;
    assert!(bench.fresh(&server, &found).await.is_ok());
    assert!(bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_without_a_nonce_is_accepted() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("no-nonce", |bench, login| {
            bench.refreshed_id_token(login, |claims| {
                claims.as_object_mut().expect("an object").remove("nonce");
            })
        })
        .await;
    verdict.expect("accepted by Provider::refresh");
    outcome.expect("accepted by fresh_tokens");
    assert!(bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_for_another_subject_ends_the_session() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("other-sub", |bench, login| {
            bench.refreshed_id_token(login, |claims| {
                assert_eq!(claims["sub"], SUBJECT);
                claims["sub"] = json!("mallory-0002");
            })
        })
        .await;
    assert_ended(&verdict, &outcome, |error| {
        matches!(error, RefreshError::IdentityChanged)
    });
    assert!(!bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_for_another_audience_ends_the_session() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("other-aud", |bench, login| {
            bench.refreshed_id_token(login, |claims| {
                claims["aud"] = json!("another-client");
            })
        })
        .await;
    assert_ended(&verdict, &outcome, |error| {
        matches!(error, RefreshError::IdToken(_))
    });
    assert!(!bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_with_an_added_audience_ends_the_session() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("added-aud", |bench, login| {
            bench.refreshed_id_token(login, |claims| {
                claims["aud"] = json!([CLIENT_ID, "another-client"]);
                claims["azp"] = json!(CLIENT_ID);
            })
        })
        .await;
    assert_ended(&verdict, &outcome, |error| {
        matches!(
            error,
            RefreshError::IdToken(_) | RefreshError::IdentityChanged
        )
    });
    assert!(!bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_from_another_issuer_ends_the_session() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("other-iss", |bench, login| {
            bench.refreshed_id_token(login, |claims| {
                claims["iss"] = json!("https://attacker.example");
            })
        })
        .await;
    assert_ended(&verdict, &outcome, |error| {
        matches!(error, RefreshError::IdToken(_))
    });
    assert!(!bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_with_another_nonce_ends_the_session() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("other-nonce", |bench, login| {
            bench.refreshed_id_token(login, |claims| {
                claims["nonce"] = json!(support::random_token());
            })
        })
        .await;
    assert_ended(&verdict, &outcome, |error| {
        matches!(error, RefreshError::IdToken(_))
    });
    assert!(!bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_that_expired_ends_the_session() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("expired-id-token", |bench, login| {
            bench.refreshed_id_token(login, |claims| {
                claims["iat"] = json!(now() - 7200);
                claims["exp"] = json!(now() - 3600);
            })
        })
        .await;
    assert_ended(&verdict, &outcome, |error| {
        matches!(error, RefreshError::IdToken(_))
    });
    assert!(!bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refreshed_id_token_signed_by_an_unknown_key_ends_the_session() {
    let (bench, server, browser, verdict, outcome) =
        refresh_with_id_token("forged-id-token", |bench, login| {
            Jwt::new(bench.h.claims(login)).sign(&*RSA_FORGER)
        })
        .await;
    assert_ended(&verdict, &outcome, |error| {
        matches!(error, RefreshError::IdToken(_))
    });
    assert!(!bench.is_logged_in(&server, &browser).await);
}

#[tokio::test]
async fn a_refresh_answer_without_an_id_token_keeps_the_old_one() {
    let bench = Bench::sqlite("no-id-token").await;
    let server = bench.server();
    let browser = bench.sign_in(&server, SOON).await;
    let found = bench.found(&server, &browser).await;
    let tokens = bench.fresh(&server, &found).await.expect("refreshed");
    assert_eq!(tokens.id_token(), browser.tokens.id_token());
    assert_eq!(tokens.access_token(), bench.h.idp.refreshed_access_token(1));
    // And the identity it checks later ones against is the sign-in's: a later refreshed ID
    // token for another subject is still refused.
    bench
        .h
        .idp
        .set_refresh_id_token(Some(bench.refreshed_id_token(&browser.login, |claims| {
            claims["sub"] = json!("mallory-0002");
        })));
    assert!(matches!(
        bench.provider.refresh(&tokens).await,
        Err(RefreshError::IdentityChanged)
    ));
}

// --- 7: the provider cannot be reached -------------------------------------------------------

#[tokio::test]
async fn an_unreachable_provider_leaves_the_unexpired_access_token_and_the_session() {
    let bench = Bench::sqlite("unreachable-unexpired").await;
    let server = bench.server();
    let browser = bench.sign_in(&server, SOON).await;
    let idp = &bench.h.idp;
    // Longer than the provider timeout: the call fails as a network failure.
    idp.set_refresh_delay(PROVIDER_TIMEOUT * 3);

    let found = bench.found(&server, &browser).await;
    let tokens = bench.fresh(&server, &found).await.expect("the old tokens");
    assert_eq!(tokens.access_token(), idp.access_token());
    assert_eq!(bench.refreshes(), 1);
    assert!(
        bench.is_logged_in(&server, &browser).await,
        "the session stays"
    );

    // Back: the next ask refreshes.
    idp.set_refresh_delay(Duration::ZERO);
    let found = bench.found(&server, &browser).await;
    let tokens = bench.fresh(&server, &found).await.expect("refreshed");
    assert_eq!(tokens.access_token(), idp.refreshed_access_token(2));
}

#[tokio::test]
async fn an_unreachable_provider_with_an_expired_access_token_is_provider_unavailable() {
    let bench = Bench::sqlite("unreachable-expired").await;
    let server = bench.server();
    let browser = bench.sign_in(&server, 0).await;
    let idp = &bench.h.idp;
    idp.set_refresh_delay(PROVIDER_TIMEOUT * 3);

    let found = bench.found(&server, &browser).await;
    let outcome = bench.fresh(&server, &found).await;
    assert!(
        matches!(outcome, Err(AuthError::ProviderUnavailable(_))),
        "{outcome:?}"
    );
    assert!(
        bench.is_logged_in(&server, &browser).await,
        "the session stays"
    );

    idp.set_refresh_delay(Duration::ZERO);
    let found = bench.found(&server, &browser).await;
    let tokens = bench.fresh(&server, &found).await.expect("refreshed");
    assert_eq!(tokens.access_token(), idp.refreshed_access_token(2));
}

#[tokio::test]
async fn a_token_endpoint_answering_garbage_is_provider_unavailable_not_a_refusal() {
    let bench = Bench::sqlite("garbage").await;
    let server = bench.server();
    let browser = bench.sign_in(&server, 0).await;
    let idp = &bench.h.idp;
    idp.fail_refresh_raw(
        StatusCode::BAD_GATEWAY,
        "<html><body>502 Bad Gateway</body></html>",
    );

    let found = bench.found(&server, &browser).await;
    let outcome = bench.fresh(&server, &found).await;
    assert!(
        matches!(outcome, Err(AuthError::ProviderUnavailable(_))),
        "{outcome:?}"
    );
    assert!(
        bench.is_logged_in(&server, &browser).await,
        "the session stays"
    );
}

/// A token endpoint that is down may say so in OAuth's own words (`temporarily_unavailable`,
/// `server_error`, with a 5xx status; Microsoft Entra ID, for one, does): that is no refusal
/// of the refresh token, and must not end the session.
#[tokio::test]
async fn a_token_endpoint_saying_it_is_temporarily_unavailable_does_not_end_the_session() {
    let bench = Bench::sqlite("temporarily-unavailable").await;
    let server = bench.server();
    let browser = bench.sign_in(&server, SOON).await;
    let idp = &bench.h.idp;
    for (status, error) in [
        (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"),
        (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    ] {
        idp.fail_refresh(Some((status, json!({ "error": error }))));
        let found = bench.found(&server, &browser).await;
        let outcome = bench.fresh(&server, &found).await;
        assert_eq!(
            outcome.as_ref().map(TokenSet::access_token),
            Ok(idp.access_token()),
            "{status} {error}: the unexpired access token, not {outcome:?}"
        );
        assert!(
            bench.is_logged_in(&server, &browser).await,
            "{status} {error} ended the session"
        );
    }
}

// --- 8: claims kept fresh ----------------------------------------------------------------

/// The app (`Auth::install`, with `hooks`) keeping sessions in `store` and the access token,
/// with `more` keys, and a browser signed in through its callback with the ID token claims
/// `edit` makes of the usual ones: an access token that is due at once (every refresh's too,
/// unless a test scripts otherwise) and the refresh token `refresh-0`. Returns the app and
/// the browser's cookie.
async fn app_signed_in(
    store: &str,
    more: &str,
    hooks: impl FnOnce(leptos_login::Auth) -> leptos_login::Auth,
    edit: impl FnOnce(&mut Value),
) -> (Harness, String, Login) {
    let h = Harness::start_hooked(
        &format!("session_store = \"{store}\"\nexpose_tokens = [\"access\"]\n{more}"),
        hooks,
    )
    .await;
    h.idp.set_token_members(json!({
        "refresh_token": FIRST_REFRESH_TOKEN,
        "expires_in": 0,
    }));
    let login = h.login();
    let mut claims = h.claims(&login);
    edit(&mut claims);
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    let cookie = answer.identity_cookie().expect("signed in");
    let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
    (h, cookie, login)
}

/// The claims the app's pages see for `cookie` (`None`: signed out).
async fn claims_seen(h: &Harness, cookie: &str) -> Option<Value> {
    let answer = h.get("/claims", Some(cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    (answer.body != "nobody")
        .then(|| serde_json::from_str(&answer.body).expect("the claims as JSON"))
}

/// Server code asks for the access token: the refresh happens (or not) here.
async fn ask_tokens(h: &Harness, cookie: &str) -> StatusCode {
    h.get("/access-token", Some(cookie)).await.status
}

/// An ID token for a refresh answer: `login`'s claims, issued now, as `edit` changes them.
fn refreshed(h: &Harness, login: &Login, edit: impl FnOnce(&mut Value)) -> String {
    let mut claims = h.claims(login);
    claims["iat"] = json!(now());
    claims["exp"] = json!(now() + 600);
    edit(&mut claims);
    Jwt::new(claims).sign(&*RSA_A)
}

/// Streamlit issue 13489: an account added to a group at the provider has it on the next
/// page after a refresh, without signing in again.
async fn a_group_added_at_the_provider_shows_on_the_next_page_after_a_refresh(store: &str) {
    let (h, cookie, login) = app_signed_in(store, "", |auth| auth, |_| {}).await;
    let before = claims_seen(&h, &cookie).await.expect("signed in");
    assert_eq!(before["name"], "Alice Example");
    assert!(before.get("groups").is_none(), "{before}");

    h.idp
        .set_refresh_id_token(Some(refreshed(&h, &login, |claims| {
            claims["groups"] = json!(["staff"]);
            claims.as_object_mut().expect("an object").remove("nonce");
        })));
    assert_eq!(ask_tokens(&h, &cookie).await, StatusCode::OK);
    assert_eq!(h.idp.refresh_requests().len(), 1);

    let after = claims_seen(&h, &cookie).await.expect("still signed in");
    assert_eq!(after["groups"], json!(["staff"]), "{after}");
    assert_eq!(after["sub"], SUBJECT);
    assert!(
        after.get("nonce").is_none(),
        "no nonce, as at sign-in: {after}"
    );
    h.assert_log_keeps_secrets();
}

#[tokio::test]
async fn a_group_added_at_the_provider_shows_on_the_next_page_after_a_refresh_in_memory() {
    a_group_added_at_the_provider_shows_on_the_next_page_after_a_refresh("memory").await;
}

#[tokio::test]
async fn a_group_added_at_the_provider_shows_on_the_next_page_after_a_refresh_in_sqlite() {
    let file = TempFile::new("fresh-claims");
    a_group_added_at_the_provider_shows_on_the_next_page_after_a_refresh(&format!(
        "sqlite:{}",
        file.0.display()
    ))
    .await;
}

#[tokio::test]
async fn a_refresh_naming_another_subject_ends_the_session_and_its_claims() {
    let (h, cookie, login) = app_signed_in("memory", "", |auth| auth, |_| {}).await;
    h.idp
        .set_refresh_id_token(Some(refreshed(&h, &login, |claims| {
            claims["sub"] = json!("mallory-0002");
            claims["groups"] = json!(["admin"]);
        })));
    assert_eq!(ask_tokens(&h, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(claims_seen(&h, &cookie).await, None, "signed out");
}

#[tokio::test]
async fn a_refresh_without_an_id_token_keeps_the_claims() {
    let (h, cookie, _) = app_signed_in("memory", "", |auth| auth, |_| {}).await;
    let before = claims_seen(&h, &cookie).await.expect("signed in");
    // Userinfo would say more, but `userinfo = "auto"` does not ask it without an ID token.
    h.idp
        .set_userinfo(json!({ "sub": SUBJECT, "groups": ["staff"] }));
    assert_eq!(ask_tokens(&h, &cookie).await, StatusCode::OK);
    assert_eq!(h.idp.refresh_requests().len(), 1);
    assert_eq!(claims_seen(&h, &cookie).await, Some(before));
    assert_eq!(h.idp.hits(support::provider::Endpoint::Userinfo), 0);
}

#[tokio::test]
async fn with_userinfo_always_a_refresh_without_an_id_token_reads_userinfo_again() {
    let (h, cookie, _) = app_signed_in(
        "memory",
        "userinfo = \"always\"\n",
        |auth| auth,
        |claims| claims["sid"] = json!("op-session-1"),
    )
    .await;
    let before = claims_seen(&h, &cookie).await.expect("signed in");
    assert!(before.get("groups").is_none(), "{before}");

    h.idp.set_userinfo(json!({
        "sub": SUBJECT,
        "groups": ["staff"],
        "name": "Alice Renamed",
        // Userinfo cannot change who issued the sign-in, or its provider session.
        "iss": "https://elsewhere.example",
        "sid": "another-session",
    }));
    assert_eq!(ask_tokens(&h, &cookie).await, StatusCode::OK);
    let after = claims_seen(&h, &cookie).await.expect("still signed in");
    assert_eq!(after["groups"], json!(["staff"]), "{after}");
    assert_eq!(
        after["name"], "Alice Renamed",
        "userinfo's is newer: {after}"
    );
    assert_eq!(after["iss"], before["iss"]);
    assert_eq!(after["sid"], "op-session-1");
    assert!(after.get("nonce").is_none());
}

#[tokio::test]
async fn fresh_claims_go_through_map_claims_which_may_end_the_session() {
    let hooks = |auth: leptos_login::Auth| {
        auth.map_claims(|claims, _provider| {
            let groups = claims.get("groups").cloned().unwrap_or(json!([]));
            if groups
                .as_array()
                .is_some_and(|groups| groups.iter().any(|group| group == "banned"))
            {
                return Err("This account is banned.".to_owned());
            }
            claims.insert("roles".to_owned(), groups);
            claims.remove("email");
            Ok(())
        })
    };
    let (h, cookie, login) = app_signed_in("memory", "", hooks, |claims| {
        claims["sid"] = json!("op-session-1")
    })
    .await;
    let before = claims_seen(&h, &cookie).await.expect("signed in");
    assert_eq!(before["roles"], json!([]));
    assert!(before.get("email").is_none());

    // A new ID token without `sid`: the sign-in's stays (back-channel logout names it).
    h.idp
        .set_refresh_id_token(Some(refreshed(&h, &login, |claims| {
            claims["groups"] = json!(["staff"]);
        })));
    assert_eq!(ask_tokens(&h, &cookie).await, StatusCode::OK);
    let after = claims_seen(&h, &cookie).await.expect("still signed in");
    assert_eq!(after["roles"], json!(["staff"]), "{after}");
    assert!(
        after.get("email").is_none(),
        "mapped as at sign-in: {after}"
    );
    assert_eq!(after["sid"], "op-session-1");

    // The hook refuses the fresh claims: the session ends, as a refused refresh.
    h.idp
        .set_refresh_id_token(Some(refreshed(&h, &login, |claims| {
            claims["groups"] = json!(["banned"]);
        })));
    assert_eq!(ask_tokens(&h, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(h.idp.refresh_requests().len(), 2);
    assert_eq!(claims_seen(&h, &cookie).await, None, "signed out");
}

#[tokio::test]
async fn a_refreshed_id_token_must_keep_the_sign_ins_auth_time() {
    let auth_time = now() - 100;
    let (h, cookie, login) = app_signed_in(
        "memory",
        "",
        |auth| auth,
        |claims| claims["auth_time"] = json!(auth_time),
    )
    .await;
    h.idp
        .set_refresh_id_token(Some(refreshed(&h, &login, |claims| {
            claims["groups"] = json!(["staff"]);
        })));
    assert_eq!(ask_tokens(&h, &cookie).await, StatusCode::OK);
    let after = claims_seen(&h, &cookie).await.expect("the same auth_time");
    assert_eq!(after["groups"], json!(["staff"]));

    h.idp
        .set_refresh_id_token(Some(refreshed(&h, &login, |claims| {
            claims["auth_time"] = json!(now());
        })));
    assert_eq!(ask_tokens(&h, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(claims_seen(&h, &cookie).await, None, "signed out");
}

// --- 9: claims_refresh_interval ----------------------------------------------------------

/// How often sessions without a refresh token read userinfo again, in the tests below.
const INTERVAL: i64 = 600;

/// The app with `claims_refresh_interval` and a browser signed in with a refresh token.
async fn signed_in_with_a_refresh_token() -> (Harness, String) {
    let (h, cookie, _) = app_signed_in(
        "memory",
        &format!("claims_refresh_interval = {INTERVAL}\n"),
        |auth| auth,
        |_| {},
    )
    .await;
    (h, cookie)
}

/// The app with `claims_refresh_interval` (no `expose_tokens`: the interval keeps the tokens
/// itself) and a browser signed in without a refresh token: only userinfo can tell what
/// changed.
async fn signed_in_without_a_refresh_token() -> (Harness, String) {
    let h = Harness::start_hooked(
        "session_store = \"memory\"\nclaims_refresh_interval = \"10m\"\n",
        |auth| auth,
    )
    .await;
    assert_eq!(INTERVAL, 600, "10m");
    h.idp
        .set_token_members(json!({ "refresh_token": null, "expires_in": 3600 }));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    let cookie = answer.identity_cookie().expect("signed in");
    let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
    (h, cookie)
}

fn userinfo_hits(h: &Harness) -> usize {
    h.idp.hits(support::provider::Endpoint::Userinfo)
}

#[tokio::test]
async fn claims_refresh_interval_picks_up_a_change_from_userinfo_after_the_interval() {
    let (h, cookie) = signed_in_without_a_refresh_token().await;
    h.idp
        .set_userinfo(json!({ "sub": SUBJECT, "groups": ["staff"] }));

    let before = claims_seen(&h, &cookie).await.expect("signed in");
    assert!(before.get("groups").is_none());
    // (A few seconds short: the sign-in's second may have ended meanwhile.)
    h.advance_sessions(INTERVAL - 5);
    assert_eq!(claims_seen(&h, &cookie).await, Some(before.clone()));
    assert_eq!(userinfo_hits(&h), 0, "not before the interval");

    h.advance_sessions(5);
    let after = claims_seen(&h, &cookie).await.expect("still signed in");
    assert_eq!(after["groups"], json!(["staff"]), "{after}");
    assert_eq!(after["name"], before["name"], "the ID token's claims stay");
    assert_eq!(userinfo_hits(&h), 1);
    // Read: not again until the next interval.
    for _ in 0..3 {
        assert_eq!(claims_seen(&h, &cookie).await, Some(after.clone()));
    }
    assert_eq!(userinfo_hits(&h), 1);
    assert_eq!(h.idp.refresh_requests().len(), 0);
    h.assert_log_keeps_secrets();
}

#[tokio::test]
async fn claims_refresh_interval_leaves_sessions_with_a_refresh_token_to_their_refreshes() {
    let (h, cookie) = signed_in_with_a_refresh_token().await;
    h.idp
        .set_userinfo(json!({ "sub": SUBJECT, "groups": ["staff"] }));
    h.advance_sessions(INTERVAL * 2);
    let claims = claims_seen(&h, &cookie).await.expect("signed in");
    assert!(claims.get("groups").is_none(), "{claims}");
    assert_eq!(userinfo_hits(&h), 0);
}

/// Signed in without a refresh token under `claims_refresh_interval`; userinfo will answer
/// `status` with `body`, and the interval has passed.
async fn userinfo_fails_after_the_interval(status: StatusCode, body: Value) -> (Harness, String) {
    let (h, cookie) = signed_in_without_a_refresh_token().await;
    h.idp.fail_userinfo(Some((status, body)));
    h.advance_sessions(INTERVAL);
    (h, cookie)
}

#[tokio::test]
async fn a_userinfo_refusing_the_access_token_ends_the_session_as_a_refused_refresh() {
    let (h, cookie) = userinfo_fails_after_the_interval(
        StatusCode::UNAUTHORIZED,
        json!({ "error": "invalid_token" }),
    )
    .await;
    let answer = h.get("/claims", Some(&cookie)).await;
    assert_eq!(answer.body, "nobody");
    assert!(answer.removes("auth_user"), "{:?}", answer.set_cookies);
    assert_eq!(userinfo_hits(&h), 1);
    h.idp.fail_userinfo(None);
    assert_eq!(claims_seen(&h, &cookie).await, None, "the session is over");
}

#[tokio::test]
async fn a_userinfo_naming_another_subject_ends_the_session() {
    let (h, cookie) = signed_in_without_a_refresh_token().await;
    h.idp
        .set_userinfo(json!({ "sub": "mallory-0002", "groups": ["admin"] }));
    h.advance_sessions(INTERVAL);
    assert_eq!(claims_seen(&h, &cookie).await, None);
    assert_eq!(userinfo_hits(&h), 1);
}

#[tokio::test]
async fn a_userinfo_that_is_down_keeps_the_claims_until_the_next_interval() {
    let (h, cookie) = userinfo_fails_after_the_interval(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({ "error": "temporarily_unavailable" }),
    )
    .await;
    let claims = claims_seen(&h, &cookie).await.expect("still signed in");
    assert_eq!(claims["name"], "Alice Example");
    assert_eq!(userinfo_hits(&h), 1);
    // Not asked at every page while it is down: once per interval.
    h.idp.fail_userinfo(None);
    h.idp
        .set_userinfo(json!({ "sub": SUBJECT, "groups": ["staff"] }));
    assert_eq!(claims_seen(&h, &cookie).await, Some(claims.clone()));
    assert_eq!(userinfo_hits(&h), 1);
    h.advance_sessions(INTERVAL);
    let after = claims_seen(&h, &cookie).await.expect("signed in");
    assert_eq!(after["groups"], json!(["staff"]));
    assert_eq!(userinfo_hits(&h), 2);
}

// --- helpers ---------------------------------------------------------------------------------

/// A SQLite file of the test's own, removed at the end.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        Self(std::env::temp_dir().join(format!(
            "leptos-auth-refresh-{}-{name}-{}.sqlite3",
            std::process::id(),
            support::random_token()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}
