//! What knowing the visitor costs the server on every request: the identity cookie from the
//! request's `Cookie` header to a `User` (decrypt, check, deserialize the claims).
//! `cargo bench -p leptos-login-tests --features ssr --bench identity` (`make bench` prints the median).
use cookie::Cookie;
use leptos_login::{
    User,
    testing::{CookieCodec, Secret},
};
use serde_json::{Value, json};
use time::OffsetDateTime;

// The tests' harnesses, of which the bench needs only the start.
#[allow(dead_code)]
#[path = "../tests/support/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "../tests/support/redis.rs"]
mod redis_server;

use postgres::PostgresServer;
use redis_server::RedisServer;

fn main() {
    divan::main();
}

/// The floor's read: the session's record by its key, on a connection of its own.
enum BareRead {
    Redis(redis::aio::ConnectionManager, String),
    Postgres(tokio_postgres::Client, tokio_postgres::Statement, String),
}

impl BareRead {
    async fn connect(server: &Server) -> Self {
        match server {
            Server::Redis(redis) => {
                use redis::AsyncCommands as _;
                let mut connection = redis::Client::open(redis.url())
                    .expect("a URL")
                    .get_connection_manager()
                    .await
                    .expect("a connection");
                let keys: Vec<String> = connection
                    .keys("leptos-auth:session:*")
                    .await
                    .expect("the session's key");
                Self::Redis(connection, keys.first().expect("one session").clone())
            }
            Server::Postgres(postgres) => {
                let (client, connection) =
                    tokio_postgres::connect(&postgres.url(""), tokio_postgres::NoTls)
                        .await
                        .expect("a connection");
                tokio::spawn(connection);
                let key: String = client
                    .query_one("SELECT key FROM leptos_login.sessions LIMIT 1", &[])
                    .await
                    .expect("one session")
                    .get(0);
                let select = client
                    .prepare("SELECT record FROM leptos_login.sessions WHERE key = $1")
                    .await
                    .expect("prepared");
                Self::Postgres(client, select, key)
            }
            Server::None | Server::Sqlite(_) => unreachable!("Redis or Postgres"),
        }
    }

    async fn read(&mut self) {
        match self {
            Self::Redis(connection, key) => {
                use redis::AsyncCommands as _;
                let _: Option<String> = connection.get(&*key).await.expect("GET");
            }
            Self::Postgres(client, select, key) => {
                client.query_opt(&*select, &[&*key]).await.expect("SELECT");
            }
        }
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The claims the end-to-end test provider sends for Alice (ID token and userinfo merged).
fn alice() -> User {
    let Value::Object(claims) = json!({
        "sub": "alice",
        "iss": "http://127.0.0.1:9210",
        "aud": "leptos-auth-e2e",
        "exp": 1_800_000_600,
        "iat": 1_800_000_000,
        "auth_time": 1_799_999_990,
        "at_hash": "p8zM0bTuN6O4ZQ1vJ2Pz9g",
        "sid": "4b9b4c4e-2e5f-4b9a-9f0a-6a1d0b3c2e71",
        "name": "Alice Example",
        "given_name": "Alice",
        "family_name": "Example",
        "email": "alice@example.com",
        "email_verified": true,
        "locale": "en"
    }) else {
        unreachable!("an object")
    };
    User::signed_in(claims, None)
}

struct Setup {
    codec: CookieCodec,
    cookie: Cookie<'static>,
    header: String,
}

fn setup() -> Setup {
    let codec = CookieCodec::new(
        &Secret::new("a cookie secret for the benchmark, 32+ bytes"),
        false,
    );
    let cookie = codec.identity_cookie(&alice(), now()).expect("fits");
    let header = format!(
        "_ga=GA1.1.123456789.1700000000; {}={}; theme=dark",
        cookie.name(),
        cookie.value()
    );
    Setup {
        codec,
        cookie,
        header,
    }
}

/// The identity cookie to the `User`.
#[divan::bench]
fn open_identity(bencher: divan::Bencher) {
    let setup = setup();
    assert_eq!(
        setup.codec.open_identity(&setup.cookie, now()),
        Some(alice())
    );
    bencher.bench(|| {
        setup
            .codec
            .open_identity(divan::black_box(&setup.cookie), now())
    });
}

/// The whole per-request path: find the cookie in the `Cookie` header, then open it.
#[divan::bench]
fn from_cookie_header(bencher: divan::Bencher) {
    let setup = setup();
    let name = setup.codec.identity_name();
    bencher.bench(|| {
        Cookie::split_parse(divan::black_box(setup.header.as_str()))
            .flatten()
            .find(|cookie| cookie.name() == name)
            .and_then(|cookie| setup.codec.open_identity(&cookie.into_owned(), now()))
    });
}

/// Its parts: the decryption alone (the cookie crate's private jar, as `open` uses it)…
#[divan::bench]
fn part_decrypt(bencher: divan::Bencher) {
    let setup = setup();
    let key = cookie::Key::derive_from(b"a cookie secret for the benchmark, 32+ bytes");
    bencher.bench(|| {
        cookie::CookieJar::new().private(&key).decrypt(Cookie::new(
            setup.cookie.name().to_owned(),
            setup.cookie.value().to_owned(),
        ))
    });
}

/// …and reading the claims JSON alone.
#[divan::bench]
fn part_json(bencher: divan::Bencher) {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Sealed {
        expires_at: i64,
        content: User,
    }
    let json = serde_json::json!({"expires_at": 1_800_000_000, "content": alice()}).to_string();
    bencher.bench(|| serde_json::from_str::<Sealed>(divan::black_box(&json)).ok());
}

/// `use_user()`'s cost per request in each session mode: the identity cookie to a `User`,
/// through the session store when there is one (the `Sessions::identify` every request runs).
/// Redis and Postgres are Debian's, started here on free loopback ports.
#[divan::bench(args = ["cookie", "sqlite", "redis", "postgres"])]
fn use_user_by_mode(bencher: divan::Bencher, mode: &str) {
    let runtime = runtime();
    let (store, _server) = store_for(mode);
    let (sessions, request) = runtime.block_on(signed_in_session(store));
    let codec = setup().codec;
    let found = runtime.block_on(sessions.identify(&codec, &request));
    assert_eq!(found.user.name(), alice().name(), "{mode}");
    bencher.bench_local(|| runtime.block_on(sessions.identify(&codec, divan::black_box(&request))));
}

/// The floor under the store modes: the same session's record read bare, by its key, on one
/// connection of the store's client (a `GET`; a prepared `SELECT` by primary key), with
/// nothing done with it. `use_user_by_mode` in that mode less this is what the crate adds.
#[divan::bench(args = ["redis GET", "postgres SELECT"])]
fn bare_store_read(bencher: divan::Bencher, read: &str) {
    let runtime = runtime();
    let mode = if read.starts_with("redis") {
        "redis"
    } else {
        "postgres"
    };
    let (store, server) = store_for(mode);
    let _signed_in = runtime.block_on(signed_in_session(store));
    let mut bare = runtime.block_on(BareRead::connect(&server));
    bencher.bench_local(|| runtime.block_on(bare.read()));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// What keeps a store's server running while its bench does (held, never read: its drop
/// stops the server or removes the folder).
#[allow(dead_code)]
enum Server {
    None,
    Sqlite(TempDir),
    Redis(RedisServer),
    Postgres(PostgresServer),
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn store_for(mode: &str) -> (leptos_login::testing::StoreConfig, Server) {
    use leptos_login::testing::StoreConfig;
    match mode {
        "sqlite" => {
            let dir =
                std::env::temp_dir().join(format!("leptos-auth-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("a folder");
            (
                StoreConfig::Sqlite(dir.join("sessions.sqlite3")),
                Server::Sqlite(TempDir(dir)),
            )
        }
        "redis" => {
            let redis =
                RedisServer::start().expect("redis-server (scripts/setup.sh bench installs it)");
            (redis.config(), Server::Redis(redis))
        }
        "postgres" => {
            let postgres =
                PostgresServer::start().expect("Postgres (scripts/setup.sh bench installs it)");
            (postgres.config(), Server::Postgres(postgres))
        }
        _ => (StoreConfig::Cookie, Server::None),
    }
}

/// Alice signed in with `store`: the sessions and a request carrying her identity cookie.
async fn signed_in_session(
    store: leptos_login::testing::StoreConfig,
) -> (leptos_login::testing::Sessions, tower_cookies::Cookies) {
    use leptos_login::testing::{Account, SessionConfig, Sessions};
    let sessions = Sessions::new(&SessionConfig {
        store,
        ..Default::default()
    })
    .expect("the store opens");
    let codec = setup().codec;
    let signed_in = tower_cookies::Cookies::default();
    sessions
        .begin(
            &codec,
            &signed_in,
            &alice(),
            &Account::of("http://127.0.0.1:9210", alice().claims()).expect("a subject"),
            None,
        )
        .await
        .expect("a session");
    let cookie = signed_in
        .get(&codec.identity_name())
        .expect("the identity cookie")
        .into_owned();
    let request = tower_cookies::Cookies::default();
    request.add(cookie);
    (sessions, request)
}
