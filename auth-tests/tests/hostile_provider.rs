//! The security checklist's "Hostile identity provider" table, one test per row, against a
//! programmable fake provider (see `support/`). Every login goes through the crate's real
//! callback (`Auth::install`), the real HTTP client and `openidconnect`'s checks.
//!
//! The happy path against the real `oidc-provider` package is Playwright's (end2end/).
mod support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use support::{
    CLIENT_ID, CLIENT_SECRET, Harness, Login, REDIRECT_URI, SUBJECT, TestClock,
    jwt::{Jwt, with, with_payload, without},
    keys::{EC_A, EC_FORGER, HmacKey, RSA_A, RSA_A_ROTATED, RSA_B, RSA_FORGER},
    now,
    provider::Endpoint,
    provider::FakeProvider,
};

/// What the visitor reads when the ID token fails a check.
const SECURITY_CHECKS: &str = "failed our security checks";
/// What the visitor reads when the token endpoint did not give a usable answer.
const NOT_COMPLETED: &str = "did not complete the sign-in";

// --- code flow happy path, RS256 -------------------------------------------------------------

/// `userinfo = "always"`: every sign-in asks userinfo too (the behaviour before "auto").
const ALWAYS: &str = "userinfo = \"always\"\n";

#[tokio::test]
async fn rs256_code_flow_signs_in_with_the_providers_claims() {
    let h = Harness::start_with(ALWAYS).await;
    h.idp.set_userinfo(json!({
        "sub": SUBJECT,
        "locale": "fr-CH",
        "email": "not-the-id-tokens@example.com",
    }));
    let login = h.login();
    let claims = with(h.claims(&login), "groups", json!(["admins", "ops"]));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;

    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.sub(), Some(SUBJECT));
    assert_eq!(user.name(), Some("Alice Example"));
    // The ID token's claims win over userinfo's; userinfo adds what the token lacks.
    assert_eq!(user.email(), Some("alice@example.com"));
    assert_eq!(user.get_str("locale"), Some("fr-CH"));
    assert_eq!(user.get("groups"), Some(&json!(["admins", "ops"])));
    assert_eq!(user.get_str("iss"), Some(h.idp.issuer()));
    assert_eq!(user.get("nonce"), None, "the nonce is not kept");
    assert_eq!(user.provider(), None);

    // The code exchange: the code, our PKCE verifier and redirect URI, HTTP Basic client auth.
    let token_requests = h.idp.requests(Endpoint::Token);
    assert_eq!(token_requests.len(), 1);
    let form: Vec<(String, String)> =
        url::form_urlencoded::parse(token_requests[0].body.as_bytes())
            .into_owned()
            .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(field("grant_type"), Some("authorization_code"));
    assert_eq!(field("code"), Some(login.code.as_str()));
    assert_eq!(field("code_verifier"), Some(login.pkce_verifier.as_str()));
    assert_eq!(field("redirect_uri"), Some(REDIRECT_URI));
    assert_eq!(
        field("client_secret"),
        None,
        "the secret goes in the header"
    );
    let basic = token_requests[0]
        .authorization
        .as_deref()
        .and_then(|value| value.strip_prefix("Basic "))
        .expect("HTTP Basic client authentication");
    let decoded = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, basic).expect("base64"),
    )
    .expect("UTF-8");
    assert_eq!(decoded, format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    assert_eq!(h.idp.hits(Endpoint::Discovery), 1);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 1);
    assert_eq!(h.idp.hits(Endpoint::Userinfo), 1);
}

// --- ES256 -----------------------------------------------------------------------------------

#[tokio::test]
async fn es256_id_token_is_accepted_when_the_provider_advertises_it() {
    let h = Harness::start().await;
    h.idp.advertise(
        "id_token_signing_alg_values_supported",
        json!(["RS256", "ES256"]),
    );
    h.idp.set_jwks(vec![RSA_A.jwk(), EC_A.jwk()]);
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*EC_A))
        .await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.sub(), Some(SUBJECT));
}

#[tokio::test]
async fn es256_id_token_is_refused_when_the_provider_does_not_advertise_it() {
    let h = Harness::start().await;
    h.idp.set_jwks(vec![RSA_A.jwk(), EC_A.jwk()]);
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*EC_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "algorithm `ES256` is not one of: RS256",
    );
}

// --- max_age: a fresh sign-in, when a login asks for one (OpenID Connect Core 3.1.2.1) --------

#[tokio::test]
async fn after_max_age_the_id_token_must_say_the_visitor_signed_in_recently() {
    let h = Harness::start().await;
    let with_auth_time = |login: &Login, auth_time: Option<i64>| {
        let mut claims = h.claims(login);
        if let Some(auth_time) = auth_time {
            claims["auth_time"] = json!(auth_time);
        }
        Jwt::new(claims).sign(&*RSA_A)
    };
    // The control: signed in just now, within the five minutes asked.
    let login = h.login_asking(Some(300));
    let answer = h
        .return_with(&login, with_auth_time(&login, Some(now() - 10)))
        .await;
    h.assert_signed_in(&answer, &login);

    for (auth_time, expected) in [
        (None, "no auth_time, though the login asked for max_age"),
        (Some(now() - 3600), "longer than the max_age of 300 s"),
    ] {
        let login = h.login_asking(Some(300));
        let answer = h
            .return_with(&login, with_auth_time(&login, auth_time))
            .await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_REQUEST,
            SECURITY_CHECKS,
            expected,
        );
    }

    // A login that asked nothing takes a token without auth_time, as before.
    let login = h.login();
    let answer = h.return_with(&login, with_auth_time(&login, None)).await;
    h.assert_signed_in(&answer, &login);
}

// --- acr_values: a login that asked for a class of sign-in takes no other (step-up) ----------

#[tokio::test]
async fn after_acr_values_the_id_token_must_name_a_class_asked_for() {
    let h = Harness::start().await;
    let with_acr = |login: &Login, acr: Option<&str>| {
        let mut claims = h.claims(login);
        if let Some(acr) = acr {
            claims["acr"] = json!(acr);
        }
        Jwt::new(claims).sign(&*RSA_A)
    };
    // The control: the provider signed the visitor in with one of the classes asked.
    let login = h.login_asking_acr("urn:mfa urn:phrh");
    let answer = h
        .return_with(&login, with_acr(&login, Some("urn:phrh")))
        .await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.acr(), Some("urn:phrh"));

    // A provider that answers with a weaker class, or says nothing of it, signs no one in.
    for (acr, expected) in [
        (Some("urn:pwd"), "acr) is \"urn:pwd\", not one of"),
        (None, "acr) is not given, not one of"),
        (Some("urn:mfa urn:phrh"), "acr) is \"urn:mfa urn:phrh\""),
    ] {
        let login = h.login_asking_acr("urn:mfa urn:phrh");
        let answer = h.return_with(&login, with_acr(&login, acr)).await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_REQUEST,
            SECURITY_CHECKS,
            expected,
        );
    }

    // A login that asked nothing takes whatever class the provider names, as before.
    let login = h.login();
    let answer = h
        .return_with(&login, with_acr(&login, Some("urn:pwd")))
        .await;
    h.assert_signed_in(&answer, &login);
}

// --- who sent the browser back (RFC 9207, against mix-up) -------------------------------------

/// What the visitor reads when the callback itself is not one this login can accept.
const NOT_VALID: &str = "not a valid sign-in response";

#[tokio::test]
async fn a_callback_naming_this_logins_provider_signs_in() {
    let h = Harness::start().await;
    h.idp.advertise(
        "authorization_response_iss_parameter_supported",
        json!(true),
    );
    let login = h.login();
    h.idp.set_id_token(Jwt::new(h.claims(&login)).sign(&*RSA_A));
    let answer = h.callback_from(&login, h.idp.issuer()).await;
    h.assert_signed_in(&answer, &login);
}

#[tokio::test]
async fn a_callback_without_iss_is_refused_where_the_provider_always_sends_it() {
    let h = Harness::start().await;
    h.idp.advertise(
        "authorization_response_iss_parameter_supported",
        json!(true),
    );
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        NOT_VALID,
        "names no issuer (iss)",
    );
    assert_eq!(h.idp.hits(Endpoint::Token), 0, "the code went nowhere");
}

#[tokio::test]
async fn a_callback_without_iss_signs_in_where_the_provider_does_not_promise_it() {
    // The other defence holds there: the code goes only to this login's provider, whose ID
    // token must name it as issuer.
    let h = Harness::start().await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);
}

#[tokio::test]
async fn a_login_begun_at_one_provider_refuses_a_callback_from_another() {
    // Two providers configured at once: the set-up the mix-up attack needs. The login began
    // at the default one; the browser comes back with the other's `iss` and its code.
    let other = FakeProvider::start().await;
    other.advertise(
        "authorization_response_iss_parameter_supported",
        json!(true),
    );
    let h = Harness::start_with(&format!(
        "[auth.other]\nserver_metadata_url = \"{}\"",
        other.discovery_url()
    ))
    .await;
    let login = h.login();
    let answer = h.callback_from(&login, other.issuer()).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        NOT_VALID,
        "not the provider this login went to",
    );
    assert_eq!(h.idp.hits(Endpoint::Token), 0, "the code went nowhere");
    assert_eq!(other.hits(Endpoint::Token), 0, "the code went nowhere");
}

// --- multi-tenant issuers (Entra's `common`: the issuer `…/{tenantid}/v2.0`) --------------------

/// Two tenants the app lets in, and one it does not.
const TENANT_A: &str = "6f1a2b3c-0000-4000-8000-00000000000a";
const TENANT_B: &str = "6f1a2b3c-0000-4000-8000-00000000000b";
const TENANT_C: &str = "6f1a2b3c-0000-4000-8000-00000000000c";

/// `tenants`: the allow-list of the tests below.
fn listed_tenants() -> String {
    format!("tenants = [\"{TENANT_A}\", \"{TENANT_B}\"]\n")
}

/// `login`'s claims as tenant `tid`'s user: `iss` the template's with `iss_tenant`.
fn tenant_claims(h: &Harness, login: &Login, iss_tenant: &str, tid: Option<&str>) -> Value {
    let claims = with(
        h.claims(login),
        "iss",
        json!(h.idp.tenant_issuer(iss_tenant)),
    );
    match tid {
        Some(tid) => with(claims, "tid", json!(tid)),
        None => claims,
    }
}

#[tokio::test]
async fn a_listed_tenants_user_signs_in_with_the_claims_of_their_tenant() {
    let h = Harness::start_multi_tenant(&listed_tenants()).await;
    let login = h.login();
    let claims = tenant_claims(&h, &login, TENANT_B, Some(TENANT_B));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.sub(), Some(SUBJECT));
    assert_eq!(user.name(), Some("Alice Example"));
    assert_eq!(user.get_str("tid"), Some(TENANT_B));
    assert_eq!(
        user.get_str("iss"),
        Some(h.idp.tenant_issuer(TENANT_B).as_str())
    );
}

#[tokio::test]
async fn with_tenants_any_every_tenant_signs_in() {
    let h = Harness::start_multi_tenant("tenants = \"any\"\n").await;
    let login = h.login();
    let claims = tenant_claims(&h, &login, TENANT_C, Some(TENANT_C));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_signed_in(&answer, &login);
}

#[tokio::test]
async fn a_token_of_a_tenant_not_listed_is_refused() {
    let h = Harness::start_multi_tenant(&listed_tenants()).await;
    let login = h.login();
    let claims = tenant_claims(&h, &login, TENANT_C, Some(TENANT_C));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        &format!("tenant {TENANT_C} is not among the provider's tenants"),
    );
}

#[tokio::test]
async fn a_token_whose_iss_and_tid_disagree_is_refused() {
    let h = Harness::start_multi_tenant("tenants = \"any\"\n").await;
    let template = format!("{}/{{tenantid}}/v2.0", h.idp.issuer());
    for (iss, tid) in [
        // Another (even listed) tenant's issuer, or the other way round.
        (h.idp.tenant_issuer(TENANT_A), TENANT_B),
        (h.idp.tenant_issuer(TENANT_B), TENANT_A),
        // The template itself, the configured `common` issuer, a look-alike.
        (template, TENANT_A),
        (format!("{}/common/v2.0", h.idp.issuer()), TENANT_A),
        (format!("{}/", h.idp.tenant_issuer(TENANT_A)), TENANT_A),
        (h.idp.tenant_issuer(&TENANT_A.to_uppercase()), TENANT_A),
    ] {
        let login = h.login();
        let claims = with(with(h.claims(&login), "iss", json!(iss)), "tid", json!(tid));
        let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_REQUEST,
            SECURITY_CHECKS,
            &format!("its iss is not the issuer of its own tenant (tid {tid})"),
        );
    }
}

#[tokio::test]
async fn a_token_without_a_plain_tid_is_refused() {
    let h = Harness::start_multi_tenant("tenants = \"any\"\n").await;
    for (tid, reason) in [
        (None, "no tid claim"),
        (Some(json!("")), "not a tenant id"),
        (Some(json!(format!("{TENANT_A}/v2.0/x"))), "not a tenant id"),
        (Some(json!([TENANT_A])), "not a tenant id"),
    ] {
        let login = h.login();
        let mut claims = tenant_claims(&h, &login, TENANT_A, None);
        if let Some(tid) = tid {
            claims = with(claims, "tid", tid);
        }
        let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_REQUEST,
            SECURITY_CHECKS,
            reason,
        );
    }
}

#[tokio::test]
async fn a_multi_tenant_token_still_passes_every_other_check() {
    let h = Harness::start_multi_tenant("tenants = \"any\"\n").await;
    type Spoil = fn(Value) -> Value;
    let cases: [(Spoil, &str); 3] = [
        (
            |claims| with(claims, "aud", json!("someone-else")),
            "Invalid audiences",
        ),
        (
            |claims| with(claims, "nonce", json!("another")),
            "nonce mismatch",
        ),
        (
            |claims| with(claims, "exp", json!(now() - 600)),
            "ID token expired",
        ),
    ];
    for (spoil, reason) in cases {
        let login = h.login();
        let claims = spoil(tenant_claims(&h, &login, TENANT_A, Some(TENANT_A)));
        let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_REQUEST,
            SECURITY_CHECKS,
            reason,
        );
    }
    // Signed by a key not the provider's.
    let login = h.login();
    let claims = tenant_claims(&h, &login, TENANT_A, Some(TENANT_A));
    let answer = h
        .return_with(&login, Jwt::new(claims).sign(&*RSA_FORGER))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Signature verification failed",
    );
}

#[tokio::test]
async fn without_tenants_a_templated_issuer_is_refused_and_the_log_says_what_to_set() {
    let h = Harness::start_multi_tenant("").await;
    let login = h.login();
    let claims = tenant_claims(&h, &login, TENANT_A, Some(TENANT_A));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        "does not match this site",
        "set tenants",
    );
    assert_eq!(h.idp.hits(Endpoint::Token), 0);
}

#[tokio::test]
async fn tenants_on_a_provider_whose_issuer_is_no_template_is_refused() {
    let h = Harness::start_multi_tenant("tenants = \"any\"\n").await;
    h.idp
        .advertise("issuer", json!(format!("{}/common/v2.0", h.idp.issuer())));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        "does not match this site",
        "is not a template with {tenantid}",
    );
}

#[tokio::test]
async fn a_template_on_another_host_is_refused() {
    let h = Harness::start_multi_tenant("tenants = \"any\"\n").await;
    h.idp
        .advertise("issuer", json!("https://impostor.example/{tenantid}/v2.0"));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        "does not match this site",
        "unexpected issuer URI `https://impostor.example/{tenantid}/v2.0`",
    );
}

#[tokio::test]
async fn a_multi_tenant_callback_must_name_a_listed_tenant_and_the_tokens_own() {
    let h = Harness::start_multi_tenant(&listed_tenants()).await;
    h.idp.advertise(
        "authorization_response_iss_parameter_supported",
        json!(true),
    );
    // The control: the redirect and the token name tenant A.
    let login = h.login();
    h.idp
        .set_id_token(Jwt::new(tenant_claims(&h, &login, TENANT_A, Some(TENANT_A))).sign(&*RSA_A));
    let answer = h
        .callback_from(&login, &h.idp.tenant_issuer(TENANT_A))
        .await;
    h.assert_signed_in(&answer, &login);

    // A tenant not listed, the template itself, the configured `common`: refused before the
    // code is used.
    let exchanged = h.idp.hits(Endpoint::Token);
    for iss in [
        h.idp.tenant_issuer(TENANT_C),
        format!("{}/{{tenantid}}/v2.0", h.idp.issuer()),
        format!("{}/common/v2.0", h.idp.issuer()),
        "https://impostor.example/6f1a2b3c-0000-4000-8000-00000000000a/v2.0".to_owned(),
    ] {
        let login = h.login();
        let answer = h.callback_from(&login, &iss).await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_REQUEST,
            NOT_VALID,
            "not the provider this login went to",
        );
    }
    assert_eq!(
        h.idp.hits(Endpoint::Token),
        exchanged,
        "the codes went nowhere"
    );

    // The redirect names tenant A, the token (valid for tenant B) another: refused.
    let login = h.login();
    h.idp
        .set_id_token(Jwt::new(tenant_claims(&h, &login, TENANT_B, Some(TENANT_B))).sign(&*RSA_A));
    let answer = h
        .callback_from(&login, &h.idp.tenant_issuer(TENANT_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "not the one the redirect named",
    );
}

// --- claims ----------------------------------------------------------------------------------

#[tokio::test]
async fn issuer_other_than_the_discovered_one_is_refused() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = with(h.claims(&login), "iss", json!("http://127.0.0.1:1/evil"));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Invalid issuer",
    );
}

#[tokio::test]
async fn missing_subject_is_refused() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = without(h.claims(&login), "sub");
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    // `openidconnect` cannot even parse an ID token without `sub`: the token response is unusable.
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        NOT_COMPLETED,
        "missing field `sub`",
    );
}

/// An empty `sub` parses, but names no account: every such sign-in would share one, and one's
/// "log out everywhere" would end them all.
#[tokio::test]
async fn an_empty_subject_is_refused() {
    let h = Harness::start().await;
    for subject in ["", "  "] {
        // The provider's userinfo agrees (as one without userinfo would not contradict it).
        h.idp.set_userinfo(json!({ "sub": subject }));
        let login = h.login();
        let claims = with(h.claims(&login), "sub", json!(subject));
        let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_GATEWAY,
            "did not say which account this is",
            "names no account",
        );
    }
}

#[tokio::test]
async fn audience_not_our_client_is_refused() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = with(h.claims(&login), "aud", json!("some-other-client"));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Invalid audiences",
    );
}

#[tokio::test]
async fn our_audience_plus_an_untrusted_one_without_azp_is_refused() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = with(
        h.claims(&login),
        "aud",
        json!([CLIENT_ID, "https://untrusted.example"]),
    );
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "is not a trusted audience",
    );
}

#[tokio::test]
async fn audience_array_holding_our_client_is_accepted() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = with(h.claims(&login), "aud", json!([CLIENT_ID]));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.get("aud"), Some(&json!([CLIENT_ID])));
}

#[tokio::test]
async fn missing_issue_time_is_refused() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = without(h.claims(&login), "iat");
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        NOT_COMPLETED,
        "missing field `iat`",
    );
}

#[tokio::test]
async fn missing_expiry_is_refused() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = without(h.claims(&login), "exp");
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        NOT_COMPLETED,
        "missing field `exp`",
    );
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = with(h.claims(&login), "exp", json!(support::now() - 60));
    let claims = with(claims, "iat", json!(support::now() - 600));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "ID token expired",
    );
}

// --- signatures and algorithms ---------------------------------------------------------------

#[tokio::test]
async fn invalid_rs256_signature_is_refused() {
    let h = Harness::start().await;
    // A genuine token whose payload was changed afterwards.
    let login = h.login();
    let genuine = Jwt::new(h.claims(&login)).sign(&*RSA_A);
    let forged = with_payload(&genuine, &with(h.claims(&login), "sub", json!("mallory")));
    let answer = h.return_with(&login, forged).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Signature verification failed: Crypto error",
    );

    // A token signed by a key the provider never published, naming the provider's key id.
    let h = Harness::start().await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_FORGER))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Signature verification failed: Crypto error",
    );
}

#[tokio::test]
async fn invalid_es256_signature_is_refused() {
    let h = Harness::start().await;
    h.idp
        .advertise("id_token_signing_alg_values_supported", json!(["ES256"]));
    h.idp.set_jwks(vec![EC_A.jwk()]);
    let login = h.login();
    let genuine = Jwt::new(h.claims(&login)).sign(&*EC_A);
    let forged = with_payload(&genuine, &with(h.claims(&login), "sub", json!("mallory")));
    let answer = h.return_with(&login, forged).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Signature verification failed: Crypto error",
    );

    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*EC_FORGER))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Signature verification failed: Crypto error",
    );
}

#[tokio::test]
async fn alg_none_is_refused() {
    // A documented deviation from the sig-none conformance test: never accept unsigned tokens.
    let h = Harness::start().await;
    h.idp.advertise(
        "id_token_signing_alg_values_supported",
        json!(["RS256", "none"]),
    );
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).unsigned())
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "No signature found",
    );
}

#[tokio::test]
async fn hs256_signed_with_the_client_secret_is_refused() {
    // Even when the provider advertises HS256: the client secret is not the provider's key.
    let h = Harness::start().await;
    h.idp.advertise(
        "id_token_signing_alg_values_supported",
        json!(["RS256", "HS256"]),
    );
    let login = h.login();
    let token = Jwt::new(h.claims(&login)).sign(&HmacKey(CLIENT_SECRET.to_owned()));
    let answer = h.return_with(&login, token).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Disallowed signature algorithm: algorithm `HS256`",
    );
}

// --- key ids and the JWKS --------------------------------------------------------------------

#[tokio::test]
async fn no_kid_with_a_single_key_is_accepted() {
    let h = Harness::start().await;
    let login = h.login();
    let token = Jwt::new(h.claims(&login))
        .header("kid", Value::Null)
        .sign(&*RSA_A);
    let answer = h.return_with(&login, token).await;
    h.assert_signed_in(&answer, &login);

    // Nor does the key need one.
    let h = Harness::start().await;
    h.idp.set_jwks(vec![without(RSA_A.jwk(), "kid")]);
    let login = h.login();
    let token = Jwt::new(h.claims(&login))
        .header("kid", Value::Null)
        .sign(&*RSA_A);
    let answer = h.return_with(&login, token).await;
    h.assert_signed_in(&answer, &login);
}

#[tokio::test]
async fn no_kid_with_several_keys_tries_each_key() {
    // Conformance rp-id_token-kid-absent-multiple-jwks. `openidconnect` calls this ambiguous;
    // each key is then tried on its own.
    let h = Harness::start().await;
    h.idp.set_jwks(vec![RSA_A.jwk(), RSA_B.jwk()]);
    let login = h.login();
    let token = Jwt::new(h.claims(&login))
        .header("kid", Value::Null)
        .sign(&*RSA_B);
    let answer = h.return_with(&login, token).await;
    h.assert_signed_in(&answer, &login);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 1, "the keys at hand sufficed");

    // A token no key of the set verifies: refused, after one look for new keys.
    let login = h.login();
    let token = Jwt::new(h.claims(&login))
        .header("kid", Value::Null)
        .sign(&*RSA_FORGER);
    let answer = h.return_with(&login, token).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "no key of the provider's set verifies the signature",
    );
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2, "{:?}", h.idp.hit_counts());

    // A claim check failing with the right key is that failure, not "no key".
    let login = h.login();
    let claims = with(h.claims(&login), "aud", json!("some-other-client"));
    let token = Jwt::new(claims).header("kid", Value::Null).sign(&*RSA_A);
    let answer = h.return_with(&login, token).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Invalid audiences",
    );
}

// --- key rotation: issue #8, "never locked out" ----------------------------------------------

#[tokio::test]
async fn a_new_key_under_the_same_kid_is_fetched_at_the_next_login() {
    // Conformance rp-key-rotation-op-sign-key: the provider restarted with a fresh key and
    // the same key id.
    let h = Harness::start().await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);

    h.idp.set_jwks(vec![RSA_A_ROTATED.jwk()]);
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A_ROTATED))
        .await;
    h.assert_signed_in(&answer, &login);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2);
    assert!(
        h.log()
            .contains("refetched the JWKS after a failed signature check: new keys")
    );

    // The old key is gone with the new set.
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "Crypto error",
    );
    // That looked once more (the refetch before found new keys, so no cool-down yet), found
    // the same keys, and starts the cool-down: forgeries now cost the provider nothing.
    assert_eq!(h.idp.hits(Endpoint::Jwks), 3);
    for _ in 0..3 {
        let login = h.login();
        let answer = h
            .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_FORGER))
            .await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_REQUEST,
            SECURITY_CHECKS,
            "Crypto error",
        );
    }
    assert_eq!(h.idp.hits(Endpoint::Jwks), 3, "{:?}", h.idp.hit_counts());
}

#[tokio::test]
async fn a_provider_restarting_twice_with_new_keys_is_followed_both_times() {
    let h = Harness::start().await;
    for key in [&*RSA_A, &*RSA_A_ROTATED, &*RSA_A] {
        h.idp.set_jwks(vec![key.jwk()]);
        let login = h.login();
        let answer = h
            .return_with(&login, Jwt::new(h.claims(&login)).sign(key))
            .await;
        h.assert_signed_in(&answer, &login);
    }
    assert_eq!(h.idp.hits(Endpoint::Jwks), 3);
}

#[tokio::test]
async fn a_new_key_without_kid_is_fetched_at_the_next_login() {
    // Conformance rp-id_token-kid-absent-single-jwks, across a restart with a new key.
    let h = Harness::start().await;
    h.idp.set_jwks(vec![without(RSA_A.jwk(), "kid")]);
    let login = h.login();
    let token = Jwt::new(h.claims(&login))
        .header("kid", Value::Null)
        .sign(&*RSA_A);
    h.assert_signed_in(&h.return_with(&login, token).await, &login);

    h.idp.set_jwks(vec![without(RSA_A_ROTATED.jwk(), "kid")]);
    let login = h.login();
    let token = Jwt::new(h.claims(&login))
        .header("kid", Value::Null)
        .sign(&*RSA_A_ROTATED);
    h.assert_signed_in(&h.return_with(&login, token).await, &login);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2);

    // Several keys, none with a kid, the token's among them after the restart.
    h.idp.set_jwks(vec![
        without(RSA_B.jwk(), "kid"),
        without(RSA_A.jwk(), "kid"),
    ]);
    let login = h.login();
    let token = Jwt::new(h.claims(&login))
        .header("kid", Value::Null)
        .sign(&*RSA_A);
    h.assert_signed_in(&h.return_with(&login, token).await, &login);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 3);
}

#[tokio::test]
async fn concurrent_logins_after_a_rotation_share_one_refetch() {
    let h = Harness::start().await;
    let provider = h.provider(TestClock::default().policy());
    let login = h.login();
    let token = Jwt::new(h.claims(&login)).sign(&*RSA_A);
    h.complete(&provider, &login, token)
        .await
        .expect("signed in");

    h.idp.set_jwks(vec![RSA_A_ROTATED.jwk()]);
    let login = h.login();
    let token = Jwt::new(h.claims(&login)).sign(&*RSA_A_ROTATED);
    h.idp.set_id_token(token);
    let completion = || leptos_login::testing::Completion {
        code: login.code.clone(),
        pkce_verifier: login.pkce_verifier.clone(),
        nonce: &login.nonce,
        max_age: None,
    };
    let (first, second, third) = tokio::join!(
        provider.complete(completion()),
        provider.complete(completion()),
        provider.complete(completion()),
    );
    for answer in [first, second, third] {
        assert_eq!(answer.expect("signed in").get("sub"), Some(&json!(SUBJECT)));
    }
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2, "{:?}", h.idp.hit_counts());
}

#[tokio::test]
async fn a_rotation_just_after_a_forgery_is_picked_up_when_the_cooldown_ends() {
    let h = Harness::start().await;
    let clock = TestClock::default();
    let provider = h.provider(clock.policy());
    let login = h.login();
    let token = Jwt::new(h.claims(&login)).sign(&*RSA_A);
    h.complete(&provider, &login, token)
        .await
        .expect("signed in");

    // A forged token: one refetch finds the same keys and starts the cool-down.
    let login = h.login();
    let token = Jwt::new(h.claims(&login)).sign(&*RSA_FORGER);
    let refused = h.complete(&provider, &login, token).await;
    assert!(
        matches!(refused, Err(leptos_login::testing::OidcError::IdToken(_))),
        "{refused:?}"
    );
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2);

    // Ten seconds later the provider restarts with a new key under the same kid: logins
    // inside the cool-down fail (the price of not letting forgers drive our fetches)...
    clock.advance(Duration::from_secs(10));
    h.idp.set_jwks(vec![RSA_A_ROTATED.jwk()]);
    let login = h.login();
    let token = Jwt::new(h.claims(&login)).sign(&*RSA_A_ROTATED);
    let refused = h.complete(&provider, &login, token.clone()).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2);

    // ... and the first one after it succeeds.
    clock.advance(leptos_login::testing::JWKS_REFETCH_COOLDOWN - Duration::from_secs(10));
    let claims = h
        .complete(&provider, &login, token)
        .await
        .expect("signed in");
    assert_eq!(claims.get("sub"), Some(&json!(SUBJECT)));
    assert_eq!(h.idp.hits(Endpoint::Jwks), 3);
}

// --- scheduled refresh -----------------------------------------------------------------------

#[tokio::test]
async fn discovery_and_keys_are_refreshed_when_their_max_age_runs_out() {
    let h = Harness::start().await;
    h.idp
        .set_cache_control(Endpoint::Discovery, Some("public, max-age=1200"));
    h.idp.set_cache_control(Endpoint::Jwks, Some("max-age=600"));
    let clock = TestClock::default();
    let provider = h.provider(clock.policy());
    let sign_in = |key: &'static support::keys::RsaKey| {
        let login = h.login();
        let token = Jwt::new(h.claims(&login)).sign(key);
        let h = &h;
        let provider = &provider;
        async move { h.complete(provider, &login, token).await }
    };
    sign_in(&RSA_A).await.expect("signed in");
    let counts = || (h.idp.hits(Endpoint::Discovery), h.idp.hits(Endpoint::Jwks));
    assert_eq!(counts(), (1, 1));

    // The provider restarts with a new key under the same kid; no login fails to notice.
    h.idp.set_jwks(vec![RSA_A_ROTATED.jwk()]);
    clock.advance(Duration::from_secs(599));
    sign_in(&RSA_A)
        .await
        .expect("the cached keys are still fresh");
    assert_eq!(counts(), (1, 1));

    clock.advance(Duration::from_secs(2));
    sign_in(&RSA_A_ROTATED)
        .await
        .expect("the JWKS was refreshed before the check");
    assert_eq!(counts(), (1, 2), "the JWKS alone");
    assert!(!h.log().contains("failed signature check"), "{}", h.log());

    // The discovery document's turn (and the JWKS with it): a new endpoint is used at once.
    h.idp.advertise(
        "token_endpoint",
        json!(format!("{}/token?moved=1", h.idp.issuer())),
    );
    clock.advance(Duration::from_secs(600));
    sign_in(&RSA_A_ROTATED).await.expect("signed in");
    assert_eq!(counts(), (2, 3));
    let token_calls = h.idp.requests(Endpoint::Token);
    assert_eq!(
        token_calls.last().map(|hit| hit.uri.as_str()),
        Some("/token?moved=1")
    );
}

#[tokio::test]
async fn max_age_is_held_between_five_minutes_and_a_day_and_defaults_to_an_hour() {
    let cases = [
        // (Cache-Control, the last moment still fresh, in seconds)
        (Some("max-age=10"), 5 * 60),
        (Some("no-store"), 5 * 60),
        (Some("max-age=31536000, immutable"), 24 * 60 * 60),
        (Some("max-age=bogus"), 60 * 60),
        (None, 60 * 60),
    ];
    for (cache_control, fresh_for) in cases {
        let h = Harness::start().await;
        h.idp.set_cache_control(Endpoint::Discovery, cache_control);
        h.idp.set_cache_control(Endpoint::Jwks, cache_control);
        let clock = TestClock::default();
        let provider = h.provider(clock.policy());
        let login = h.login();
        let token = Jwt::new(h.claims(&login)).sign(&*RSA_A);
        h.complete(&provider, &login, token.clone())
            .await
            .expect("signed in");

        clock.advance(Duration::from_secs(fresh_for - 1));
        h.complete(&provider, &login, token.clone())
            .await
            .expect("signed in");
        assert_eq!(h.idp.hits(Endpoint::Discovery), 1, "{cache_control:?}");

        clock.advance(Duration::from_secs(2));
        h.complete(&provider, &login, token)
            .await
            .expect("signed in");
        assert_eq!(h.idp.hits(Endpoint::Discovery), 2, "{cache_control:?}");
        assert_eq!(h.idp.hits(Endpoint::Jwks), 2, "{cache_control:?}");
    }
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_cached_keys_and_says_so_once() {
    let h = Harness::start().await;
    let clock = TestClock::default();
    let provider = h.provider(clock.policy());
    let login = h.login();
    let token = Jwt::new(h.claims(&login)).sign(&*RSA_A);
    h.complete(&provider, &login, token.clone())
        .await
        .expect("signed in");

    // Discovery is due, and the provider is down: logins go on with what we have.
    h.idp.fail_discovery(Some(StatusCode::SERVICE_UNAVAILABLE));
    clock.advance(leptos_login::testing::DEFAULT_MAX_AGE);
    for _ in 0..3 {
        h.complete(&provider, &login, token.clone())
            .await
            .expect("the cached copy serves");
    }
    assert_eq!(
        h.idp.hits(Endpoint::Discovery),
        2,
        "one try per cool-down, not one a login"
    );
    clock.advance(leptos_login::testing::JWKS_REFETCH_COOLDOWN);
    h.complete(&provider, &login, token.clone())
        .await
        .expect("the cached copy serves");
    assert_eq!(h.idp.hits(Endpoint::Discovery), 3);
    let warnings = |log: &str| {
        log.lines()
            .filter(|line| line.contains("cannot refresh the provider's keys and metadata"))
            .count()
    };
    assert_eq!(warnings(&h.log()), 1, "{}", h.log());

    // Back up: refreshed at the next try, and the log says so.
    h.idp.fail_discovery(None);
    clock.advance(leptos_login::testing::JWKS_REFETCH_COOLDOWN);
    h.complete(&provider, &login, token)
        .await
        .expect("signed in");
    assert_eq!(h.idp.hits(Endpoint::Discovery), 4);
    assert!(
        h.log()
            .contains("refreshed the provider's keys and metadata again")
    );
    assert_eq!(warnings(&h.log()), 1);
}

#[tokio::test]
async fn a_failed_jwks_refetch_also_waits_for_the_cooldown() {
    let h = Harness::start().await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 1);

    // The JWKS endpoint is down when an unknown kid arrives: one attempt, then none while
    // the cool-down lasts, however many forged kids follow.
    h.idp.fail_jwks(Some(StatusCode::SERVICE_UNAVAILABLE));
    for kid in ["unknown-1", "unknown-2", "unknown-3"] {
        let login = h.login();
        let token = Jwt::new(h.claims(&login))
            .header("kid", json!(kid))
            .sign(&*RSA_FORGER);
        let answer = h.return_with(&login, token).await;
        assert!(answer.status.is_client_error() || answer.status.is_server_error());
        assert!(
            !answer
                .set_cookies
                .iter()
                .any(|c| c.starts_with("auth_user=")),
            "{answer:?}"
        );
    }
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2, "{:?}", h.idp.hit_counts());
}

#[tokio::test]
async fn rotated_keys_are_fetched_once_and_unknown_kids_then_wait_for_the_cooldown() {
    let h = Harness::start().await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 1);

    // The provider rotates to a new key: the first token with its kid refetches the JWKS.
    h.idp.set_jwks(vec![RSA_B.jwk()]);
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_B))
        .await;
    h.assert_signed_in(&answer, &login);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 2);

    // More unknown kids (a forger's storm): each refused. The first looks once more (the
    // refetch before found new keys, so it started no cool-down), finds nothing new, and
    // the cool-down starts: the JWKS is not fetched again.
    for kid in ["never-published", "rsa-c", "rsa-d"] {
        let login = h.login();
        let token = Jwt::new(h.claims(&login))
            .header("kid", json!(kid))
            .sign(&*RSA_FORGER);
        let answer = h.return_with(&login, token).await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_REQUEST,
            SECURITY_CHECKS,
            "No matching key found",
        );
    }
    assert_eq!(h.idp.hits(Endpoint::Jwks), 3, "{:?}", h.idp.hit_counts());

    // Keys the cached set holds still work.
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_B))
        .await;
    h.assert_signed_in(&answer, &login);
    assert_eq!(h.idp.hits(Endpoint::Jwks), 3);
}

#[tokio::test]
async fn unparseable_keys_beside_a_good_one_are_ignored() {
    let h = Harness::start().await;
    h.idp.set_jwks(vec![
        json!({"kty": "RSA", "kid": "broken-base64", "n": "%%% not base64 %%%", "e": "AQAB"}),
        json!({"kty": "RSA", "kid": 42, "n": [], "e": null}),
        json!({"kty": "EC", "kid": "broken-curve", "crv": "P-999", "x": "AAAA", "y": "AAAA"}),
        json!("not even an object"),
        json!({}),
        RSA_A.jwk(),
    ]);
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);
}

// --- nonce -----------------------------------------------------------------------------------

#[tokio::test]
async fn missing_nonce_is_refused() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = without(h.claims(&login), "nonce");
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "missing nonce claim",
    );
}

#[tokio::test]
async fn nonce_of_another_login_is_refused() {
    let h = Harness::start().await;
    let other = h.login();
    let login = h.login();
    let token = Jwt::new(h.claims(&other)).sign(&*RSA_A);
    let answer = h.return_with(&login, token).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        SECURITY_CHECKS,
        "nonce mismatch",
    );
}

// --- userinfo --------------------------------------------------------------------------------

#[tokio::test]
async fn userinfo_naming_another_subject_is_refused() {
    // Asked always; and asked by "auto" because the ID token has no `email`.
    for (setting, drop) in [(ALWAYS, None), ("", Some("email"))] {
        let h = Harness::start_with(setting).await;
        h.idp
            .set_userinfo(json!({"sub": "mallory", "email": "mallory@example.com"}));
        let login = h.login();
        let claims = match drop {
            Some(claim) => without(h.claims(&login), claim),
            None => h.claims(&login),
        };
        let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
        h.assert_rejected(
            &answer,
            &login,
            StatusCode::BAD_GATEWAY,
            "did not confirm your profile",
            "Invalid subject: expected `alice-0001` (found `mallory`)",
        );
    }
}

/// Streamlit's way, and the default: an ID token carrying what the scopes promise (`name`
/// for `profile`, `email` for `email`) is enough, so the visitor waits for one request to
/// the provider, not two.
#[tokio::test]
async fn by_default_an_id_token_with_the_promised_claims_is_enough() {
    let h = Harness::start().await;
    h.idp
        .set_userinfo(json!({"sub": SUBJECT, "locale": "fr-CH"}));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.name(), Some("Alice Example"));
    assert_eq!(user.email(), Some("alice@example.com"));
    assert_eq!(user.get_str("locale"), None, "userinfo was asked");
    assert_eq!(h.idp.hits(Endpoint::Token), 1);
    assert_eq!(
        h.idp.hits(Endpoint::Userinfo),
        0,
        "{:?}",
        h.idp.hit_counts()
    );

    // The next sign-in, with discovery and keys cached: one request in all.
    let before = h.idp.hit_counts();
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);
    let after = h.idp.hit_counts();
    let requests =
        |counts: &std::collections::HashMap<Endpoint, usize>| -> usize { counts.values().sum() };
    assert_eq!(requests(&after) - requests(&before), 1, "{after:?}");
}

/// An ID token that keeps the scopes' claims for userinfo (Okta's, oidc-provider's
/// conformant ones): "auto" asks userinfo, and the visitor has them all the same.
#[tokio::test]
async fn by_default_userinfo_fills_in_a_promised_claim_the_id_token_lacks() {
    let h = Harness::start().await;
    h.idp.set_userinfo(json!({
        "sub": SUBJECT,
        "email": "alice@example.com",
        "name": "Not the ID token's",
    }));
    let login = h.login();
    let claims = without(h.claims(&login), "email");
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.email(), Some("alice@example.com"));
    assert_eq!(user.name(), Some("Alice Example"), "the ID token's wins");
    assert_eq!(h.idp.hits(Endpoint::Userinfo), 1);
}

/// Claims the app asked of userinfo through the `claims` parameter (OpenID Connect Core
/// 5.5) are only there: "auto" asks for them.
#[tokio::test]
async fn by_default_claims_requested_of_userinfo_are_fetched() {
    let h = Harness::start_with(
        "[auth.client_kwargs]\nclaims = '{\"userinfo\": {\"groups\": null}}'\n",
    )
    .await;
    h.idp
        .set_userinfo(json!({"sub": SUBJECT, "groups": ["admins"]}));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.get("groups"), Some(&json!(["admins"])));
    assert_eq!(h.idp.hits(Endpoint::Userinfo), 1);
}

#[tokio::test]
async fn userinfo_never_is_never_asked_at_sign_in() {
    let h = Harness::start_with("userinfo = \"never\"\n").await;
    h.idp
        .set_userinfo(json!({"sub": SUBJECT, "email": "alice@example.com"}));
    let login = h.login();
    let claims = without(h.claims(&login), "email");
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.email(), None);
    assert_eq!(h.idp.hits(Endpoint::Userinfo), 0);
}

/// Where the ID token carries the claims and userinfo repeats them (as the test provider's
/// and the development provider's do), "auto" and "always" sign in the same user.
#[tokio::test]
async fn auto_and_always_give_the_same_user_when_the_id_token_has_the_claims() {
    let mut users = Vec::new();
    for setting in ["", ALWAYS] {
        let h = Harness::start_with(setting).await;
        h.idp.set_userinfo(json!({
            "sub": SUBJECT,
            "name": "Alice Example",
            "email": "alice@example.com",
        }));
        let login = h.login();
        let claims = json!({
            "iss": "replaced below",
            "sub": SUBJECT,
            "aud": CLIENT_ID,
            "iat": 1_700_000_000,
            "exp": support::now() + 300,
            "nonce": login.nonce,
            "name": "Alice Example",
            "email": "alice@example.com",
        });
        let claims = with(claims, "iss", json!(h.idp.issuer()));
        let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
        let user = h.assert_signed_in(&answer, &login);
        let mut claims = serde_json::to_value(&user).expect("a user");
        // Each harness's provider is on a port of its own.
        claims["claims"]["iss"] = json!("the issuer");
        claims["claims"]["exp"] = json!("a minute from now");
        users.push((claims, h.idp.hits(Endpoint::Userinfo)));
    }
    assert_eq!(users[0].0, users[1].0);
    assert_eq!((users[0].1, users[1].1), (0, 1));
}

#[tokio::test]
async fn the_access_token_reaches_userinfo_in_the_authorization_header_only() {
    let h = Harness::start_with(ALWAYS).await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);
    let calls = h.idp.requests(Endpoint::Userinfo);
    assert_eq!(calls.len(), 1);
    let expected = format!("Bearer {}", h.idp.access_token());
    assert_eq!(calls[0].authorization.as_deref(), Some(expected.as_str()));
    assert!(
        !calls[0].uri.contains(h.idp.access_token()) && !calls[0].uri.contains("access_token"),
        "the access token was in the URL: {}",
        calls[0].uri
    );
    assert!(calls[0].body.is_empty());
}

#[tokio::test]
async fn an_invalid_id_token_means_no_call_to_userinfo() {
    let h = Harness::start_with(ALWAYS).await;
    // Each a valid token but for one claim (and, last, a forged signature).
    let cases = [
        ("iss", json!("http://evil.example")),
        ("aud", json!("someone-else")),
        ("exp", json!(support::now() - 1)),
        ("nonce", json!("replayed")),
    ];
    for (claim, value) in cases {
        let login = h.login();
        let token = Jwt::new(with(h.claims(&login), claim, value)).sign(&*RSA_A);
        let answer = h.return_with(&login, token).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{claim}: {answer:?}"
        );
        assert!(answer.identity_cookie().is_none(), "{claim}");
    }
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_FORGER))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");

    assert_eq!(h.idp.hits(Endpoint::Token), 5);
    assert_eq!(
        h.idp.hits(Endpoint::Userinfo),
        0,
        "{:?}",
        h.idp.hit_counts()
    );
    h.assert_log_keeps_secrets();
}

// --- discovery -------------------------------------------------------------------------------

#[tokio::test]
async fn a_logins_own_parameters_join_the_configured_ones_and_win_over_them() {
    let h = Harness::start_with(
        "login_params = [\"scope\", \"prompt\", \"audience\"]\n\
         [auth.client_kwargs]\nscope = \"openid email\"\nprompt = \"consent\"\n",
    )
    .await;
    let answer = h
        .call_login_server_fn_with(
            "params=scope%3Dgroups%2Bemail%26prompt%3Dlogin%26audience%3Dhttps%3A%2F%2Fapi.example",
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}\n{}", h.log());
    let url: String = serde_json::from_str(&answer.body).expect("a JSON string");
    let url = url::Url::parse(&url).expect("a URL");
    let all = |name: &str| -> Vec<String> {
        url.query_pairs()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .collect()
    };
    assert_eq!(all("scope"), ["openid email groups"], "{url}");
    assert_eq!(all("prompt"), ["login"], "{url}");
    assert_eq!(all("audience"), ["https://api.example"], "{url}");
}

#[tokio::test]
async fn the_login_server_function_sends_the_visitor_to_a_sound_provider() {
    // The control for the next test: the same call with an honest discovery document.
    let h = Harness::start().await;
    let answer = h.call_login_server_fn().await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}\n{}", h.log());
    let url: String = serde_json::from_str(&answer.body).expect("a JSON string");
    assert!(
        url.starts_with(&format!("{}/authorize?", h.idp.issuer())),
        "{url}"
    );
    assert!(
        answer
            .set_cookies
            .iter()
            .any(|cookie| cookie.starts_with("auth_login_")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn discovery_naming_another_issuer_refuses_the_provider() {
    let h = Harness::start().await;
    h.idp.advertise("issuer", json!("https://impostor.example"));

    // At login: an error, no login under way, no URL to go to.
    let answer = h.call_login_server_fn().await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{answer:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&answer.body).expect("an AuthError"),
        json!({"ProviderUnavailable": "The sign-in provider's configuration does not match this site's, so \
                            sign-in is unavailable. The site's administrator can find the \
                            details in its log."}),
    );
    assert!(!answer.body.contains("/authorize"), "{answer:?}");
    assert!(answer.location.is_none(), "{answer:?}");
    assert!(
        !answer
            .set_cookies
            .iter()
            .any(|cookie| cookie.starts_with("auth_login_")),
        "{answer:?}"
    );
    let log = h.log();
    assert!(log.contains("cannot start a login"), "{log}");
    assert!(log.contains("impostor.example"), "the log says why: {log}");

    // At the callback (a login begun before the provider changed its document): refused
    // before any code is exchanged.
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        "does not match this site",
        "unexpected issuer URI `https://impostor.example`",
    );
    assert_eq!(h.idp.hits(Endpoint::Token), 0);
    assert_eq!(h.idp.hits(Endpoint::Authorize), 0);
}

#[tokio::test]
async fn discovery_down_is_retried_on_the_next_login() {
    let h = Harness::start().await;
    h.idp.fail_discovery(Some(StatusCode::SERVICE_UNAVAILABLE));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        "cannot be reached right now",
        "discovery",
    );
    assert_eq!(h.get("/", None).await.status, StatusCode::OK);
    assert_eq!(h.idp.hits(Endpoint::Discovery), 1);

    // Back up, but within DISCOVERY_RETRY_AFTER the failure still answers: no new fetch.
    h.idp.fail_discovery(None);
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert_eq!(h.idp.hits(Endpoint::Discovery), 1);

    tokio::time::sleep(leptos_login::testing::DISCOVERY_RETRY_AFTER).await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);
    assert_eq!(h.idp.hits(Endpoint::Discovery), 2);
}

// --- the provider's error, slow and dead endpoints -------------------------------------------

#[tokio::test]
async fn provider_error_with_crlf_and_html_is_escaped_and_logged_on_one_line() {
    let h = Harness::start().await;
    let login = h.login();
    let uri = format!(
        "/oauth2callback?state={}&error=access_denied&error_description=\
         %3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%0D%0AINJECTED%20log%20line%0A%3Cscript%3Ex%3C%2Fscript%3E",
        login.state
    );
    let answer = h.get(&uri, Some(&login.cookie)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_REQUEST,
        "access_denied",
        "access_denied",
    );
    assert!(
        answer.body.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("<img"), "{}", answer.body);
    assert!(!answer.body.contains("<script>"), "{}", answer.body);
    let log = h.log();
    let injected: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("INJECTED"))
        .collect();
    assert!(
        injected.len() == 1 && injected[0].contains("sign-in failed"),
        "the description started a log line of its own:\n{log}"
    );
    assert_eq!(h.idp.hit_counts().len(), 0, "the provider was not called");
}

#[tokio::test]
async fn slow_token_endpoint_times_out_while_other_pages_keep_working() {
    let h = Harness::start().await;
    h.idp.set_token_delay(Duration::from_secs(3));
    let login = h.login();
    let token = Jwt::new(h.claims(&login)).sign(&*RSA_A);
    let started = Instant::now();
    let callback = async {
        let answer = h.return_with(&login, token).await;
        (answer, started.elapsed())
    };
    let home = async {
        // Wait until the callback is stuck at the token endpoint, then ask for another page.
        while h.idp.hits(Endpoint::Token) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let answer = h.get("/", None).await;
        (answer, started.elapsed())
    };
    let ((answer, callback_took), (home, home_took)) = tokio::join!(callback, home);

    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        NOT_COMPLETED,
        "timed out",
    );
    assert!(
        callback_took < Duration::from_secs(2),
        "the timeout did not cut the call short: {callback_took:?}"
    );
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home_took < callback_took,
        "{home_took:?} vs {callback_took:?}"
    );
    assert_eq!(h.get("/", None).await.body, "home page");
}

#[tokio::test]
async fn token_endpoint_down_is_a_bad_gateway_and_other_pages_keep_working() {
    let h = Harness::start().await;
    // A port nothing listens on: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("bound").port();
    drop(closed);
    h.idp.advertise(
        "token_endpoint",
        json!(format!("http://127.0.0.1:{port}/token")),
    );
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        NOT_COMPLETED,
        "Connection refused",
    );
    let home = h.get("/", None).await;
    assert_eq!(
        (home.status, home.body.as_str()),
        (StatusCode::OK, "home page")
    );
}

// --- claims too large for one cookie ---------------------------------------------------------

#[tokio::test]
async fn claims_too_large_for_one_cookie_keep_the_standard_ones() {
    let h = Harness::start().await;
    let groups: Vec<String> = (0..200).map(|i| format!("group-number-{i:04}")).collect();
    let login = h.login();
    let claims = with(h.claims(&login), "groups", json!(groups));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    let user = h.assert_signed_in(&answer, &login);
    assert_eq!(user.sub(), Some(SUBJECT));
    assert_eq!(user.email(), Some("alice@example.com"));
    assert_eq!(user.name(), Some("Alice Example"));
    assert_eq!(
        user.get("groups"),
        None,
        "the non-standard claim is dropped"
    );
    let log = h.log();
    assert!(log.contains("kept the standard claims only"), "{log}");
    assert!(
        log.contains("groups"),
        "the log names what was dropped: {log}"
    );
}

#[tokio::test]
async fn standard_claims_too_large_for_one_cookie_are_a_clear_error() {
    let h = Harness::start().await;
    let login = h.login();
    let claims = with(h.claims(&login), "name", json!("A".repeat(5000)));
    let answer = h.return_with(&login, Jwt::new(claims).sign(&*RSA_A)).await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::INTERNAL_SERVER_ERROR,
        "too large",
        "more than one cookie can hold",
    );
}
