//! OpenID Connect Back-Channel Logout 1.0: `Provider::verify_logout_token` against the
//! programmable fake provider (see `support/`), which signs whatever header and claims a test
//! writes. The first eight tests are the OpenID back-channel RP conformance plan's cases; the
//! rest cover the other rules of §2.6 and the provider's keys changing.
#[allow(dead_code)]
mod support;

use leptos_login::testing::{LOGOUT_TOKEN_MAX_AGE, LogoutClaims, LogoutTokenError, Provider};
use serde_json::{Value, json};

use support::{
    CLIENT_ID, CLIENT_SECRET, Harness, SUBJECT, TestClock,
    jwt::{Jwt, with, with_payload, without},
    keys::{EC_A, HmacKey, RSA_A, RSA_B, RSA_FORGER},
    now,
    provider::Endpoint,
};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const SID: &str = "08a5019c-17e1-4977-8f42-65a12843ea02";

/// The fake provider and the crate's `Provider` for it (on a clock of its own).
async fn bench() -> (Harness, Provider) {
    let h = Harness::start().await;
    let provider = h.provider(TestClock::default().policy());
    (h, provider)
}

/// A valid logout token's claims (§2.4's example, for our issuer and client).
fn claims(h: &Harness) -> Value {
    json!({
        "iss": h.idp.issuer(),
        "aud": CLIENT_ID,
        "iat": now(),
        "exp": now() + 120,
        "jti": support::random_token(),
        "sub": SUBJECT,
        "sid": SID,
        "events": { EVENT: {} },
    })
}

/// `token` was refused with an error that `expected` accepts; neither the error's text nor
/// the log holds the token or any part of it.
#[track_caller]
fn assert_refused(
    h: &Harness,
    token: &str,
    result: Result<LogoutClaims, LogoutTokenError>,
    expected: impl Fn(&LogoutTokenError) -> bool,
) -> String {
    let error = match result {
        Ok(claims) => panic!("accepted: {claims:?}"),
        Err(error) => error,
    };
    assert!(expected(&error), "refused, but for another reason: {error}");
    let text = error.to_string();
    let log = h.log();
    for part in token.split('.').filter(|part| part.len() >= 8) {
        assert!(!text.contains(part), "the error quotes the token: {text}");
        assert!(!log.contains(part), "the log quotes the token:\n{log}");
    }
    assert!(!text.contains('\n'), "{text:?}");
    text
}

// --- the conformance plan's eight cases --------------------------------------------------

#[tokio::test]
async fn valid_logout_token_is_accepted() {
    let (h, provider) = bench().await;
    let claims = claims(&h);
    let token = Jwt::new(claims.clone()).sign_with_typ(&*RSA_A, Some("logout+jwt"));
    let verified = provider
        .verify_logout_token(&token)
        .await
        .expect("accepted");
    assert_eq!(verified.iss, h.idp.issuer());
    assert_eq!(verified.sub.as_deref(), Some(SUBJECT));
    assert_eq!(verified.sid.as_deref(), Some(SID));
    assert_eq!(verified.jti, claims["jti"].as_str().expect("a jti"));
    assert_eq!(Some(verified.iat), claims["iat"].as_i64());
    assert_eq!(verified.exp, claims["exp"].as_i64());
    assert_eq!(h.idp.hits(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(claims(&h)).unsigned();
    let text = assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Malformed(_)),
    );
    assert!(text.contains("none"), "{text}");
    // Refused before any key is looked at: no refetch.
    assert_eq!(h.idp.hits(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn missing_events_claim_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(without(claims(&h), "events")).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::MissingClaim("events")),
    );
}

#[tokio::test]
async fn nonce_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(with(claims(&h), "nonce", json!("n-0S6_WzA2Mj"))).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Nonce),
    );
}

#[tokio::test]
async fn hs256_signed_with_the_client_secret_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(claims(&h)).sign(&HmacKey(CLIENT_SECRET.to_owned()));
    let text = assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Algorithm(alg) if alg == "HS256"),
    );
    assert!(!text.contains(CLIENT_SECRET));

    // Even from a provider that advertises HS256.
    h.idp.advertise(
        "id_token_signing_alg_values_supported",
        json!(["RS256", "HS256"]),
    );
    let provider = h.provider(TestClock::default().policy());
    let token = Jwt::new(claims(&h)).sign(&HmacKey(CLIENT_SECRET.to_owned()));
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Algorithm(alg) if alg == "HS256"),
    );
}

#[tokio::test]
async fn audience_other_than_our_client_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(with(claims(&h), "aud", json!("another-client"))).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Audience(_)),
    );
}

#[tokio::test]
async fn events_without_the_backchannel_logout_member_is_refused() {
    let (h, provider) = bench().await;
    let events = json!({ "http://schemas.openid.net/event/frontchannel-logout": {} });
    let token = Jwt::new(with(claims(&h), "events", events)).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::NoLogoutEvent),
    );
}

#[tokio::test]
async fn issuer_other_than_the_providers_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(with(claims(&h), "iss", json!("https://attacker.example"))).sign(&*RSA_A);
    let text = assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Issuer(_)),
    );
    assert!(text.contains(h.idp.issuer()), "{text}");
}

// --- the other rules of §2.4 and §2.6 ----------------------------------------------------

#[tokio::test]
async fn sid_alone_or_sub_alone_is_enough() {
    let (h, provider) = bench().await;
    let token = Jwt::new(without(claims(&h), "sub")).sign(&*RSA_A);
    let verified = provider
        .verify_logout_token(&token)
        .await
        .expect("sid only");
    assert_eq!((verified.sub, verified.sid.as_deref()), (None, Some(SID)));

    let token = Jwt::new(without(claims(&h), "sid")).sign(&*RSA_A);
    let verified = provider
        .verify_logout_token(&token)
        .await
        .expect("sub only");
    assert_eq!(
        (verified.sub.as_deref(), verified.sid),
        (Some(SUBJECT), None)
    );
}

#[tokio::test]
async fn neither_sid_nor_sub_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(without(without(claims(&h), "sub"), "sid")).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::NoSubject),
    );
}

#[tokio::test]
async fn missing_jti_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(without(claims(&h), "jti")).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::MissingClaim("jti")),
    );
}

#[tokio::test]
async fn missing_iat_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(without(claims(&h), "iat")).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::MissingClaim("iat")),
    );
}

#[tokio::test]
async fn iat_far_in_the_past_is_refused() {
    let (h, provider) = bench().await;
    let max_age = i64::try_from(LOGOUT_TOKEN_MAX_AGE.as_secs()).expect("fits");
    let old = with(claims(&h), "iat", json!(now() - max_age - 30));
    let token = Jwt::new(old).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::IssuedTooLongAgo(_)),
    );
    let ancient = with(claims(&h), "iat", json!(now() - 24 * 3600));
    let token = Jwt::new(ancient).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::IssuedTooLongAgo(_)),
    );
}

#[tokio::test]
async fn iat_in_the_future_is_refused() {
    let (h, provider) = bench().await;
    let token = Jwt::new(with(claims(&h), "iat", json!(now() + 3600))).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::IssuedInFuture(_)),
    );
}

#[tokio::test]
async fn expired_token_is_refused_and_exp_is_optional() {
    let (h, provider) = bench().await;
    let expired = with(claims(&h), "exp", json!(now() - 600));
    let token = Jwt::new(expired).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Expired),
    );
    let token = Jwt::new(with(claims(&h), "exp", json!("never"))).sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::InvalidClaim { claim: "exp", .. }),
    );

    let token = Jwt::new(without(claims(&h), "exp")).sign(&*RSA_A);
    let verified = provider.verify_logout_token(&token).await.expect("no exp");
    assert_eq!(verified.exp, None);
}

#[tokio::test]
async fn our_audience_beside_another_is_refused_and_alone_in_an_array_accepted() {
    let (h, provider) = bench().await;
    let token = Jwt::new(with(
        claims(&h),
        "aud",
        json!([CLIENT_ID, "another-client"]),
    ))
    .sign(&*RSA_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Audience(_)),
    );
    let token = Jwt::new(with(claims(&h), "aud", json!([CLIENT_ID]))).sign(&*RSA_A);
    provider
        .verify_logout_token(&token)
        .await
        .expect("accepted");
}

#[tokio::test]
async fn events_that_are_not_objects_are_refused() {
    let (h, provider) = bench().await;
    for events in [json!([EVENT]), json!({ EVENT: "yes" }), json!(EVENT)] {
        let token = Jwt::new(with(claims(&h), "events", events)).sign(&*RSA_A);
        assert_refused(
            &h,
            &token,
            provider.verify_logout_token(&token).await,
            |e| {
                matches!(
                    e,
                    LogoutTokenError::InvalidClaim {
                        claim: "events",
                        ..
                    }
                )
            },
        );
    }
}

#[tokio::test]
async fn typ_jwt_and_no_typ_are_accepted_and_another_typ_refused() {
    let (h, provider) = bench().await;
    for typ in [Some("JWT"), None, Some("application/logout+jwt")] {
        let token = Jwt::new(claims(&h)).sign_with_typ(&*RSA_A, typ);
        provider
            .verify_logout_token(&token)
            .await
            .unwrap_or_else(|error| panic!("typ {typ:?} refused: {error}"));
    }
    let token = Jwt::new(claims(&h)).sign_with_typ(&*RSA_A, Some("at+jwt"));
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Type(_)),
    );
}

#[tokio::test]
async fn es256_is_accepted_when_the_provider_advertises_it() {
    let (h, provider) = bench().await;
    h.idp.advertise(
        "id_token_signing_alg_values_supported",
        json!(["RS256", "ES256"]),
    );
    h.idp.set_jwks(vec![RSA_A.jwk(), EC_A.jwk()]);
    let token = Jwt::new(claims(&h)).sign(&*EC_A);
    provider
        .verify_logout_token(&token)
        .await
        .expect("accepted");
}

#[tokio::test]
async fn es256_is_refused_when_the_provider_does_not_advertise_it() {
    let (h, provider) = bench().await;
    h.idp.set_jwks(vec![RSA_A.jwk(), EC_A.jwk()]);
    let token = Jwt::new(claims(&h)).sign(&*EC_A);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Algorithm(alg) if alg == "ES256"),
    );
}

#[tokio::test]
async fn an_id_token_is_not_a_logout_token() {
    let (h, provider) = bench().await;
    let id_token = json!({
        "iss": h.idp.issuer(),
        "sub": SUBJECT,
        "aud": CLIENT_ID,
        "iat": now(),
        "exp": now() + 300,
        "nonce": "n-0S6_WzA2Mj",
    });
    let token = Jwt::new(id_token).sign(&*RSA_A);
    assert!(provider.verify_logout_token(&token).await.is_err());
}

#[tokio::test]
async fn garbage_is_refused_without_being_quoted() {
    let (h, provider) = bench().await;
    for token in ["", "not a jwt", "a.b", "a.b.c.d", "e30.e30.c2ln"] {
        assert_refused(&h, token, provider.verify_logout_token(token).await, |e| {
            matches!(e, LogoutTokenError::Malformed(_))
        });
    }
    // A good header over a payload that is not JSON: the signature is checked first.
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJ9.c2lnbmF0dXJl";
    assert_refused(&h, token, provider.verify_logout_token(token).await, |e| {
        matches!(e, LogoutTokenError::Signature)
    });
}

// --- keys ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_key_the_jwks_does_not_hold_is_refused() {
    let (h, provider) = bench().await;
    // The forger's key claims the provider's key id: the signature does not verify, the JWKS
    // is fetched once more, holds the same keys, and the cool-down starts.
    let token = Jwt::new(claims(&h)).sign(&*RSA_FORGER);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Signature),
    );
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2);

    // A key id the provider never published: no key fits; no refetch in the cool-down.
    let token = Jwt::new(claims(&h))
        .header("kid", json!("never-published"))
        .sign(&*RSA_FORGER);
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::NoMatchingKey),
    );
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2, "{:?}", h.idp.hit_counts());

    // A valid token's signature over other claims.
    let valid = Jwt::new(claims(&h)).sign(&*RSA_A);
    let token = with_payload(&valid, &with(claims(&h), "sid", json!("someone-else")));
    assert_refused(
        &h,
        &token,
        provider.verify_logout_token(&token).await,
        |e| matches!(e, LogoutTokenError::Signature),
    );
}

#[tokio::test]
async fn a_rotated_key_is_followed_after_one_jwks_refetch() {
    let (h, provider) = bench().await;
    let token = Jwt::new(claims(&h)).sign(&*RSA_A);
    provider
        .verify_logout_token(&token)
        .await
        .expect("accepted");
    assert_eq!(h.idp.hits(Endpoint::Jwks), 1);

    // The provider rotates to a new key under a new key id.
    h.idp.set_jwks(vec![RSA_B.jwk()]);
    let token = Jwt::new(claims(&h)).sign(&*RSA_B);
    let verified = provider
        .verify_logout_token(&token)
        .await
        .expect("accepted");
    assert_eq!(verified.sid.as_deref(), Some(SID));
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2);
    assert!(
        h.log()
            .contains("refetched the JWKS after a failed signature check: new keys"),
        "{}",
        h.log()
    );

    // The new key is cached: no more fetching.
    let token = Jwt::new(claims(&h)).sign(&*RSA_B);
    provider
        .verify_logout_token(&token)
        .await
        .expect("accepted");
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2);
}

#[tokio::test]
async fn no_kid_tries_each_key_of_the_set() {
    let (h, provider) = bench().await;
    h.idp.set_jwks(vec![RSA_A.jwk(), RSA_B.jwk()]);
    let token = Jwt::new(claims(&h))
        .header("kid", Value::Null)
        .sign(&*RSA_B);
    provider
        .verify_logout_token(&token)
        .await
        .expect("accepted");
}
