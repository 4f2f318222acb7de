//! Property tests ("fuzzing") of the two places where the framework reads what a visitor's
//! browser sends: the sealed cookies and the return path after sign-in.
//!
//! `cargo test` runs a few hundred cases per property (proptest's default of 256, or
//! `PROPTEST_CASES`); `make fuzz` runs many more. A failure prints the minimal input and is
//! remembered in `tests/fuzz.proptest-regressions`, which is replayed first on every run.
#![cfg(feature = "ssr")]

use base64::{Engine, prelude::BASE64_STANDARD};
use cookie::Cookie;
use leptos_login::User;
use leptos_login::testing::Secret;
use leptos_login::testing::{CookieCodec, LoginState, MAX_COOKIE_BYTES, SealError};
use leptos_login::testing::{referer_path, same_site_path};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

/// proptest's defaults (cases from `PROPTEST_CASES`, else 256), with failures kept next to
/// this file (the default looks for a `lib.rs` above it and warns on every run).
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The cookie codec
// ---------------------------------------------------------------------------------------------

const SECRET: &str = "an example cookie secret of 32+ bytes";
const OTHER_SECRET: &str = "another cookie secret, 32 bytes long";

fn codec(secret: &str, secure: bool) -> CookieCodec {
    CookieCodec::new(&Secret::new(secret), secure)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid timestamp")
}

/// Any text, control characters, quotes, backslashes and astral characters included.
fn text(max_chars: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..=max_chars).prop_map(String::from_iter)
}

/// A `state` the codec accepts as part of a cookie name.
fn state() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,64}"
}

/// What a browser (or an attacker) may send as a cookie value.
fn cookie_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        text(300),
        vec(any::<u8>(), 0..600).prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        // Well-formed base64 of the right length gets past decoding into AES-GCM itself.
        vec(any::<u8>(), 0..600).prop_map(|bytes| BASE64_STANDARD.encode(bytes)),
        "[A-Za-z0-9+/=]{0,200}",
    ]
}

/// What a browser may send as a cookie name: ours (either flavour) or anything.
fn cookie_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("auth_user".to_owned()),
        Just("__Host-auth_user".to_owned()),
        state().prop_map(|state| format!("auth_login_{state}")),
        state().prop_map(|state| format!("__Host-auth_login_{state}")),
        any::<String>(),
    ]
}

/// Decimal numbers of up to 10 significant digits, as claims carry them (`1.5`, `0.001`,
/// `1700000000.25`); `arbitrary_float_claims_round_trip` covers every other `f64`.
fn decimal_f64() -> impl Strategy<Value = f64> {
    (-9_999_999_999_i64..=9_999_999_999, 0..=10_i32)
        .prop_map(|(digits, scale)| digits as f64 / 10_f64.powi(scale))
}

fn finite_f64() -> impl Strategy<Value = f64> {
    use prop::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO
}

/// A JSON value as a provider might send in a claim (finite numbers only: JSON has no others).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        decimal_f64().prop_map(Value::from),
        text(24).prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(8), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A signed-in user: arbitrary claims (standard names among them), a `sub`, maybe a provider.
fn user(max_claims: usize) -> impl Strategy<Value = User> {
    let claim_name = prop_oneof![
        text(12),
        prop::sample::select(vec![
            "name", "email", "picture", "groups", "iss", "aud", "nonce"
        ])
        .prop_map(str::to_owned),
    ];
    (
        btree_map(claim_name, json_value(), 0..=max_claims),
        text(40),
        prop::option::of(text(16)),
    )
        .prop_map(|(claims, sub, provider)| {
            let mut claims: Map<String, Value> = claims.into_iter().collect();
            claims.insert("sub".to_owned(), Value::String(sub));
            User::signed_in(claims, provider)
        })
}

/// A user of any size up to a few cookies' worth: maybe a large non-standard claim, maybe a
/// large standard one, so that the codec keeps all claims, only the standard ones, or none.
fn user_of_any_size() -> impl Strategy<Value = User> {
    let large = || vec(any::<char>(), 0..2000).prop_map(String::from_iter);
    let standard = prop::sample::select(vec!["name", "picture", "address", "email"]);
    (
        user(8),
        prop::option::of((text(8), large())),
        prop::option::of((standard, large())),
    )
        .prop_map(|(user, custom, standard)| {
            let mut claims = user.claims().clone();
            if let Some((name, value)) = custom {
                claims.insert(format!("x-{name}"), Value::String(value));
            }
            if let Some((name, value)) = standard {
                claims.insert(name.to_owned(), Value::String(value));
            }
            User::signed_in(claims, user.provider().map(str::to_owned))
        })
}

fn login_state() -> impl Strategy<Value = LoginState> {
    (
        state(),
        text(40),
        text(64),
        prop::option::of(text(16)),
        text(64),
    )
        .prop_map(
            |(state, nonce, pkce_verifier, provider, return_to)| LoginState {
                state,
                nonce,
                pkce_verifier,
                provider,
                return_to,
                redirect_uri: None,
                max_age: None,
                acr_values: None,
            },
        )
}

/// An upper bound of the identity cookie's size with all claims kept: the user's JSON, the
/// expiry stamp around it (generously), nonce and tag, in base64.
fn full_size_bound(name: &str, user: &User) -> usize {
    let json = serde_json::to_string(user).expect("serializable").len() + 64;
    name.len() + (json + 12 + 16).div_ceil(3) * 4
}

/// The user with the standard OpenID Connect claims only (as the codec trims them).
fn is_trimmed_from(opened: &User, user: &User) -> bool {
    opened.provider() == user.provider()
        && opened.claims().len() < user.claims().len()
        && opened
            .claims()
            .iter()
            .all(|(claim, value)| user.get(claim) == Some(value))
}

/// The identity cookie's contract: a cookie that fits and opens to `user` exactly when the
/// user is well within the limit, to the user or their standard claims otherwise; or
/// `TooLarge`.
fn check_identity_cookie(codec: &CookieCodec, user: &User) -> Result<(), TestCaseError> {
    let name = codec.identity_name();
    match codec.identity_cookie(user, now()) {
        Ok(cookie) => {
            prop_assert_eq!(cookie.name(), name.as_str());
            prop_assert!(cookie.name().len() + cookie.value().len() <= MAX_COOKIE_BYTES);
            let opened = codec.open_identity(&cookie, now());
            prop_assert!(opened.is_some(), "a cookie the codec made does not open");
            let opened = opened.unwrap_or_default();
            if full_size_bound(&name, user) <= MAX_COOKIE_BYTES {
                prop_assert_eq!(&opened, user);
            } else if &opened != user {
                prop_assert!(
                    is_trimmed_from(&opened, user),
                    "{:?} from {:?}",
                    opened,
                    user
                );
                prop_assert_eq!(opened.sub(), user.sub());
            }
        }
        Err(SealError::TooLarge(too_large)) => {
            prop_assert!(full_size_bound(&name, user) > MAX_COOKIE_BYTES);
            prop_assert!(too_large.0 > MAX_COOKIE_BYTES);
        }
        Err(other) => prop_assert!(false, "a user always seals: {other}"),
    }
    Ok(())
}

/// One edit of one character.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Mostly characters of the base64 alphabet, which keep the value plausible.
    let character = prop_oneof![
        4 => prop::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".chars().collect::<Vec<_>>()
        ),
        1 => any::<char>(),
    ];
    prop_oneof![
        2 => (any::<usize>(), character.clone()).prop_map(|(at, c)| Mutation::Replace(at, c)),
        1 => (any::<usize>(), character).prop_map(|(at, c)| Mutation::Insert(at, c)),
        1 => any::<usize>().prop_map(Mutation::Delete),
    ]
}

/// Non-empty `value` with `mutation` applied (positions taken modulo the length); a
/// replacement by the same character takes another one.
fn mutate(value: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    match *mutation {
        Mutation::Replace(at, c) => {
            let at = at % chars.len();
            chars[at] = match (chars[at] == c, c == 'A') {
                (false, _) => c,
                (true, false) => 'A',
                (true, true) => 'B',
            };
        }
        Mutation::Insert(at, c) => chars.insert(at % (chars.len() + 1), c),
        Mutation::Delete(at) => {
            chars.remove(at % chars.len());
        }
    }
    chars.into_iter().collect()
}

/// A cookie secret as the configuration accepts it: at least 32 bytes.
fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{32,64}",
        vec(any::<char>(), 32..=64).prop_map(String::from_iter),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Whatever arrives under our cookie names, nothing opens and nothing panics.
    #[test]
    fn arbitrary_values_under_our_names_never_open(
        secure in any::<bool>(),
        state in state(),
        value in cookie_value(),
    ) {
        let codec = codec(SECRET, secure);
        let identity = Cookie::new(codec.identity_name(), value.clone());
        prop_assert_eq!(codec.open_identity(&identity, now()), None);
        let name = codec.login_state_name(&state).expect("a plausible state");
        let login = Cookie::new(name, value);
        prop_assert_eq!(codec.open_login_state(&login, &state, now()), None);
    }

    /// Arbitrary names, values and `state`s: nothing opens and nothing panics.
    #[test]
    fn arbitrary_cookies_never_open(
        secure in any::<bool>(),
        name in cookie_name(),
        value in cookie_value(),
        state in prop_oneof![state(), any::<String>()],
    ) {
        let codec = codec(SECRET, secure);
        let cookie = Cookie::new(name, value);
        prop_assert_eq!(codec.open_identity(&cookie, now()), None);
        prop_assert_eq!(codec.open_login_state(&cookie, &state, now()), None);
    }

    /// A user well within the size limit comes back exactly as sealed.
    #[test]
    fn identity_round_trip(secure in any::<bool>(), user in user(6)) {
        check_identity_cookie(&codec(SECRET, secure), &user)?;
    }

    /// Any user: a cookie that fits and opens to the user (or their standard claims), or
    /// `TooLarge`.
    #[test]
    fn identity_of_any_size_fits_or_is_refused(user in user_of_any_size()) {
        check_identity_cookie(&codec(SECRET, false), &user)?;
    }

    /// A login under way comes back exactly as sealed, for its own `state` only.
    #[test]
    fn login_state_round_trip(
        secure in any::<bool>(),
        login in login_state(),
        other in state(),
    ) {
        let codec = codec(SECRET, secure);
        let cookie = codec.login_state_cookie(&login, now()).expect("a plausible state");
        prop_assert_eq!(codec.open_login_state(&cookie, &login.state, now()), Some(login.clone()));
        prop_assert_eq!(codec.open_identity(&cookie, now()), None);
        if other != login.state {
            prop_assert_eq!(codec.open_login_state(&cookie, &other, now()), None);
            // Renamed to the other state's cookie: the name is bound into the seal.
            let renamed = Cookie::new(
                codec.login_state_name(&other).expect("a plausible state"),
                cookie.value().to_owned(),
            );
            prop_assert_eq!(codec.open_login_state(&renamed, &other, now()), None);
        }
    }

    /// Any one-character change to a sealed identity cookie, and it no longer opens.
    #[test]
    fn mutated_identity_never_opens(user in user(3), mutation in mutation()) {
        let codec = codec(SECRET, false);
        let cookie = codec.identity_cookie(&user, now()).expect("fits");
        prop_assert!(codec.open_identity(&cookie, now()).is_some());
        let forged = Cookie::new(cookie.name().to_owned(), mutate(cookie.value(), &mutation));
        prop_assert_eq!(codec.open_identity(&forged, now()), None);
    }

    /// Likewise for a login-state cookie, whose value or name is changed.
    #[test]
    fn mutated_login_state_never_opens(login in login_state(), mutation in mutation()) {
        let codec = codec(SECRET, false);
        let cookie = codec.login_state_cookie(&login, now()).expect("a plausible state");
        let forged = Cookie::new(cookie.name().to_owned(), mutate(cookie.value(), &mutation));
        prop_assert_eq!(codec.open_login_state(&forged, &login.state, now()), None);
        // The same change to the state (hence to the name) of an intact value.
        let state = mutate(&login.state, &mutation);
        if let Some(name) = codec.login_state_name(&state) {
            let renamed = Cookie::new(name, cookie.value().to_owned());
            prop_assert_eq!(codec.open_login_state(&renamed, &state, now()), None);
        }
    }

    /// A cookie sealed with another secret never opens, whichever the two secrets.
    #[test]
    fn another_secret_never_opens(
        ours in secret(),
        theirs in secret(),
        secure in any::<bool>(),
        user in user(3),
        login in login_state(),
    ) {
        prop_assume!(ours != theirs);
        let (ours, theirs) = (codec(&ours, secure), codec(&theirs, secure));
        let identity = theirs.identity_cookie(&user, now()).expect("fits");
        prop_assert_eq!(ours.open_identity(&identity, now()), None);
        prop_assert_eq!(theirs.open_identity(&identity, now()), Some(user));
        let pending = theirs.login_state_cookie(&login, now()).expect("a plausible state");
        prop_assert_eq!(ours.open_login_state(&pending, &login.state, now()), None);
    }
}

proptest! {
    #![proptest_config(config())]

    /// Found by this test: serde_json without its `float_roundtrip` feature (now on in the
    /// workspace) moved e.g. 133394881.85422225 or 7.177944456234287e-299 by one unit in the
    /// last place on the way back.
    #[test]
    fn arbitrary_float_claims_round_trip(float in finite_f64()) {
        let codec = codec(SECRET, false);
        let claims = Map::from_iter([
            ("sub".to_owned(), Value::from("alice")),
            ("score".to_owned(), Value::from(float)),
        ]);
        let user = User::signed_in(claims, None);
        let cookie = codec.identity_cookie(&user, now()).expect("fits");
        prop_assert_eq!(codec.open_identity(&cookie, now()), Some(user));
    }
}

#[test]
fn the_fixed_other_secret_never_opens() {
    let user = User::signed_in(
        Map::from_iter([("sub".to_owned(), Value::from("alice"))]),
        None,
    );
    let cookie = codec(OTHER_SECRET, true)
        .identity_cookie(&user, now())
        .expect("fits");
    assert_eq!(codec(SECRET, true).open_identity(&cookie, now()), None);
}

// ---------------------------------------------------------------------------------------------
// The return path
// ---------------------------------------------------------------------------------------------

/// Origins as `redirect_uri` gives them: default and explicit ports, IPs, a path prefix.
const ORIGINS: [&str; 5] = [
    "http://app.example:3000/oauth2callback",
    "https://app.example.com/oauth2callback",
    "https://app.example.com/myapp/oauth2callback",
    "http://127.0.0.1:8080/oauth2callback",
    "http://[::1]:3000/oauth2callback",
];

fn origin() -> impl Strategy<Value = Url> {
    prop::sample::select(ORIGINS.to_vec()).prop_map(|origin| Url::parse(origin).expect("valid"))
}

/// The pieces open-redirect payloads are made of.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "/", "//", "///", "\\", "\\\\", "/\\", "\\/", "%2F", "%2f", "%5C", "%5c", "%2E", "%2e",
    "%2E%2E", "%00", "%09", "%0A", "%0d", "%20", "%", "%%", "%zz", "\t", "\r", "\n", "\r\n",
    "\0", "\u{7f}", "\u{85}", " ", "@", ":", ":@", "..", ".", "./", "../", "/..", "/.", "?",
    "#", "&", "=", ";", "'", "\"", "<", ">", "`", "^", "{", "|", "}", "~", "[", "]",
    "evil.example", "evil.example:80", "user:pass@", "http:", "https:", "http://",
    "javascript:", "data:", "app.example:3000", "app.example.com", "localhost", "127.0.0.1",
    "0x7f.1", "[::1]", "é", "\u{FF0F}", "\u{FF3C}", "\u{2215}", "\u{2044}", "\u{29F5}",
    "\u{200B}", "\u{FEFF}", "\u{2028}", "\u{3002}", "\u{FF0E}", "ß", "ﬀ", "İ", "\u{1F600}", "a",
    "b/c",
];

/// Strings shaped like open-redirect attempts, mostly starting with `/`.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::sample::select(PIECES).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[a-z0-9.-]{1,8}",
    ];
    let body = vec(piece, 0..12).prop_map(|pieces| pieces.concat());
    prop_oneof![
        4 => body.clone().prop_map(|body| format!("/{body}")),
        3 => body,
        1 => any::<String>(),
        1 => text(40),
    ]
}

/// Referers: this site's origin, a look-alike, another site or nothing, then a hostile tail.
fn hostile_referer(origin: &Url) -> impl Strategy<Value = String> + use<> {
    let own = origin.origin().ascii_serialization();
    let prefix = prop_oneof![
        4 => Just(own.clone()),
        1 => Just(format!("{own}/")),
        1 => Just(format!("{own}@evil.example")),
        1 => Just(own.to_uppercase()),
        1 => Just("https://evil.example".to_owned()),
        1 => Just(String::new()),
    ];
    (prefix, hostile()).prop_map(|(prefix, tail)| format!("{prefix}{tail}"))
}

/// Everything a return path handed out must be, whatever it was made from.
fn check_return_path(path: &str, origin: &Url) -> Result<(), TestCaseError> {
    // (a) a path, never protocol-relative.
    prop_assert!(path.starts_with('/'), "{:?} is not a path", path);
    prop_assert!(
        !path.starts_with("//") && !path.starts_with("/\\"),
        "{:?} is protocol-relative",
        path
    );
    // (b) resolved the way a browser does, it stays on this site...
    let resolved = origin
        .join(path)
        .map_err(|error| TestCaseError::fail(format!("{path:?} does not resolve: {error}")))?;
    prop_assert_eq!(
        resolved.origin(),
        origin.origin(),
        "{:?} leaves the site",
        path
    );
    // ...and is exactly that path.
    prop_assert_eq!(
        &resolved[url::Position::BeforePath..url::Position::AfterQuery],
        path,
        "{:?} resolves to something else",
        path
    );
    // (c) nothing a browser or a header would read in another way.
    prop_assert!(
        !path
            .chars()
            .any(|c| c.is_ascii_control() || c == ' ' || c == '\\'),
        "{:?} has a control character, space or backslash",
        path
    );
    // (d) idempotent.
    prop_assert_eq!(same_site_path(path, origin), Some(path.to_owned()));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn same_site_path_stays_on_site(origin in origin(), candidate in hostile()) {
        if let Some(path) = same_site_path(&candidate, &origin) {
            check_return_path(&path, &origin)?;
        }
    }

    #[test]
    fn referer_path_stays_on_site(
        (origin, referer) in origin().prop_flat_map(|origin| {
            let referer = hostile_referer(&origin);
            (Just(origin), referer)
        }),
    ) {
        if let Some(path) = referer_path(&referer, &origin) {
            check_return_path(&path, &origin)?;
        }
    }

    /// Plain paths (no dot segments, nothing to encode) are kept as they are.
    #[test]
    fn plain_paths_are_kept(
        origin in origin(),
        path in "(/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,8}){1,4}/?(\\?[A-Za-z0-9=&._~-]{0,16})?",
    ) {
        prop_assert_eq!(same_site_path(&path, &origin), Some(path.clone()));
        let referer = format!("{}{path}", origin.origin().ascii_serialization());
        prop_assert_eq!(referer_path(&referer, &origin), Some(path));
    }
}

/// Classic open-redirect payloads beyond those in `return_to.rs`'s own tests.
#[test]
fn classic_payloads_never_leave_the_site() {
    let refused = [
        "\\\\evil.example",
        "\\\\\\evil.example",
        "/\\/evil.example",
        "//\\evil.example",
        "/\\\\evil.example",
        "///\\evil.example",
        "\\/\\/evil.example",
        "/\r/evil.example",
        "/\r\n/evil.example",
        "/\t\\evil.example",
        "/\\\t\\evil.example",
        "/\0/evil.example",
        "/\u{7f}/evil.example",
        "/\u{85}/evil.example",
        "/.//evil.example",
        "/..//evil.example",
        "/./\\evil.example",
        "/%2e//evil.example",
        "/%2E%2E//evil.example",
        "/%2e%2e/\\evil.example",
        "//evil.example/%2F..",
        "//evil.example@app.example.com.evil.example",
        "//app.example:3000@evil.example",
        "https:/\\evil.example",
        "https:evil.example",
        "http://app.example:3000@evil.example",
        "\t//evil.example",
        " //evil.example",
        "%2F%2Fevil.example",
        "%5C%5Cevil.example",
        "data:text/html,<script>alert(1)</script>",
        "javascript://%0aalert(1)",
        "\u{FF0F}\u{FF0F}evil.example",
    ];
    // Kept, as paths on this site.
    let kept = [
        "/%09/evil.example",
        "/%0d%0a/evil.example",
        "/%2F%2Fevil.example",
        "/%5C%5Cevil.example",
        "/%5C/evil.example",
        "/@evil.example",
        "/:@evil.example",
        "/ /evil.example",
        "/\u{FF0F}evil.example",
        "/\u{2215}\u{2215}evil.example",
        "/\u{3002}evil.example",
        "/?next=//evil.example",
        "/?next=\\\\evil.example",
        "/#//evil.example",
        "/#\\\\evil.example",
        "/.%2e/%2e%2e/x",
        "/x/..%2f..%2f/evil.example",
    ];
    for origin in ORIGINS {
        let origin = Url::parse(origin).expect("valid");
        for candidate in refused {
            assert_eq!(
                same_site_path(candidate, &origin),
                None,
                "{candidate:?} must be refused on {origin}"
            );
        }
        for candidate in kept {
            assert!(
                same_site_path(candidate, &origin).is_some(),
                "{candidate:?} must be kept on {origin}"
            );
        }
        // A user name before this very host: only the path `/` is kept of it.
        let host_and_port = &origin[url::Position::BeforeHost..url::Position::AfterPort];
        let own_host = format!("//evil.example@{host_and_port}/");
        assert_eq!(same_site_path(&own_host, &origin).as_deref(), Some("/"));
        for candidate in kept.into_iter().chain(refused).chain([own_host.as_str()]) {
            if let Some(path) = same_site_path(candidate, &origin)
                && let Err(error) = check_return_path(&path, &origin)
            {
                panic!("{candidate:?} on {origin}: {error}");
            }
            let referer = format!("{}{candidate}", origin.origin().ascii_serialization());
            if let Some(path) = referer_path(&referer, &origin)
                && let Err(error) = check_return_path(&path, &origin)
            {
                panic!("referer {referer:?} on {origin}: {error}");
            }
        }
    }
}
