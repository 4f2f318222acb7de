//! What knowing the visitor costs the server on every request: the identity cookie from the
//! request's `Cookie` header to a `User` (decrypt, check, deserialize the claims).
//! `cargo bench -p auth --features ssr --bench identity` (`make bench` prints the median).
use auth::{
    User,
    testing::{CookieCodec, Secret},
};
use cookie::Cookie;
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
