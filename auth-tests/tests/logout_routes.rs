//! Logout through the app's routes against the fake provider: the back-channel logout route
//! ending sessions by `sid` and by `sub` (and refusing everything else), logout at the
//! provider (RP-Initiated Logout) with its `state` checked on return, and the refresh token
//! revoked (RFC 7009).
#[allow(dead_code)]
mod support;

use axum::http::StatusCode;
use leptos_login::testing::StoreConfig;
use serde_json::{Value, json};
use support::{
    CLIENT_ID, Harness, SUBJECT,
    jwt::Jwt,
    keys::{RSA_A, RSA_FORGER},
    now,
    postgres::PostgresServer,
    provider::Endpoint,
    random_token,
    redis::RedisServer,
};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const ROUTE: &str = "/oauth2/backchannel-logout";

/// A SQLite file of its own, removed at the end.
struct Db(std::path::PathBuf);

impl Db {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("leptos-auth-logout-{}.sqlite3", random_token())))
    }

    fn key(&self) -> String {
        format!("session_store = \"sqlite:{}\"\n", self.0.display())
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// Signs in (an ID token with `sid`), returning the identity cookie (`name=value`).
async fn sign_in(h: &Harness, sid: &str) -> String {
    let login = h.login();
    let mut claims = h.claims(&login);
    claims["sid"] = Value::from(sid);
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    let cookie = answer.identity_cookie().expect("signed in").to_owned();
    cookie.split(';').next().unwrap_or_default().to_owned()
}

async fn who(h: &Harness, cookie: &str) -> String {
    h.get("/whoami", Some(cookie)).await.body
}

fn logout_token(h: &Harness, sid: Option<&str>, sub: Option<&str>) -> String {
    let mut claims = json!({
        "iss": h.idp.issuer(),
        "aud": CLIENT_ID,
        "iat": now(),
        "exp": now() + 120,
        "jti": random_token(),
        "events": { EVENT: {} },
    });
    if let Some(sid) = sid {
        claims["sid"] = Value::from(sid);
    }
    if let Some(sub) = sub {
        claims["sub"] = Value::from(sub);
    }
    Jwt::new(claims).sign_with_typ(&*RSA_A, Some("logout+jwt"))
}

async fn post_logout_token(h: &Harness, token: &str) -> StatusCode {
    h.post_form(ROUTE, &format!("logout_token={token}"), None)
        .await
        .status
}

#[tokio::test]
async fn a_logout_token_for_a_sid_ends_that_session_only_and_only_once() {
    let db = Db::new();
    sid_logout_ends_one_session(&db.key()).await;
}

#[tokio::test]
async fn with_redis_a_logout_token_for_a_sid_ends_that_session_only_and_only_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    sid_logout_ends_one_session(&redis_key(&redis)).await;
}

#[tokio::test]
async fn with_postgres_a_logout_token_for_a_sid_ends_that_session_only_and_only_once() {
    let Some(postgres) = PostgresServer::start() else {
        return;
    };
    sid_logout_ends_one_session(&store_key(postgres.config())).await;
}

/// The `session_store` line for `redis`.
fn redis_key(redis: &RedisServer) -> String {
    store_key(redis.config())
}

/// The `session_store` line for a store at a URL.
fn store_key(store: StoreConfig) -> String {
    let (StoreConfig::Redis(url) | StoreConfig::Postgres(url)) = store else {
        unreachable!("a store at a URL")
    };
    format!("session_store = \"{}\"\n", url.expose())
}

async fn sid_logout_ends_one_session(store: &str) {
    let h = Harness::start_with(store).await;
    let laptop = sign_in(&h, "sid-laptop").await;
    let phone = sign_in(&h, "sid-phone").await;
    assert_eq!(who(&h, &laptop).await, SUBJECT);

    let token = logout_token(&h, Some("sid-laptop"), Some(SUBJECT));
    assert_eq!(post_logout_token(&h, &token).await, StatusCode::OK);
    assert_eq!(who(&h, &laptop).await, "nobody");
    assert_eq!(
        who(&h, &phone).await,
        SUBJECT,
        "another provider session stays"
    );
    // The same token again (same jti): refused.
    assert_eq!(post_logout_token(&h, &token).await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_logout_token_with_only_sub_ends_every_session_of_the_account() {
    let db = Db::new();
    let h = Harness::start_with(&db.key()).await;
    let laptop = sign_in(&h, "sid-1").await;
    let phone = sign_in(&h, "sid-2").await;
    let token = logout_token(&h, None, Some(SUBJECT));
    assert_eq!(post_logout_token(&h, &token).await, StatusCode::OK);
    assert_eq!(who(&h, &laptop).await, "nobody");
    assert_eq!(who(&h, &phone).await, "nobody");
}

#[tokio::test]
async fn anything_but_a_valid_logout_token_is_a_400_and_ends_nothing() {
    let db = Db::new();
    let h = Harness::start_with(&db.key()).await;
    let cookie = sign_in(&h, "sid-x").await;
    let forged = Jwt::new(json!({
        "iss": h.idp.issuer(), "aud": CLIENT_ID, "iat": now(), "jti": random_token(),
        "sid": "sid-x", "events": { EVENT: {} },
    }))
    .sign(&*RSA_FORGER);
    let with_nonce = {
        let mut claims = json!({
            "iss": h.idp.issuer(), "aud": CLIENT_ID, "iat": now(), "jti": random_token(),
            "sid": "sid-x", "events": { EVENT: {} }, "nonce": "n",
        });
        claims["nonce"] = Value::from("n");
        Jwt::new(claims).sign(&*RSA_A)
    };
    for body in [
        String::new(),
        "logout_token=".to_owned(),
        "logout_token=not.a.jwt".to_owned(),
        format!("logout_token={forged}"),
        format!("logout_token={with_nonce}"),
    ] {
        let answer = h.post_form(ROUTE, &body, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(who(&h, &cookie).await, SUBJECT);
    assert_eq!(
        h.get(ROUTE, None).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    h.assert_log_keeps_secrets();
}

#[tokio::test]
async fn in_cookie_mode_a_logout_token_cannot_end_anything_and_says_400() {
    let h = Harness::start().await;
    let cookie = sign_in(&h, "sid-c").await;
    let token = logout_token(&h, Some("sid-c"), Some(SUBJECT));
    assert_eq!(post_logout_token(&h, &token).await, StatusCode::BAD_REQUEST);
    assert_eq!(who(&h, &cookie).await, SUBJECT);
}

#[tokio::test]
async fn logout_at_the_provider_sends_the_browser_there_with_a_hint_and_checks_its_return() {
    let db = Db::new();
    logout_at_the_provider(&db.key()).await;
}

#[tokio::test]
async fn with_redis_logout_at_the_provider_sends_the_browser_there_and_revokes() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    logout_at_the_provider(&redis_key(&redis)).await;
}

async fn logout_at_the_provider(store: &str) {
    let h = Harness::start_with(&format!("{store}logout_at_provider = true\n")).await;
    let issuer = h.idp.issuer().to_owned();
    h.idp.advertise(
        "end_session_endpoint",
        json!(format!("{issuer}/end-session")),
    );
    h.idp
        .advertise("revocation_endpoint", json!(format!("{issuer}/revoke")));
    h.idp
        .set_token_members(json!({ "refresh_token": "refresh-to-revoke" }));
    let cookie = sign_in(&h, "sid-rp").await;

    let before = provider_calls(&h);
    let answer = h.post_form("/api/auth/logout", "", Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    // The provider's logout page is found in the cached discovery document: the browser is
    // sent on without the server asking the provider anything first.
    assert_eq!(provider_calls(&h), before);
    let next: String = serde_json::from_str(&answer.body).expect("a URL");
    let next = url::Url::parse(&next).expect("absolute");
    assert!(
        next.as_str().starts_with(&format!("{issuer}/end-session?")),
        "{next}"
    );
    let param = |name: &str| {
        next.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    assert!(param("id_token_hint").is_some_and(|hint| hint.split('.').count() == 3));
    assert_eq!(param("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        param("post_logout_redirect_uri").as_deref(),
        Some("http://127.0.0.1:3000/")
    );
    let state = param("state").expect("a state");
    let logout_cookie = answer
        .set_cookies
        .iter()
        .find(|cookie| cookie.starts_with("auth_logout="))
        .map(|cookie| cookie.split(';').next().unwrap_or_default().to_owned())
        .expect("the logout-state cookie");
    // Signed out here already, and the refresh token revoked (RFC 7009), after the answer.
    assert_eq!(who(&h, &cookie).await, "nobody");
    h.idp.wait_for_hits(Endpoint::Revocation, 1).await;
    let revoked = h.idp.requests(Endpoint::Revocation);
    assert_eq!(revoked.len(), 1, "{}", h.log());
    assert_eq!(
        revoked[0].form("token").as_deref(),
        Some("refresh-to-revoke")
    );

    // Back from the provider with another state: an ordinary visit home.
    let stranger = h.get("/?state=someone-elses", Some(&logout_cookie)).await;
    assert_eq!(stranger.status, StatusCode::OK);
    assert_eq!(stranger.body, "home page");
    // With ours: the address is cleaned up, the cookie goes.
    let back = h
        .get(&format!("/?state={state}"), Some(&logout_cookie))
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(back.location.as_deref(), Some("/"));
    assert!(back.removes("auth_logout"), "{back:?}");
}

#[tokio::test]
async fn without_an_end_session_endpoint_logout_stays_local() {
    let db = Db::new();
    let h = Harness::start_with(&format!("{}logout_at_provider = true\n", db.key())).await;
    let cookie = sign_in(&h, "sid-local").await;
    let answer = h.post_form("/api/auth/logout", "", Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "\"/\"");
    assert_eq!(who(&h, &cookie).await, "nobody");
    assert!(h.log().contains("no end_session_endpoint"), "{}", h.log());
}

/// Requests to the provider other than revocations (which run after the answer).
fn provider_calls(h: &Harness) -> usize {
    h.idp
        .hit_counts()
        .iter()
        .filter(|(endpoint, _)| **endpoint != Endpoint::Revocation)
        .map(|(_, count)| count)
        .sum()
}

/// A sign-in keeping a refresh token, at a provider that revokes them at the address
/// `revocation_endpoint` makes of its issuer.
async fn signed_in_with_a_refresh_token(
    db: &Db,
    revocation_endpoint: impl FnOnce(&str) -> String,
) -> (Harness, String) {
    let h = Harness::start_with(&format!("{}expose_tokens = \"access\"\n", db.key())).await;
    let endpoint = revocation_endpoint(h.idp.issuer());
    h.idp.advertise("revocation_endpoint", json!(endpoint));
    h.idp
        .set_token_members(json!({ "refresh_token": "refresh-to-revoke" }));
    let cookie = sign_in(&h, "sid-revoke").await;
    (h, cookie)
}

/// A provider slow to revoke (far away, or struggling) does not hold up the visitor's page:
/// the logout answers while the revocation is still unanswered, and the revocation then
/// completes all the same.
#[tokio::test]
async fn the_logout_does_not_wait_for_the_revocation() {
    let db = Db::new();
    let (h, cookie) =
        signed_in_with_a_refresh_token(&db, |issuer| format!("{issuer}/revoke")).await;
    h.idp.hold_revocations(true);

    let answer = h.post_form("/api/auth/logout", "", Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.body, "\"/\"");
    assert_eq!(h.idp.revocations_answered(), 0);
    // Waiting on the provider would have run into the client's timeout, and failed.
    assert!(!h.log().contains("could not revoke"), "{}", h.log());
    assert_eq!(who(&h, &cookie).await, "nobody");

    h.idp.hold_revocations(false);
    h.idp.wait_for_hits(Endpoint::Revocation, 1).await;
    for _ in 0..500 {
        if h.log().contains("revoked a refresh token") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(h.log().contains("revoked a refresh token"), "{}", h.log());
    assert_eq!(h.idp.revocations_answered(), 1);
}

/// A revocation that fails is the operator's business: logged (without the token), never
/// shown; the visitor is signed out all the same.
#[tokio::test]
async fn a_failed_revocation_is_logged_not_shown() {
    let db = Db::new();
    // Nothing listens there.
    let (h, cookie) =
        signed_in_with_a_refresh_token(&db, |_| "http://127.0.0.1:9/revoke".to_owned()).await;
    let answer = h.post_form("/api/auth/logout", "", Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.body, "\"/\"");
    assert_eq!(who(&h, &cookie).await, "nobody");
    for _ in 0..500 {
        if h.log().contains("could not revoke") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let log = h.log();
    assert!(log.contains("could not revoke a refresh token"), "{log}");
    assert!(!log.contains("refresh-to-revoke"), "{log}");
    h.assert_log_keeps_secrets();
}

/// A logout after the discovery document's cache time sends the browser on with the cached
/// `end_session_endpoint`, rather than first refetching discovery and keys while the visitor
/// waits (the next sign-in refreshes them).
#[tokio::test]
async fn the_provider_logout_address_comes_from_the_cached_document_even_when_due() {
    let h = Harness::start().await;
    let issuer = h.idp.issuer().to_owned();
    h.idp.advertise(
        "end_session_endpoint",
        json!(format!("{issuer}/end-session")),
    );
    let clock = support::TestClock::default();
    let provider = h.provider(clock.policy());
    provider.authorize().await.expect("discovered");
    clock.advance(std::time::Duration::from_secs(2 * 24 * 3600));

    let before = provider_calls(&h);
    let home = url::Url::parse("http://127.0.0.1:3000/").expect("a URL");
    let url = provider
        .end_session_url(None, &home, "some-state")
        .await
        .expect("the provider's logout page");
    assert!(url.as_str().starts_with(&format!("{issuer}/end-session?")));
    assert_eq!(provider_calls(&h), before, "{:?}", h.idp.hit_counts());
}
