use super::*;
use serde_json::json;

fn codec(secret: &str, secure: bool) -> CookieCodec {
    CookieCodec::new(&Secret::new(secret), secure)
}

const SECRET: &str = "an example cookie secret of 32+ bytes";
const OTHER_SECRET: &str = "another cookie secret, 32 bytes long";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid timestamp")
}

fn alice() -> User {
    let Value::Object(claims) =
        json!({"sub": "alice", "name": "Alice", "email": "alice@example.com"})
    else {
        unreachable!()
    };
    User::signed_in(claims, Some("idp".to_owned()))
}

fn login_state() -> LoginState {
    LoginState {
        state: "abcDEF123-_".to_owned(),
        nonce: "n".to_owned(),
        pkce_verifier: "v".to_owned(),
        provider: None,
        return_to: "/private".to_owned(),
        redirect_uri: None,
        max_age: None,
        acr_values: None,
    }
}

#[test]
fn identity_round_trip() {
    let codec = codec(SECRET, false);
    let cookie = codec.identity_cookie(&alice(), now()).expect("fits");
    assert_eq!(codec.open_identity(&cookie, now()), Some(alice()));
}

#[test]
fn identity_cookie_is_encrypted_not_just_signed() {
    let cookie = codec(SECRET, false)
        .identity_cookie(&alice(), now())
        .expect("fits");
    for secret in ["alice@example.com", "Alice", "sub"] {
        assert!(
            !cookie.value().contains(secret),
            "{secret} readable in {}",
            cookie.value()
        );
    }
}

#[test]
fn flags_over_http_and_https() {
    let plain = codec(SECRET, false)
        .identity_cookie(&alice(), now())
        .expect("fits");
    assert_eq!(plain.name(), "auth_user");
    assert_eq!(plain.http_only(), Some(true));
    assert_eq!(plain.same_site(), Some(SameSite::Lax));
    assert_eq!(plain.path(), Some("/"));
    assert_eq!(plain.secure(), Some(false));
    assert_eq!(plain.max_age(), Some(Duration::days(30)));

    let secure = codec(SECRET, true)
        .identity_cookie(&alice(), now())
        .expect("fits");
    assert_eq!(secure.name(), "__Host-auth_user");
    assert_eq!(secure.secure(), Some(true));
    assert_eq!(secure.domain(), None, "__Host- cookies must be host-only");
}

#[test]
fn tampered_or_truncated_cookie_is_signed_out() {
    let codec = codec(SECRET, false);
    let cookie = codec.identity_cookie(&alice(), now()).expect("fits");
    let value = cookie.value().to_owned();

    let mut flipped = value.clone().into_bytes();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("ascii");
    for bad in [
        flipped,
        value[..value.len() - 4].to_owned(),
        String::new(),
        "garbage!".to_owned(),
    ] {
        let forged = Cookie::new("auth_user", bad.clone());
        assert_eq!(codec.open_identity(&forged, now()), None, "{bad:?} opened");
    }
}

#[test]
fn cookie_from_another_secret_is_signed_out() {
    let cookie = codec(OTHER_SECRET, false)
        .identity_cookie(&alice(), now())
        .expect("fits");
    assert_eq!(codec(SECRET, false).open_identity(&cookie, now()), None);
}

#[test]
fn cookie_past_its_own_expiry_is_signed_out_whatever_the_browser_kept() {
    let codec = codec(SECRET, false);
    let cookie = codec.identity_cookie(&alice(), now()).expect("fits");
    let almost = now() + IDENTITY_LIFETIME - Duration::seconds(1);
    assert_eq!(codec.open_identity(&cookie, almost), Some(alice()));
    assert_eq!(
        codec.open_identity(&cookie, now() + IDENTITY_LIFETIME),
        None
    );
}

#[test]
fn a_login_state_cannot_pass_for_an_identity() {
    // The cookie name is bound into the encryption: renaming a cookie breaks it.
    let codec = codec(SECRET, false);
    let login = codec
        .login_state_cookie(&login_state(), now())
        .expect("valid state");
    let renamed = Cookie::new("auth_user", login.value().to_owned());
    assert_eq!(codec.open_identity(&renamed, now()), None);
}

#[test]
fn login_state_round_trip_and_limits() {
    let codec = codec(SECRET, false);
    let state = login_state();
    let cookie = codec
        .login_state_cookie(&state, now())
        .expect("valid state");
    assert_eq!(cookie.name(), "auth_login_abcDEF123-_");
    assert_eq!(cookie.max_age(), Some(Duration::minutes(10)));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(
        codec.open_login_state(&cookie, &state.state, now()),
        Some(state.clone())
    );
    assert_eq!(codec.open_login_state(&cookie, "other", now()), None);
    assert_eq!(
        codec.open_login_state(&cookie, &state.state, now() + LOGIN_STATE_LIFETIME),
        None
    );
}

#[test]
fn implausible_state_makes_no_cookie_name() {
    let codec = codec(SECRET, false);
    for state in ["", "a;b", "a=b", "x".repeat(65).as_str(), "é"] {
        assert_eq!(codec.login_state_name(state), None, "{state:?}");
    }
}

#[test]
fn removal_matches_the_cookie_it_removes() {
    let codec = codec(SECRET, true);
    let removal = codec.removal(&codec.identity_name());
    assert_eq!(removal.name(), "__Host-auth_user");
    assert_eq!(removal.path(), Some("/"));
    assert_eq!(removal.secure(), Some(true));
    assert_eq!(removal.max_age(), Some(Duration::ZERO));
}

fn user_with_groups(count: usize) -> User {
    let groups: Vec<String> = (0..count)
        .map(|i| format!("group-with-a-long-name-{i:05}"))
        .collect();
    let Value::Object(claims) = json!({"sub": "alice", "name": "Alice", "groups": groups}) else {
        unreachable!()
    };
    User::signed_in(claims, None)
}

#[test]
fn oversized_claims_keep_the_standard_ones() {
    let codec = codec(SECRET, false);
    let big = user_with_groups(200);
    let cookie = codec
        .identity_cookie(&big, now())
        .expect("standard claims fit");
    assert!(cookie.name().len() + cookie.value().len() <= MAX_COOKIE_BYTES);
    let opened = codec.open_identity(&cookie, now()).expect("opens");
    assert_eq!(opened.name(), Some("Alice"));
    assert_eq!(opened.get("groups"), None);
}

#[test]
fn standard_claims_too_large_are_an_error() {
    let Value::Object(claims) = json!({"sub": "alice", "name": "x".repeat(5000)}) else {
        unreachable!()
    };
    let result = codec(SECRET, false).identity_cookie(&User::signed_in(claims, None), now());
    assert!(matches!(result, Err(SealError::TooLarge(_))));
}

/// What no type of this crate does, but a `Serialize` may: fail.
struct Unsealable;

impl Serialize for Unsealable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("not today"))
    }
}

#[test]
fn what_cannot_be_sealed_is_an_error_never_an_empty_value() {
    let codec = codec(SECRET, false);
    let in_the_store = codec.seal_value("label", &Unsealable);
    assert!(
        matches!(in_the_store, Err(SealError::Failed(_))),
        "{in_the_store:?}"
    );
    let expires_at = now() + time::Duration::hours(1);
    let cookie = codec.seal_identity(&Unsealable, now(), expires_at, None);
    assert!(matches!(cookie, Err(SealError::Failed(_))), "{cookie:?}");
}

#[test]
fn a_retired_secret_still_opens_and_the_cookie_is_sealed_anew() {
    let old = codec(OTHER_SECRET, false)
        .identity_cookie(&alice(), now())
        .expect("fits");
    let rotated = codec(SECRET, false).with_previous_secrets(&[Secret::new(OTHER_SECRET)]);
    let later = now() + Duration::days(1);
    let (user, reissue) = rotated
        .open_identity_and_reissue(&old, later)
        .expect("opens");
    assert_eq!(user, alice());
    let fresh = reissue.expect("re-sealed with the current secret");
    // The current secret alone opens the new cookie, which keeps the old expiry.
    assert_eq!(
        codec(SECRET, false).open_identity(&fresh, later),
        Some(alice())
    );
    assert_eq!(fresh.max_age(), Some(IDENTITY_LIFETIME - Duration::days(1)));
    assert_eq!(
        codec(SECRET, false).open_identity(&fresh, now() + IDENTITY_LIFETIME),
        None
    );
    assert_eq!(fresh.http_only(), Some(true));
}

#[test]
fn a_current_cookie_is_not_reissued() {
    let rotated = codec(SECRET, false).with_previous_secrets(&[Secret::new(OTHER_SECRET)]);
    let cookie = rotated.identity_cookie(&alice(), now()).expect("fits");
    let (_, reissue) = rotated
        .open_identity_and_reissue(&cookie, now())
        .expect("opens");
    assert!(reissue.is_none());
}

#[test]
fn a_secret_dropped_from_the_list_no_longer_opens() {
    let old = codec(OTHER_SECRET, false)
        .identity_cookie(&alice(), now())
        .expect("fits");
    assert_eq!(codec(SECRET, false).open_identity(&old, now()), None);
    let expired = now() + IDENTITY_LIFETIME;
    let rotated = codec(SECRET, false).with_previous_secrets(&[Secret::new(OTHER_SECRET)]);
    assert_eq!(
        rotated.open_identity(&old, expired),
        None,
        "expiry still holds"
    );
}

/// A login started at `now() + seconds`, with a realistic 43-character state and verifier.
fn login_started(index: usize, seconds: i64, return_to: &str) -> Cookie<'static> {
    let state = format!("{index:0>43}");
    let login = LoginState {
        state: state.clone(),
        nonce: "n".repeat(43),
        pkce_verifier: "v".repeat(43),
        provider: None,
        return_to: return_to.to_owned(),
        redirect_uri: None,
        max_age: None,
        acr_values: None,
    };
    codec(SECRET, false)
        .login_state_cookie(&login, now() + Duration::seconds(seconds))
        .expect("valid state")
}

#[test]
fn logins_in_flight_are_capped_and_the_oldest_go_first() {
    let codec = codec(SECRET, false);
    let started: Vec<_> = (0..10).map(|i| login_started(i, i as i64, "/")).collect();
    let new = login_started(99, 20, "/");
    let dropped = codec.login_states_to_drop(&started, &new, now() + Duration::seconds(30));
    // The three newest stay beside the new one; the seven oldest go.
    let expected: Vec<String> = started[..7].iter().map(|c| c.name().to_owned()).collect();
    let mut dropped_sorted = dropped.clone();
    dropped_sorted.sort();
    assert_eq!(dropped_sorted, expected);
}

#[test]
fn two_logins_at_once_are_both_kept() {
    let codec = codec(SECRET, false);
    let first = login_started(1, 0, "/a");
    let second = login_started(2, 1, "/b");
    assert!(
        codec
            .login_states_to_drop([&first], &second, now())
            .is_empty()
    );
}

#[test]
fn long_return_paths_cannot_grow_the_cookie_header_past_the_budget() {
    let codec = codec(SECRET, false);
    let long_path = format!("/{}", "p".repeat(1000));
    let started: Vec<_> = (0..4)
        .map(|i| login_started(i, i as i64, &long_path))
        .collect();
    let new = login_started(99, 10, &long_path);
    let dropped = codec.login_states_to_drop(&started, &new, now());
    let kept_bytes: usize = started
        .iter()
        .chain([&new])
        .filter(|c| !dropped.contains(&c.name().to_owned()))
        .map(|c| cookie_bytes(c))
        .sum();
    assert!(kept_bytes <= MAX_LOGIN_STATE_BYTES, "{kept_bytes}");
    assert!(!dropped.contains(&new.name().to_owned()));
    assert!(dropped.contains(&started[0].name().to_owned()));
}

#[test]
fn forged_expired_and_other_cookies_are_handled_apart() {
    let codec = codec(SECRET, false);
    let forged = Cookie::new(format!("auth_login_{}", "f".repeat(43)), "garbage");
    let expired = login_started(1, -3600, "/");
    let identity = codec.identity_cookie(&alice(), now()).expect("fits");
    let theirs = Cookie::new("session", "the app's own");
    let new = login_started(2, 0, "/");
    let mut dropped =
        codec.login_states_to_drop([&forged, &expired, &identity, &theirs], &new, now());
    dropped.sort();
    assert_eq!(
        dropped,
        vec![expired.name().to_owned(), forged.name().to_owned()]
    );
}
