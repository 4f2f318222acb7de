//! Client authentication (`token_endpoint_auth_method`) against the programmable fake provider
//! (see `support/`): what the code exchange, the refresh and the revocation carry for each
//! method, which method discovery makes the default, and a refused one. The same flows
//! against the real `oidc-provider` are end2end/tests/client-auth.spec.ts.
#[allow(dead_code)]
mod support;

use std::collections::HashSet;

use axum::http::StatusCode;
use jsonwebtoken::{DecodingKey, EncodingKey, Validation, jwk::Jwk};
use leptos_login::testing::{ASSERTION_LIFETIME, ASSERTION_TYPE, Completion, TokenSet};
use serde_json::{Value, json};

use support::{
    CLIENT_ID, CLIENT_SECRET, Harness, TestClock,
    jwt::Jwt,
    keys::RSA_A,
    provider::{Endpoint, Hit},
};

/// The test-only keys of end2end/oidc/client-keys/ (its README).
fn key_file(name: &str) -> String {
    format!(
        "{}/../end2end/oidc/client-keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn secret() -> String {
    format!("client_secret = \"{CLIENT_SECRET}\"\n")
}

fn private_key(file: &str) -> String {
    format!("client_private_key_file = \"{}\"\n", key_file(file))
}

fn method(name: &str) -> String {
    format!("token_endpoint_auth_method = \"{name}\"\n")
}

/// Starts the app with `client` (TOML lines in place of the secret) and the provider's
/// discovery listing `listed` (`None`: no `token_endpoint_auth_methods_supported`).
async fn start(client: &str, listed: Option<&[&str]>) -> Harness {
    let h = Harness::start_with_client(client, "").await;
    h.idp
        .advertise("token_endpoint_auth_methods_supported", json!(listed));
    h.idp.advertise(
        "revocation_endpoint",
        json!(format!("{}/revoke", h.idp.issuer())),
    );
    for file in ["rsa.pem", "ec.pem"] {
        let pem = std::fs::read_to_string(key_file(file)).expect("a test key");
        for line in pem.lines().filter(|line| !line.starts_with("-----")) {
            h.keep_out_of_the_log(line);
        }
    }
    h
}

/// Signs in through the app's callback, then refreshes and revokes the tokens through the
/// crate's `Provider` (what `tokens()` and logout call): one request to each endpoint.
async fn token_refresh_and_revocation(h: &Harness) -> [Hit; 3] {
    h.idp
        .set_token_members(json!({"refresh_token": "refresh-0"}));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);

    let provider = h.provider(TestClock::default().policy());
    let login = h.login();
    h.idp.set_id_token(Jwt::new(h.claims(&login)).sign(&*RSA_A));
    let (_, tokens): (_, TokenSet) = provider
        .complete_with_tokens(Completion {
            code: login.code.clone(),
            pkce_verifier: login.pkce_verifier.clone(),
            nonce: &login.nonce,
            max_age: None,
        })
        .await
        .expect("a sign-in");
    let refreshed = provider.refresh(&tokens).await.expect("a refresh");
    provider.revoke(&refreshed).await;
    h.assert_log_keeps_secrets();

    let token = h.idp.requests(Endpoint::Token);
    let revocation = h.idp.requests(Endpoint::Revocation);
    assert_eq!(token.len(), 3, "two code exchanges and a refresh");
    assert_eq!(revocation.len(), 1);
    [token[0].clone(), token[2].clone(), revocation[0].clone()]
}

/// `client_id:client_secret` of an HTTP Basic header.
fn basic_credentials(hit: &Hit) -> Option<String> {
    let encoded = hit.authorization.as_deref()?.strip_prefix("Basic ")?;
    let decoded =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded).ok()?;
    String::from_utf8(decoded).ok()
}

#[track_caller]
fn assert_basic(hit: &Hit) {
    assert_eq!(
        basic_credentials(hit),
        Some(format!("{CLIENT_ID}:{CLIENT_SECRET}")),
        "{hit:?}"
    );
    assert_eq!(hit.form("client_secret"), None, "{hit:?}");
    assert_eq!(hit.form("client_assertion"), None, "{hit:?}");
}

#[track_caller]
fn assert_post(hit: &Hit) {
    assert_eq!(hit.authorization, None, "{hit:?}");
    assert_eq!(hit.form("client_id").as_deref(), Some(CLIENT_ID), "{hit:?}");
    assert_eq!(
        hit.form("client_secret").as_deref(),
        Some(CLIENT_SECRET),
        "{hit:?}"
    );
    assert_eq!(hit.form("client_assertion"), None, "{hit:?}");
}

#[track_caller]
fn assert_public(hit: &Hit) {
    assert_eq!(hit.authorization, None, "{hit:?}");
    assert_eq!(hit.form("client_id").as_deref(), Some(CLIENT_ID), "{hit:?}");
    assert_eq!(hit.form("client_secret"), None, "{hit:?}");
    assert_eq!(hit.form("client_assertion"), None, "{hit:?}");
}

/// The request's assertion, checked as a provider checks it: signed by the public half of
/// `key_file`, `iss` = `sub` = our client id, `aud` = `audience`, a lifetime of
/// [`ASSERTION_LIFETIME`]. Returns its claims.
#[track_caller]
fn assert_assertion(hit: &Hit, key_file_name: &str, audience: &str) -> Value {
    assert_eq!(hit.authorization, None, "{hit:?}");
    assert_eq!(hit.form("client_secret"), None, "{hit:?}");
    assert_eq!(
        hit.form("client_assertion_type").as_deref(),
        Some(ASSERTION_TYPE)
    );
    let assertion = hit.form("client_assertion").expect("an assertion");
    let pem = std::fs::read(key_file(key_file_name)).expect("the test key");
    let (private, alg) = EncodingKey::from_rsa_pem(&pem)
        .map(|key| (key, jsonwebtoken::Algorithm::RS256))
        .or_else(|_| {
            EncodingKey::from_ec_pem(&pem).map(|key| (key, jsonwebtoken::Algorithm::ES256))
        })
        .expect("a test key");
    let public = Jwk::from_encoding_key(&private, alg).expect("its public half");
    let header = jsonwebtoken::decode_header(&assertion).expect("a JWT");
    assert_eq!(header.alg, alg);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(
        header.kid,
        Some(
            public
                .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .expect("a thumbprint")
        ),
        "the key id is the key's RFC 7638 thumbprint"
    );
    let mut validation = Validation::new(alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.sub = Some(CLIENT_ID.to_owned());
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud", "jti"]);
    let claims = jsonwebtoken::decode::<Value>(
        &assertion,
        &DecodingKey::from_jwk(&public).expect("a decoding key"),
        &validation,
    )
    .unwrap_or_else(|error| panic!("the assertion does not verify: {error}"))
    .claims;
    let lifetime = claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat");
    assert_eq!(lifetime, ASSERTION_LIFETIME.as_secs());
    assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 16));
    claims
}

// --- each method, at the token, refresh and revocation endpoints -----------------------------

#[tokio::test]
async fn client_secret_basic_sends_the_secret_in_the_authorization_header() {
    let h = start(
        &(secret() + &method("client_secret_basic")),
        Some(&["client_secret_post"]),
    )
    .await;
    for hit in token_refresh_and_revocation(&h).await {
        assert_basic(&hit);
    }
}

#[tokio::test]
async fn client_secret_post_sends_the_secret_in_the_body() {
    let h = start(&(secret() + &method("client_secret_post")), None).await;
    for hit in token_refresh_and_revocation(&h).await {
        assert_post(&hit);
    }
}

#[tokio::test]
async fn private_key_jwt_sends_a_fresh_assertion_signed_with_the_rsa_key() {
    let h = start(
        &(method("private_key_jwt") + &private_key("rsa.pem")),
        Some(&["private_key_jwt"]),
    )
    .await;
    let token_endpoint = format!("{}/token", h.idp.issuer());
    let hits = token_refresh_and_revocation(&h).await;
    let mut ids = HashSet::new();
    for hit in &hits {
        assert_eq!(hit.form("client_id").as_deref(), Some(CLIENT_ID));
        let claims = assert_assertion(hit, "rsa.pem", &token_endpoint);
        ids.insert(claims["jti"].as_str().map(str::to_owned));
    }
    assert_eq!(ids.len(), hits.len(), "a new jti for every request");
}

#[tokio::test]
async fn private_key_jwt_signs_with_an_ec_key_as_es256() {
    let h = start(
        &(method("private_key_jwt") + &private_key("ec.pem")),
        Some(&["private_key_jwt"]),
    )
    .await;
    let token_endpoint = format!("{}/token", h.idp.issuer());
    for hit in token_refresh_and_revocation(&h).await {
        assert_assertion(&hit, "ec.pem", &token_endpoint);
    }
}

#[tokio::test]
async fn private_key_jwt_names_the_issuer_as_audience_where_configured() {
    let h = start(
        &(method("private_key_jwt")
            + &private_key("rsa.pem")
            + "client_assertion_audience = \"issuer\"\n"),
        Some(&["private_key_jwt"]),
    )
    .await;
    let issuer = h.idp.issuer().to_owned();
    for hit in token_refresh_and_revocation(&h).await {
        assert_assertion(&hit, "rsa.pem", &issuer);
    }
}

#[tokio::test]
async fn none_sends_only_the_client_id() {
    let h = start(&method("none"), Some(&["none"])).await;
    for hit in token_refresh_and_revocation(&h).await {
        assert_public(&hit);
    }
}

// --- the default: the first method discovery lists that the configuration can do ----------

/// The code exchange of one sign-in through the app's callback.
async fn code_exchange(h: &Harness) -> Hit {
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_signed_in(&answer, &login);
    h.idp.requests(Endpoint::Token).remove(0)
}

#[tokio::test]
async fn a_secret_goes_as_entra_and_google_list_first_in_the_body() {
    // Entra's discovery lists these three, in this order; Google's the first and last.
    let listed = [
        "client_secret_post",
        "private_key_jwt",
        "client_secret_basic",
    ];
    let h = start(&secret(), Some(&listed)).await;
    assert_post(&code_exchange(&h).await);
}

#[tokio::test]
async fn a_secret_goes_in_the_header_where_basic_is_listed_first() {
    let listed = ["client_secret_basic", "client_secret_post", "none"];
    let h = start(&secret(), Some(&listed)).await;
    assert_basic(&code_exchange(&h).await);
}

#[tokio::test]
async fn a_secret_goes_in_the_header_where_discovery_lists_no_method() {
    let h = start(&secret(), None).await;
    assert_basic(&code_exchange(&h).await);
}

#[tokio::test]
async fn a_key_alone_signs_where_private_key_jwt_is_listed() {
    let listed = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
    let h = start(&private_key("ec.pem"), Some(&listed)).await;
    let token_endpoint = format!("{}/token", h.idp.issuer());
    assert_assertion(&code_exchange(&h).await, "ec.pem", &token_endpoint);
}

#[tokio::test]
async fn a_key_beside_a_secret_signs_where_private_key_jwt_is_listed_first() {
    let listed = ["private_key_jwt", "client_secret_basic"];
    let h = start(&(secret() + &private_key("rsa.pem")), Some(&listed)).await;
    let token_endpoint = format!("{}/token", h.idp.issuer());
    assert_assertion(&code_exchange(&h).await, "rsa.pem", &token_endpoint);
}

#[tokio::test]
async fn neither_secret_nor_key_is_a_public_client_where_none_is_listed() {
    let listed = ["client_secret_basic", "none"];
    let h = start("", Some(&listed)).await;
    assert_public(&code_exchange(&h).await);
}

#[tokio::test]
async fn a_login_no_listed_method_fits_never_leaves_for_the_provider() {
    let h = start("", Some(&["client_secret_post", "client_secret_basic"])).await;
    let answer = h.call_login_server_fn().await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{answer:?}");
    assert!(
        answer
            .body
            .contains("did not accept this site's credentials"),
        "{answer:?}"
    );
    assert!(!answer.body.contains("/authorize"), "{answer:?}");
    let log = h.log();
    assert!(
        log.contains(
            "cannot start a login with the default provider: client authentication at the \
             default provider failed: the provider accepts client authentication by \
             client_secret_post, client_secret_basic only, and this configuration has neither \
             a client_secret nor a private key"
        ),
        "{log}"
    );
    assert_eq!(h.idp.hits(Endpoint::Authorize), 0);
}

// --- refused ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_refused_client_authentication_is_the_error_page_and_a_line_naming_the_method() {
    let h = start(
        &(method("private_key_jwt") + &private_key("rsa.pem")),
        Some(&["private_key_jwt"]),
    )
    .await;
    h.idp.fail_token(Some((
        StatusCode::UNAUTHORIZED,
        json!({
            "error": "invalid_client",
            "error_description": "client authentication failed (signature)",
        }),
    )));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        "did not accept this site&#39;s credentials",
        "client authentication at the default provider (private_key_jwt) failed: the provider \
         refused it: Server returned error response: invalid_client: client authentication \
         failed (signature)",
    );
}

#[tokio::test]
async fn a_refused_secret_names_its_method_and_never_the_secret() {
    let h = start(&secret(), Some(&["client_secret_post"])).await;
    h.idp.fail_token(Some((
        StatusCode::UNAUTHORIZED,
        json!({"error": "invalid_client"}),
    )));
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    h.assert_rejected(
        &answer,
        &login,
        StatusCode::BAD_GATEWAY,
        "did not accept this site&#39;s credentials",
        "client authentication at the default provider (client_secret_post) failed",
    );
}
