//! A store that is down costs a request nothing: against a real `redis-server` and a real
//! Postgres hung (SIGSTOP) and stopped, and a SQLite file another process holds locked, under
//! concurrent load. Apart from the requests in flight when it failed, requests skip the store at once
//! (signed out, cookie kept), and sessions come back within one back-off of its return.
use tokio::task::JoinSet;

use super::*;
use crate::server::session::outage::MAX_BACKOFF;

/// Comfortably under the store timeout (1 s) and Redis's reconnection attempts (about half a
/// second), which each request waited before: what `make bench` measures is far less.
const AT_ONCE: Duration = Duration::from_millis(100);
/// How long the load runs during an outage.
const OUTAGE_LOAD: Duration = Duration::from_millis(1500);

/// `workers` browsers at once, each asking `/who` again and again for `during`: each answer,
/// with how long it took.
async fn load(
    auth: &Auth,
    browser: &Browser,
    workers: usize,
    during: Duration,
) -> Vec<(String, Duration)> {
    let until = Instant::now() + during;
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let (auth, mut browser) = (auth.clone(), browser.clone());
        tasks.spawn(async move {
            let mut answers = Vec::new();
            while Instant::now() < until {
                let started = Instant::now();
                let who = browser.get(&auth, "/who").await;
                answers.push((who, started.elapsed()));
                // A request skipping the store never waits, so this loop would never give the
                // other workers their turn (tokio's budget would, every 128 requests, and the
                // wait for it would count as the next request's).
                tokio::task::yield_now().await;
            }
            answers
        });
    }
    let mut answers = Vec::new();
    while let Some(done) = tasks.join_next().await {
        answers.extend(done.expect("a worker"));
    }
    answers
}

/// The requests in flight when the store fails: each may wait for it.
async fn in_flight(auth: &Auth, browser: &Browser, count: usize) {
    let mut tasks = JoinSet::new();
    for _ in 0..count {
        let (auth, mut browser) = (auth.clone(), browser.clone());
        tasks.spawn(async move { browser.get(&auth, "/who").await });
    }
    while let Some(who) = tasks.join_next().await {
        assert_eq!(who.expect("a request"), "nobody");
    }
}

/// During the outage every answer is "signed out", and none waited for the store.
fn assert_skipped_at_once(answers: &[(String, Duration)], what: &str) {
    assert!(
        answers.len() > 100,
        "{what}: only {} requests",
        answers.len()
    );
    let slowest = answers
        .iter()
        .map(|(_, took)| *took)
        .max()
        .unwrap_or_default();

    assert!(
        answers.iter().all(|(who, _)| who == "nobody"),
        "{what}: signed out while the store is down"
    );
    assert!(
        slowest < AT_ONCE,
        "{what}: a request waited {slowest:?} for a store that is down"
    );
}

/// How long after the store's return until `browser` is signed in again.
pub(super) async fn until_signed_in(auth: &Auth, browser: &mut Browser) -> Duration {
    let back = Instant::now();
    while browser.get(auth, "/who").await != "Alice" {
        assert!(
            back.elapsed() < MAX_BACKOFF + Duration::from_secs(2),
            "not signed in again within a back-off"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    back.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_hung_or_stopped_a_request_does_not_wait_for_it() {
    let _alone = TIMING.write().await;
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (auth, mut browser) = signed_in_on(&redis.url()).await;

    // Hung.
    redis.signal("STOP");
    in_flight(&auth, &browser, 16).await;
    assert_skipped_at_once(&load(&auth, &browser, 8, OUTAGE_LOAD).await, "hung");
    assert!(browser.identity.is_some(), "the cookie is kept");
    redis.signal("CONT");
    until_signed_in(&auth, &mut browser).await;

    // Stopped (its data saved first, as a restart from disk keeps it), then back.
    redis.cli(&["save"]);
    redis.signal("TERM");
    let _ = redis.child.wait();
    in_flight(&auth, &browser, 16).await;
    assert_skipped_at_once(&load(&auth, &browser, 8, OUTAGE_LOAD).await, "stopped");
    redis.restart();
    until_signed_in(&auth, &mut browser).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_hung_or_stopped_a_request_does_not_wait_for_it() {
    let _alone = TIMING.write().await;
    let Some(mut postgres) = super::postgres_server::PostgresServer::start() else {
        return;
    };
    let (auth, mut browser) = signed_in_on(&postgres.url("")).await;

    // Hung: the server and every connection's process.
    postgres.pause();
    in_flight(&auth, &browser, 16).await;
    assert_skipped_at_once(&load(&auth, &browser, 8, OUTAGE_LOAD).await, "hung");
    assert!(browser.identity.is_some(), "the cookie is kept");
    postgres.resume();
    until_signed_in(&auth, &mut browser).await;

    // Stopped (a fast shutdown: its connections closed, its data kept), then back.
    postgres.stop();
    in_flight(&auth, &browser, 16).await;
    assert_skipped_at_once(&load(&auth, &browser, 8, OUTAGE_LOAD).await, "stopped");
    postgres.restart();
    until_signed_in(&auth, &mut browser).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sqlite_locked_by_another_process_a_request_does_not_wait_for_it() {
    let _alone = TIMING.write().await;
    let file = TempFile::new("locked");
    let auth = auth_with(&format!(
        "{}session_store_timeout = \"1s\"\n",
        file.store_key()
    ));
    let mut browser = Browser::default();
    assert_eq!(browser.get(&auth, "/begin").await, "begun");
    assert_eq!(browser.get(&auth, "/who").await, "Alice");

    // Another process (a backup, a migration) holds the write lock: writes wait the busy
    // timeout and fail.
    let other = rusqlite::Connection::open(&file.0).expect("opens");
    other
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO auth_locks VALUES ('other', 'x', 0);")
        .expect("the write lock");
    let mut another = Browser::default();
    assert!(another.get(&auth, "/begin").await.starts_with("failed"));
    assert_skipped_at_once(&load(&auth, &browser, 8, OUTAGE_LOAD).await, "locked");

    other.execute_batch("ROLLBACK;").expect("unlocked");
    until_signed_in(&auth, &mut browser).await;
    assert_eq!(another.get(&auth, "/begin").await, "begun");
}

#[tokio::test(flavor = "current_thread")]
async fn a_store_that_cannot_be_reached_at_start_up_is_named_in_the_log() {
    let log = crate::server::test_support::LogBuffer::default();
    let _guard = log.capture_this_thread();
    let _auth = auth_with(
        "session_store = \"redis://:hunter2-store-password@127.0.0.1:1/0\"\n\
         session_store_timeout = \"300ms\"\n",
    );
    let said = Instant::now();
    while !log.text().contains("cannot be reached at start-up") {
        assert!(said.elapsed() < Duration::from_secs(5), "{}", log.text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = log.text();
    assert!(text.contains("Redis at redis://127.0.0.1:1/0"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(
        text.matches("cannot be reached").count(),
        1,
        "said once: {text}"
    );
}
