//! The session modes through `Auth::install`, as a browser meets them, and one suite of store
//! cases run against SQLite, a real `redis-server` (started here on a free port) and a real
//! Postgres (`tests/postgres.rs`).
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use axum::{Extension, Router, body::Body, http::Request, routing::get};
use tower::ServiceExt;

use super::*;

use super::store::conformance::conformance;
use crate::server::test_support::{SECRET, TestWall, alice, auth_with};
use crate::{Auth, server::acts::visitor::RequestAuth};

/// A file of its own for each test, removed at the end.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "leptos-auth-test-{}-{name}-{}.sqlite3",
            std::process::id(),
            new_session_id()
        ));
        Self(path)
    }

    fn store_key(&self) -> String {
        format!("session_store = \"sqlite:{}\"\n", self.0.display())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// One browser: its identity cookie, kept as a browser keeps it.
#[derive(Clone, Default)]
struct Browser {
    identity: Option<String>,
}

impl Browser {
    /// GETs `path` of `auth`'s test app; returns the body.
    async fn get(&mut self, auth: &Auth, path: &str) -> String {
        let mut request = Request::get(path);
        if let Some(identity) = &self.identity {
            request = request.header("cookie", identity);
        }
        let response = app(auth)
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        for set in crate::server::test_support::set_cookies(response.headers()) {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            if !pair.starts_with("auth_user=") {
                continue;
            }
            self.identity = (!set.contains("Max-Age=0")).then_some(pair);
        }
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        String::from_utf8_lossy(&body).into_owned()
    }
}

/// `/who` names the visitor; `/begin` signs Alice in (`/begin-bob`: another account, from
/// Firefox on Windows); `/end` logs out; `/end-everywhere` logs out everywhere; `/list` lists
/// the account's sessions, a line each (`ID this|other DEVICE SEEN_AT`); `/end-one?id=ID`
/// ends one of them.
fn app(auth: &Auth) -> Router {
    auth.install(
        Router::new()
            .route(
                "/begin-bob",
                get(
                    |Extension(RequestAuth { auth, cookies, .. }): Extension<RequestAuth>| async move {
                        let serde_json::Value::Object(claims) = serde_json::json!({"sub": "bob"})
                        else {
                            unreachable!()
                        };
                        let account = Account::of("https://idp.example", &claims).expect("a subject");
                        let device = device_of("Mozilla/5.0 (Windows NT 10.0) Firefox/125.0");
                        match auth
                            .sessions()
                            .begin_on(auth.codec(), &cookies, &alice(), &account, None, device.as_deref())
                            .await
                        {
                            Ok(()) => "begun".to_owned(),
                            Err(error) => format!("failed: {error}"),
                        }
                    },
                ),
            )
            .route(
                "/list",
                get(|Extension(request): Extension<RequestAuth>| async move {
                    let found = request.found().await;
                    match request.auth.list_sessions(&found).await {
                        Ok(sessions) => sessions
                            .iter()
                            .map(|session| {
                                format!(
                                    "{} {} {} {}\n",
                                    session.id,
                                    if session.this_browser { "this" } else { "other" },
                                    session.device.as_deref().unwrap_or("unknown"),
                                    session.last_seen_at,
                                )
                            })
                            .collect::<String>(),
                        Err(error) => format!("refused: {}", error.code()),
                    }
                }),
            )
            .route(
                "/end-one",
                get(
                    |Extension(request): Extension<RequestAuth>,
                     axum::extract::Query(query): axum::extract::Query<
                        std::collections::HashMap<String, String>,
                    >| async move {
                        let found = request.found().await;
                        let id = query.get("id").cloned().unwrap_or_default();
                        match request
                            .auth
                            .end_session(&request.cookies, &found, &id, "/back".to_owned())
                            .await
                        {
                            Ok(next) => format!("ended, next {next}"),
                            Err(error) => format!("refused: {}", error.code()),
                        }
                    },
                ),
            )
            .route(
                "/who",
                get(|user: Option<User>| async move {
                    user.and_then(|user| user.name().map(str::to_owned))
                        .unwrap_or_else(|| "nobody".to_owned())
                }),
            )
            .route(
                "/begin",
                get(
                    |Extension(RequestAuth { auth, cookies, .. }): Extension<RequestAuth>| async move {
                        let account = Account::of("https://idp.example", alice().claims())
                            .expect("a subject");
                        match auth
                            .sessions()
                            .begin(auth.codec(), &cookies, &alice(), &account, None)
                            .await
                        {
                            Ok(()) => "begun".to_owned(),
                            Err(error) => format!("failed: {error}"),
                        }
                    },
                ),
            )
            .route(
                "/end",
                get(
                    |Extension(request): Extension<RequestAuth>| async move {
                        let RequestAuth { auth, cookies, .. } = &request;
                        let found = request.found().await;
                        match auth.sessions().end(auth.codec(), cookies, &found).await {
                            Ok(()) => "ended".to_owned(),
                            Err(error) => format!("refused: {}", error.code()),
                        }
                    },
                ),
            )
            .route(
                "/end-everywhere",
                get(
                    |Extension(request): Extension<RequestAuth>| async move {
                        let RequestAuth { auth, cookies, .. } = &request;
                        let found = request.found().await;
                        match auth
                            .sessions()
                            .end_everywhere(auth.codec(), cookies, &found)
                            .await
                        {
                            Ok(count) => format!("ended {count}"),
                            Err(error) => format!("refused: {}", error.code()),
                        }
                    },
                ),
            ),
    )
}

/// What a thief does: copies the cookie, waits for the owner to log out, replays it.
async fn replay_after_logout(auth: &Auth) -> String {
    let mut owner = Browser::default();
    assert_eq!(owner.get(auth, "/begin").await, "begun");
    assert_eq!(owner.get(auth, "/who").await, "Alice");
    let mut thief = owner.clone();
    assert_eq!(owner.get(auth, "/end").await, "ended");
    assert_eq!(owner.identity, None, "logout removes the cookie");
    assert_eq!(owner.get(auth, "/who").await, "nobody");
    thief.get(auth, "/who").await
}

#[tokio::test]
async fn with_sqlite_a_cookie_copied_before_logout_signs_nobody_in() {
    let file = TempFile::new("replay");
    let auth = auth_with(&file.store_key());
    assert_eq!(replay_after_logout(&auth).await, "nobody");
}

#[tokio::test]
async fn an_apps_own_store_keeps_the_sessions_whatever_the_configuration_says() {
    // Configured for the cookie, where a copied cookie outlives logout (below): with the
    // app's store, logout ends the session for every copy.
    let auth = auth_with("").with_store(MemoryStore::new());
    assert_eq!(replay_after_logout(&auth).await, "nobody");
}

#[tokio::test]
async fn in_cookie_mode_a_copied_cookie_outlives_logout_as_documented() {
    let auth = auth_with("");
    assert_eq!(replay_after_logout(&auth).await, "Alice");
}

#[tokio::test]
async fn with_a_store_the_cookie_holds_no_claims() {
    let file = TempFile::new("opaque");
    let mut browser = Browser::default();
    browser.get(&auth_with(&file.store_key()), "/begin").await;
    let store_cookie = browser.identity.clone().expect("a cookie");
    let mut stateless = Browser::default();
    stateless.get(&auth_with(""), "/begin").await;
    let cookie_mode = stateless.identity.expect("a cookie");
    // The id alone is far smaller than the claims, and the file does not hold them in clear.
    assert!(store_cookie.len() < cookie_mode.len(), "{store_cookie}");
    let stored = std::fs::read(&file.0).expect("the file");
    let text = String::from_utf8_lossy(&stored);
    assert!(!text.contains("Alice") && !text.contains("alice"), "{text}");
}

#[tokio::test]
async fn signing_in_again_ends_the_session_the_browser_had() {
    let file = TempFile::new("again");
    let auth = auth_with(&file.store_key());
    let mut browser = Browser::default();
    browser.get(&auth, "/begin").await;
    let mut copy = browser.clone();
    browser.get(&auth, "/begin").await;
    assert_eq!(browser.get(&auth, "/who").await, "Alice");
    assert_eq!(copy.get(&auth, "/who").await, "nobody");
}

#[tokio::test]
async fn a_cookie_mode_cookie_means_nothing_once_a_store_is_on() {
    let file = TempFile::new("switch");
    let mut browser = Browser::default();
    browser.get(&auth_with(""), "/begin").await;
    let with_store = auth_with(&file.store_key());
    assert_eq!(browser.get(&with_store, "/who").await, "nobody");
    assert_eq!(browser.identity, None, "the old cookie is cleared");
}

#[tokio::test]
async fn logout_everywhere_ends_every_browser_of_the_account() {
    let file = TempFile::new("everywhere");
    let auth = auth_with(&file.store_key());
    let mut laptop = Browser::default();
    let mut phone = Browser::default();
    laptop.get(&auth, "/begin").await;
    phone.get(&auth, "/begin").await;
    assert_eq!(phone.get(&auth, "/who").await, "Alice");
    assert_eq!(laptop.get(&auth, "/end-everywhere").await, "ended 2");
    assert_eq!(phone.get(&auth, "/who").await, "nobody");
    assert_eq!(laptop.get(&auth, "/who").await, "nobody");

    let cookie_mode = auth_with("");
    let mut browser = Browser::default();
    browser.get(&cookie_mode, "/begin").await;
    assert_eq!(
        browser.get(&cookie_mode, "/end-everywhere").await,
        "refused: needs_session_store"
    );
    assert_eq!(
        browser.get(&cookie_mode, "/who").await,
        "Alice",
        "a refusal changes nothing"
    );
}

/// `/list`'s lines as (id, this browser, device, last seen).
fn listed(text: &str) -> Vec<(String, bool, String, i64)> {
    text.lines()
        .map(|line| {
            // The device has spaces: the id, the mark, the device's words, the time.
            let words: Vec<&str> = line.split(' ').collect();
            assert!(words.len() >= 4, "not a listed session: {line}");
            let last = words.len() - 1;
            let seen = words[last].parse().expect("a time");
            (
                words[0].to_owned(),
                words[1] == "this",
                words[2..last].join(" "),
                seen,
            )
        })
        .collect()
}

#[tokio::test]
async fn where_signed_in_lists_the_accounts_browsers_and_ends_only_its_own() {
    let file = TempFile::new("where");
    let auth = auth_with(&file.store_key());
    let (mut laptop, mut phone, mut bob) =
        (Browser::default(), Browser::default(), Browser::default());
    assert_eq!(laptop.get(&auth, "/begin").await, "begun");
    assert_eq!(phone.get(&auth, "/begin").await, "begun");
    assert_eq!(bob.get(&auth, "/begin-bob").await, "begun");

    let seen_by_laptop = listed(&laptop.get(&auth, "/list").await);
    assert_eq!(
        seen_by_laptop.len(),
        2,
        "Alice's two, not Bob's: {seen_by_laptop:?}"
    );
    assert!(
        seen_by_laptop[0].1 && !seen_by_laptop[1].1,
        "this browser first, once"
    );
    let (laptop_id, phone_id) = (seen_by_laptop[0].0.clone(), seen_by_laptop[1].0.clone());
    let seen_by_phone = listed(&phone.get(&auth, "/list").await);
    assert_eq!(
        seen_by_phone[0].0, phone_id,
        "the same handles from either browser"
    );
    assert_eq!(seen_by_phone[1].0, laptop_id);
    // A handle is no cookie: nothing of the identity cookie's value.
    let cookie = laptop.identity.clone().expect("a cookie");
    assert!(
        !cookie.contains(&laptop_id) && laptop_id.len() == 22,
        "{laptop_id}"
    );
    let bobs = listed(&bob.get(&auth, "/list").await);
    assert_eq!(bobs.len(), 1);
    assert_eq!(
        bobs[0].2, "Firefox on Windows",
        "the device, named at sign-in"
    );
    assert_eq!(seen_by_laptop[1].2, "unknown", "no User-Agent, no device");

    // Another account's handle, one made up, an empty one: the same refusal, nothing ended.
    for id in [phone_id.as_str(), "AAAAAAAAAAAAAAAAAAAAAA", ""] {
        assert_eq!(
            bob.get(&auth, &format!("/end-one?id={id}")).await,
            "refused: no_such_session",
            "{id}"
        );
    }
    assert_eq!(
        laptop
            .get(&auth, &format!("/end-one?id={}", bobs[0].0))
            .await,
        "refused: no_such_session"
    );
    assert_eq!(phone.get(&auth, "/who").await, "Alice");
    assert_eq!(
        bob.get(&auth, "/who").await,
        "Alice",
        "Bob's session (Alice's claims)"
    );

    // The laptop ends the phone's session: the phone's next request is signed out.
    assert_eq!(
        laptop.get(&auth, &format!("/end-one?id={phone_id}")).await,
        "ended, next /back"
    );
    assert_eq!(phone.get(&auth, "/who").await, "nobody");
    assert_eq!(laptop.get(&auth, "/who").await, "Alice");
    assert_eq!(listed(&laptop.get(&auth, "/list").await).len(), 1);
    assert_eq!(
        laptop.get(&auth, &format!("/end-one?id={phone_id}")).await,
        "refused: no_such_session",
        "an ended session's handle names nothing"
    );
    // Its own handle: a logout.
    assert_eq!(
        laptop.get(&auth, &format!("/end-one?id={laptop_id}")).await,
        "ended, next /"
    );
    assert_eq!(laptop.identity, None, "the cookie goes, as at logout");
    assert_eq!(laptop.get(&auth, "/who").await, "nobody");
    assert_eq!(laptop.get(&auth, "/list").await, "refused: not_signed_in");

    let cookie_mode = auth_with("");
    let mut browser = Browser::default();
    browser.get(&cookie_mode, "/begin").await;
    assert_eq!(
        browser.get(&cookie_mode, "/list").await,
        "refused: needs_session_store"
    );
    assert_eq!(
        browser
            .get(&cookie_mode, &format!("/end-one?id={phone_id}"))
            .await,
        "refused: needs_session_store"
    );
}

#[tokio::test]
async fn the_last_seen_time_is_kept_without_an_idle_timeout_too() {
    let file = TempFile::new("seen");
    let wall = TestWall::default();
    let auth = auth_with(&file.store_key()).with_session_clock(wall.clock());
    let mut browser = Browser::default();
    browser.get(&auth, "/begin").await;
    let began = listed(&browser.get(&auth, "/list").await)[0].3;
    wall.advance(LAST_SEEN_INTERVAL - 1);
    browser.get(&auth, "/who").await;
    assert_eq!(
        listed(&browser.get(&auth, "/list").await)[0].3,
        began,
        "not yet"
    );
    wall.advance(1);
    browser.get(&auth, "/who").await;
    let seen = listed(&browser.get(&auth, "/list").await)[0].3;
    assert_eq!(
        seen,
        began + LAST_SEEN_INTERVAL,
        "written down once the interval is over"
    );
}

/// A store of an app's own from before `list_group`: the trait's default.
struct WithoutList(MemoryStore);

#[async_trait::async_trait]
impl SessionStore for WithoutList {
    async fn load(&self, key: &str) -> Result<Option<Record>, StoreError> {
        self.0.load(key).await
    }
    async fn save(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        self.0.save(key, record).await
    }
    async fn update(&self, key: &str, record: &Record) -> Result<bool, StoreError> {
        self.0.update(key, record).await
    }
    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.0.remove(key).await
    }
    async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError> {
        self.0.remove_group(group, id).await
    }
    async fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.0.try_lock(name, holder, ttl).await
    }
    async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.0.unlock(name, holder).await
    }
}

#[tokio::test]
async fn a_store_that_cannot_list_says_so_and_is_not_down() {
    let auth = auth_with("").with_store(WithoutList(MemoryStore::new()));
    let mut browser = Browser::default();
    browser.get(&auth, "/begin").await;
    assert_eq!(browser.get(&auth, "/list").await, "refused: internal");
    assert_eq!(
        browser.get(&auth, "/who").await,
        "Alice",
        "an answer, not an outage: the next request reads the store"
    );
}

#[tokio::test]
async fn the_lifetime_ends_sessions_in_both_modes() {
    let file = TempFile::new("lifetime");
    for keys in [String::new(), file.store_key()] {
        let wall = TestWall::default();
        let auth =
            auth_with(&format!("{keys}session_lifetime = 60\n")).with_session_clock(wall.clock());
        let mut browser = Browser::default();
        browser.get(&auth, "/begin").await;
        // Times are whole seconds: a second short of the end, and one more to spare.
        wall.advance(58);
        assert_eq!(browser.get(&auth, "/who").await, "Alice", "{keys}");
        wall.advance(3);
        assert_eq!(browser.get(&auth, "/who").await, "nobody", "{keys}");
    }
}

#[tokio::test]
async fn an_idle_session_ends_in_both_modes() {
    let file = TempFile::new("idle");
    for keys in [String::new(), file.store_key()] {
        let wall = TestWall::default();
        let auth = auth_with(&format!("{keys}session_idle_timeout = 60\n"))
            .with_session_clock(wall.clock());
        let mut browser = Browser::default();
        browser.get(&auth, "/begin").await;
        assert_eq!(browser.get(&auth, "/who").await, "Alice", "{keys}");
        // Idle means more than the timeout has passed (times are whole seconds).
        wall.advance(61);
        assert_eq!(browser.get(&auth, "/who").await, "nobody", "{keys}");
    }
}

#[tokio::test]
async fn activity_keeps_an_idle_timeout_from_ending_a_session() {
    let file = TempFile::new("active");
    for keys in [String::new(), file.store_key()] {
        let wall = TestWall::default();
        let auth = auth_with(&format!("{keys}session_idle_timeout = 60\n"))
            .with_session_clock(wall.clock());
        let mut browser = Browser::default();
        browser.get(&auth, "/begin").await;
        // Five idle timeouts in all, never one without a request.
        for _ in 0..10 {
            wall.advance(30);
            assert_eq!(browser.get(&auth, "/who").await, "Alice", "{keys}");
        }
    }
}

#[test]
fn a_sqlite_file_that_cannot_open_stops_start_up_naming_key_and_path() {
    let config = crate::server::test_support::config(&crate::server::test_support::toml(
        "http://localhost:3000",
        SECRET,
        crate::server::test_support::NOWHERE,
        "client_id = \"a\"\nsession_store = \"sqlite:/nonexistent-dir/sessions.sqlite3\"\n",
    ));
    let Err(error) = Auth::new(config) else {
        panic!("a store that cannot open must stop start-up")
    };
    let message = error.to_string();
    assert!(message.starts_with("auth.session_store: "), "{message}");
    assert!(
        message.contains("/nonexistent-dir/sessions.sqlite3"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn session_ids_are_random_and_stored_only_as_hashes() {
    let a = new_session_id();
    let b = new_session_id();
    assert_ne!(a, b);
    assert!(a.len() >= 43, "256 bits in base64: {a}");
    assert_ne!(key_of(&a), a);
    assert_eq!(key_of(&a), key_of(&a));
}

#[test]
fn every_refresh_gate_is_used() {
    let mut used = [0usize; REFRESH_GATES];
    for _ in 0..4096 {
        used[gate_of(&key_of(&new_session_id()))] += 1;
    }
    let (fewest, most) = (used.iter().min(), used.iter().max());
    // 64 per gate on average: a gate missed, or one taking twice its share, is a bias.
    assert!(
        fewest.is_some_and(|&n| n > 20) && most.is_some_and(|&n| n < 128),
        "{used:?}"
    );
}

#[test]
fn an_account_without_a_subject_is_none() {
    let claims = |value: serde_json::Value| match value {
        serde_json::Value::Object(claims) => claims,
        _ => unreachable!(),
    };
    let issuer = "https://idp.example";
    assert!(Account::of(issuer, &claims(serde_json::json!({"sub": ""}))).is_none());
    assert!(Account::of(issuer, &claims(serde_json::json!({"name": "x"}))).is_none());
    let a = Account::of(issuer, &claims(serde_json::json!({"sub": "a"})));
    let b = Account::of(issuer, &claims(serde_json::json!({"sub": "b"})));
    assert_ne!(a.map(|a| a.owner), b.map(|b| b.owner));
}

// ---- One suite, every store ----

fn record(owner: &str, until: i64) -> Record {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Record {
        owner: owner.to_owned(),
        sealed_user: "sealed".to_owned(),
        provider_session: None,
        sealed_tokens: None,
        created_at: now,
        seen_at: now,
        expires_at: until,
        until,
        sealed_device: None,
    }
}

#[tokio::test]
async fn memory_passes_the_store_suite() {
    conformance(&MemoryStore::new()).await;
}

#[tokio::test]
async fn sqlite_passes_the_store_suite() {
    let file = TempFile::new("suite");
    let store = store::sqlite::SqliteStore::open(&file.0, Duration::from_secs(1)).expect("opens");
    conformance(&store).await;
}

#[tokio::test]
async fn sqlite_in_memory_passes_the_store_suite() {
    // One connection only: a second (the fast reader) would open a database of its own.
    let store = store::sqlite::SqliteStore::open(Path::new(":memory:"), Duration::from_secs(1))
        .expect("opens");
    conformance(&store).await;
}

#[tokio::test]
async fn sqlite_reads_at_once_what_another_process_wrote_or_ended() {
    // Two stores on one file, as two server processes: the fast read on the request's own
    // thread keeps nothing of its own, so an ending by the other is seen at the next request.
    let file = TempFile::new("shared");
    let here = store::sqlite::SqliteStore::open(&file.0, Duration::from_secs(1)).expect("opens");
    let there = store::sqlite::SqliteStore::open(&file.0, Duration::from_secs(1)).expect("opens");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let key = new_session_id();
    there
        .save(&key, &record("someone", now + 60))
        .await
        .expect("save");
    let loaded = here.load(&key).await.expect("load");
    assert_eq!(
        loaded.map(|record| record.owner),
        Some("someone".to_owned())
    );
    there.remove(&key).await.expect("remove");
    assert!(
        here.load(&key).await.expect("load").is_none(),
        "ended elsewhere"
    );
    // While the other holds the write lock (a long write), reads still answer.
    let blocker = rusqlite::Connection::open(&file.0).expect("opens");
    blocker
        .execute_batch("BEGIN IMMEDIATE;")
        .expect("the write lock");
    there
        .save(&key, &record("again", now + 60))
        .await
        .expect_err("the file is locked");
    assert!(
        here.load(&key)
            .await
            .expect("a read while locked")
            .is_none()
    );
    blocker.execute_batch("ROLLBACK;").expect("released");
}

#[test]
fn sqlite_opens_while_other_processes_open_and_close_the_same_file() {
    // Servers (or the tests' development providers) opening and closing one file at once:
    // each waits its turn for the locks that opening and the last close's checkpoint take,
    // and none fails with "database is locked".
    let file = TempFile::new("opening");
    let openers: Vec<_> = (0..4)
        .map(|_| {
            let path = file.0.clone();
            std::thread::spawn(move || {
                (0..40)
                    .map(|_| {
                        store::sqlite::SqliteStore::open(&path, Duration::from_secs(5)).map(drop)
                    })
                    .collect::<Result<Vec<()>, String>>()
            })
        })
        .collect();
    for opener in openers {
        let opened = opener.join().expect("the opening thread");
        assert!(opened.is_ok(), "{:?}", opened.err());
    }
}

#[tokio::test]
async fn redis_passes_the_store_suite_and_forgets_ended_sessions_by_itself() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = store::redis::RedisStore::new(&redis.url(), Duration::from_secs(1)).expect("a URL");
    conformance(&store).await;
    let ending = new_session_id();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    store
        .save(&ending, &record("someone", now + 1))
        .await
        .expect("save");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let exists = redis.cli(&["exists", &format!("leptos-auth:session:{ending}")]);
    assert_eq!(exists.trim(), "0", "Redis forgot it by its TTL");
}

#[tokio::test]
async fn an_ended_session_is_not_loaded_whatever_the_store_still_holds() {
    let store = Store::new(
        Arc::new(MemoryStore::new()),
        "memory".to_owned(),
        Duration::from_secs(1),
    );
    let now = OffsetDateTime::now_utc().unix_timestamp();
    store
        .save("k", &record("someone", now + 10))
        .await
        .expect("save");
    assert!(store.load("k", now).await.expect("load").is_some());
    assert_eq!(store.load("k", now + 10).await.expect("load"), None);
}

#[tokio::test]
async fn with_redis_stopped_visitors_look_signed_out_and_come_back_with_it() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (auth, mut browser) = signed_in_on(&redis.url()).await;
    redis.signal("STOP");
    signed_out_in_time_keeping_the_cookie(&auth, &browser).await;
    redis.signal("CONT");
    // Back within one back-off (tests/outage.rs): until then the store is not asked.
    outage::until_signed_in(&auth, &mut browser).await;

    // Gone (saved and shut down), then back with its data.
    redis.cli(&["shutdown", "save"]);
    let _ = redis.child.wait();
    assert_eq!(browser.get(&auth, "/who").await, "nobody");
    assert!(browser.identity.is_some(), "the cookie is kept");
    redis.restart();
    outage::until_signed_in(&auth, &mut browser).await;
}

/// The tests that time requests (tests/outage.rs: each store's outage, against `AT_ONCE`) run
/// one at a time and alone among those that start a Postgres (initdb, a server, a process a
/// connection): on two cores, another's load would be in the times.
static TIMING: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Alice, signed in on a server whose sessions are kept at `url` (`session_store_timeout` 1 s).
async fn signed_in_on(url: &str) -> (Auth, Browser) {
    let auth = auth_with(&format!(
        "session_store = \"{url}\"\nsession_store_timeout = \"1s\"\n"
    ));
    let mut browser = Browser::default();
    assert_eq!(browser.get(&auth, "/begin").await, "begun");
    assert_eq!(browser.get(&auth, "/who").await, "Alice");
    (auth, browser)
}

/// With the store hung: a request waits at most about the timeout and keeps its cookie, and a
/// logout cannot end the session, says so and keeps the cookie too, to try again.
async fn signed_out_in_time_keeping_the_cookie(auth: &Auth, browser: &Browser) {
    let mut browser = browser.clone();
    let started = Instant::now();
    assert_eq!(browser.get(auth, "/who").await, "nobody");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(browser.identity.is_some(), "the cookie is kept");
    assert_eq!(
        browser.get(auth, "/end").await,
        "refused: store_unavailable"
    );
    assert!(browser.identity.is_some(), "the cookie is kept");
}

/// Debian's `redis-server` on a free loopback port, its files in a folder of its own;
/// killed on drop. `None` (the test skipped, saying so) when it is not installed, unless
/// `AUTH_TEST_REDIS=required` (as `make test` sets).
struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
    /// Given to every start after the port and files: TLS, replication, Sentinel.
    args: Vec<String>,
}

impl RedisServer {
    fn start() -> Option<Self> {
        Self::start_with(|_, _| Vec::new())
    }

    /// With the arguments `args` makes for its port and folder (`tests/redis.rs`).
    fn start_with(args: impl FnOnce(u16, &std::path::Path) -> Vec<String>) -> Option<Self> {
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        if Command::new(&binary).arg("--version").output().is_err() {
            assert!(
                std::env::var("AUTH_TEST_REDIS").as_deref() != Ok("required"),
                "redis-server is not installed (scripts/setup.sh test installs it)"
            );
            eprintln!("skipped: redis-server is not installed");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("leptos-auth-redis-{port}"));
        std::fs::create_dir_all(&dir).expect("a folder");
        let args = args(port, &dir);
        let mut server = Self {
            child: Self::spawn(port, &dir, &args),
            port,
            dir,
            args,
        };
        server.wait_until_ready();
        Some(server)
    }

    fn spawn(port: u16, dir: &std::path::Path, args: &[String]) -> Child {
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let mut command = Command::new(binary);
        // A Sentinel's configuration file comes first (`redis-server FILE --sentinel`).
        if let Some(file) = args.first().filter(|arg| arg.ends_with(".conf")) {
            command.arg(file);
        }
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .args(args.iter().filter(|arg| !arg.ends_with(".conf")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts")
    }

    fn restart(&mut self) {
        self.child = Self::spawn(self.port, &self.dir, &self.args);
        self.wait_until_ready();
    }

    fn wait_until_ready(&mut self) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn signal(&self, signal: &str) {
        Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
    }

    /// What `redis-cli` prints for `args`.
    fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_store_url_s_password_never_reaches_the_log() {
    let log = crate::server::test_support::LogBuffer::default();
    let _guard = log.capture_this_thread();
    let file = TempFile::new("password");
    let mut browser = Browser::default();
    browser.get(&auth_with(&file.store_key()), "/begin").await;
    // Nothing listens on port 1: every call fails, and says so.
    let unreachable = auth_with(
        "session_store = \"redis://:hunter2-store-password@127.0.0.1:1/0\"\n\
         session_store_timeout = \"300ms\"\n",
    );
    assert_eq!(browser.get(&unreachable, "/who").await, "nobody");
    let text = log.text();
    assert!(text.contains("Redis at redis://127.0.0.1:1/0"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

mod outage;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis_modes;
// auth-tests/tests/support/postgres.rs uses it too.
#[cfg(feature = "postgres")]
pub(crate) mod postgres_server;
