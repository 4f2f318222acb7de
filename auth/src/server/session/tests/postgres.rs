//! The Postgres store against Debian's Postgres (`postgres_server.rs`, a server of each test's
//! own): the store suite, the tables it makes and upgrades, the sweep, two servers starting
//! at once, an outage, and a URL's password kept out of every message.
use super::postgres_server::{PASSWORD, PostgresServer};
use super::*;
use crate::server::session::store::postgres::PostgresStore;

const TIMEOUT: Duration = Duration::from_secs(2);

fn store(postgres: &PostgresServer, more: &str) -> PostgresStore {
    PostgresStore::new(&postgres.url(more), TIMEOUT).expect("a usable URL")
}

#[tokio::test]
async fn postgres_passes_the_store_suite_in_its_own_schema_beside_the_apps_tables() {
    let _beside = TIMING.read().await;
    let Some(postgres) = PostgresServer::start() else {
        return;
    };
    // The app's own table, named as ours: it must stay as it is.
    postgres.psql("CREATE TABLE sessions (id int PRIMARY KEY); INSERT INTO sessions VALUES (7)");
    conformance(&store(&postgres, "")).await;
    assert_eq!(postgres.psql("SELECT id FROM public.sessions"), "7");
    assert_eq!(
        postgres.psql(
            "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables \
             WHERE table_schema = 'leptos_login'"
        ),
        "locks,meta,sessions"
    );
    assert_eq!(
        postgres.psql("SELECT value FROM leptos_login.meta WHERE name = 'schema_version'"),
        "1"
    );
    assert_eq!(
        postgres.psql("SELECT count(*) FROM leptos_login.sessions"),
        "0",
        "the suite left nothing behind"
    );

    // A role that may only read and write the tables, made for it by an administrator.
    postgres.psql(
        "CREATE ROLE web LOGIN PASSWORD 'web-password'; \
         GRANT USAGE ON SCHEMA leptos_login TO web; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA leptos_login TO web",
    );
    let url = postgres
        .url("")
        .replace(&format!("leptos:{PASSWORD}"), "web:web-password");
    conformance(&PostgresStore::new(&url, TIMEOUT).expect("a usable URL")).await;

    // Another schema, as a second app on the same database would have.
    conformance(&store(&postgres, "schema=second_app")).await;
    assert_eq!(
        postgres.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'second_app'"),
        "1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_together_make_the_tables_once_and_all_start() {
    let _beside = TIMING.read().await;
    let Some(postgres) = PostgresServer::start() else {
        return;
    };
    let servers: Vec<Arc<PostgresStore>> = (0..4)
        .map(|_| Arc::new(store(&postgres, "schema=together")))
        .collect();
    let mut starts = tokio::task::JoinSet::new();
    for (i, server) in servers.iter().enumerate() {
        let server = Arc::clone(server);
        starts.spawn(async move {
            server
                .try_lock(&format!("first-{i}"), "me", Duration::from_secs(5))
                .await
        });
    }
    while let Some(started) = starts.join_next().await {
        assert!(
            matches!(started.expect("a task"), Ok(true)),
            "every server starts"
        );
    }
    assert_eq!(
        postgres.psql("SELECT value FROM together.meta WHERE name = 'schema_version'"),
        "1"
    );
}

#[tokio::test]
async fn tables_of_a_newer_version_are_left_alone_and_named() {
    let _beside = TIMING.read().await;
    let Some(postgres) = PostgresServer::start() else {
        return;
    };
    postgres.psql(
        "CREATE SCHEMA later; CREATE TABLE later.meta (name text PRIMARY KEY, value bigint NOT NULL); \
         INSERT INTO later.meta VALUES ('schema_version', 99)",
    );
    let error = store(&postgres, "schema=later")
        .load("k")
        .await
        .expect_err("refused")
        .to_string();
    assert!(error.contains("newer leptos-login"), "{error}");
    assert!(error.contains("99"), "{error}");
    assert_eq!(
        postgres
            .psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'later'"),
        "1",
        "nothing made beside it"
    );
}

#[tokio::test]
async fn ended_sessions_are_swept_by_one_server_an_interval() {
    let _beside = TIMING.read().await;
    let Some(postgres) = PostgresServer::start() else {
        return;
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Written straight into the table, as by a server long gone: one ended, one not.
    let first = store(&postgres, "schema=swept");
    first.load("nothing").await.expect("the tables made");
    let started = Instant::now();
    while postgres.psql("SELECT value FROM swept.meta WHERE name = 'swept_at'") == "0" {
        assert!(started.elapsed() < Duration::from_secs(5), "no first sweep");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (key, until) in [("ended", now - 10), ("live", now + 3600)] {
        postgres.psql(&format!(
            "INSERT INTO swept.sessions VALUES ('{key}', 'someone', NULL, {until}, '{{}}')"
        ));
    }
    // The first call of a server starts its sweep; the first server's (done before the rows
    // were there) counts for every server for the interval.
    let second = store(&postgres, "schema=swept");
    second.load("nothing").await.expect("answers");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        postgres.psql("SELECT count(*) FROM swept.sessions"),
        "2",
        "swept within the interval: not again"
    );

    postgres.psql("UPDATE swept.meta SET value = 0 WHERE name = 'swept_at'");
    let third = store(&postgres, "schema=swept");
    third.load("nothing").await.expect("answers");
    let started = Instant::now();
    while postgres.psql("SELECT string_agg(key, ',') FROM swept.sessions") != "live" {
        assert!(started.elapsed() < Duration::from_secs(5), "not swept");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn with_postgres_stopped_visitors_look_signed_out_and_come_back_with_it() {
    let _beside = TIMING.read().await;
    let Some(mut postgres) = PostgresServer::start() else {
        return;
    };
    let (auth, mut browser) = signed_in_on(&postgres.url("")).await;
    postgres.pause();
    signed_out_in_time_keeping_the_cookie(&auth, &browser).await;
    postgres.resume();
    outage::until_signed_in(&auth, &mut browser).await;

    // Gone (shut down), then back with its data.
    postgres.stop();
    assert_eq!(browser.get(&auth, "/who").await, "nobody");
    assert!(browser.identity.is_some(), "the cookie is kept");
    postgres.restart();
    outage::until_signed_in(&auth, &mut browser).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_postgres_url_s_password_reaches_no_log_and_no_error() {
    let _beside = TIMING.read().await;
    let Some(postgres) = PostgresServer::start() else {
        return;
    };
    let log = crate::server::test_support::LogBuffer::default();
    let _guard = log.capture_this_thread();
    let wrong = postgres.url("").replace(PASSWORD, "hunter2-store-password");
    let unreachable = "postgres://leptos:hunter2-store-password@127.0.0.1:1/sessions";
    for url in [wrong.as_str(), unreachable] {
        let error = PostgresStore::new(url, Duration::from_millis(500))
            .expect("a usable URL")
            .load("k")
            .await
            .expect_err("no answer")
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
        let described =
            crate::server::config::StoreConfig::Postgres(crate::server::config::Secret::new(url))
                .describe();
        assert!(!described.contains("hunter2"), "{described}");

        let mut browser = Browser::default();
        let auth = auth_with(&format!(
            "session_store = \"{url}\"\nsession_store_timeout = \"500ms\"\n"
        ));
        assert!(browser.get(&auth, "/begin").await.starts_with("failed"));
        assert_eq!(browser.get(&auth, "/who").await, "nobody");
    }
    let text = log.text();
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(
        text.contains(&format!(
            "Postgres at 127.0.0.1:{}/sessions",
            postgres.port()
        )),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn sslmode_is_honoured_and_a_certificate_is_always_checked() {
    let _beside = TIMING.read().await;
    let Some(postgres) = PostgresServer::start_with_tls() else {
        return;
    };
    let authority = postgres.authority();
    // "truetrue" when every connection of the store is over TLS, "falsefalse" when none is.
    let encrypted = |store: &str| {
        postgres.psql(&format!(
            "SELECT bool_and(ssl)::text || bool_or(ssl)::text FROM pg_stat_ssl \
             JOIN pg_stat_activity USING (pid) WHERE application_name = '{store}'"
        ))
    };
    for (mode, name) in [("require", "required"), ("prefer", "preferred")] {
        let store = PostgresStore::new(
            &postgres.url(&format!(
                "sslmode={mode}&sslrootcert={}&application_name={name}",
                authority.display()
            )),
            TIMEOUT,
        )
        .expect("a usable URL");
        conformance(&store).await;
        assert_eq!(encrypted(name), "truetrue", "{mode}: over TLS");
    }
    // libpq's strictest mode is this store's only way to check.
    let strict = postgres.url(&format!(
        "sslmode=verify-full&sslrootcert={}&application_name=strict",
        authority.display()
    ));
    let strict = PostgresStore::new(&strict, TIMEOUT).expect("a usable URL");
    assert_eq!(strict.load("k").await.ok(), Some(None));
    assert_eq!(encrypted("strict"), "truetrue");

    // Its authority is none of Mozilla's: no mode trusts it blindly.
    for mode in ["require", "prefer"] {
        let error = PostgresStore::new(&postgres.url(&format!("sslmode={mode}")), TIMEOUT)
            .expect("a usable URL")
            .load("k")
            .await
            .expect_err("an unknown authority")
            .to_string();
        assert!(error.contains("certificate"), "{mode}: {error}");
    }
    let plain = PostgresStore::new(&postgres.url("application_name=plain"), TIMEOUT);
    let plain = plain.expect("a usable URL");
    assert_eq!(plain.load("k").await.ok(), Some(None), "sslmode=disable");
    assert_eq!(encrypted("plain"), "falsefalse");
}
