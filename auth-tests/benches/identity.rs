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

fn main() {
    divan::main();
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
/// Redis is Debian's `redis-server`, started here on a free loopback port.
#[divan::bench(args = ["cookie", "sqlite", "redis"])]
fn use_user_by_mode(bencher: divan::Bencher, mode: &str) {
    use leptos_login::testing::{Account, SessionConfig, Sessions, StoreConfig};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = std::env::temp_dir().join(format!("leptos-auth-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let mut redis = None;
    let store = match mode {
        "sqlite" => StoreConfig::Sqlite(dir.join("sessions.sqlite3")),
        "redis" => {
            let (child, url) = start_redis(&dir);
            redis = Some(child);
            StoreConfig::Redis(Secret::new(url))
        }
        _ => StoreConfig::Cookie,
    };
    let sessions = runtime.block_on(async {
        Sessions::new(&SessionConfig {
            store,
            ..Default::default()
        })
    });
    let sessions = sessions.expect("the store opens");
    let codec = setup().codec;
    let signed_in = tower_cookies::Cookies::default();
    runtime
        .block_on(sessions.begin(
            &codec,
            &signed_in,
            &alice(),
            &Account::of("http://127.0.0.1:9210", alice().claims()).expect("a subject"),
            None,
        ))
        .expect("a session");
    let cookie = signed_in
        .get(&codec.identity_name())
        .expect("the identity cookie")
        .into_owned();
    let request = tower_cookies::Cookies::default();
    request.add(cookie);
    let found = runtime.block_on(sessions.identify(&codec, &request));
    assert_eq!(found.user.name(), alice().name(), "{mode}");
    bencher.bench_local(|| runtime.block_on(sessions.identify(&codec, divan::black_box(&request))));
    if let Some(mut child) = redis {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn start_redis(dir: &std::path::Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (scripts/setup.sh bench installs it)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child, format!("redis://127.0.0.1:{port}/0"))
}
