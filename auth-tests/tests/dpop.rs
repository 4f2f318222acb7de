//! DPoP-bound tokens (RFC 9449, `dpop = true`) against the programmable fake provider (see
//! `support/`), which checks each proof as a DPoP server does (`support/dpop.rs`): the code
//! exchange, the refresh and userinfo carry proofs from one key per session, the provider's
//! nonce is honoured, a `Bearer` answer is refused, and server code's own proofs bind its
//! calls so that the access token alone (as a thief reading the store would hold it) is
//! refused. Against the real `oidc-provider`: end2end/tests/dpop.spec.ts.
#[allow(dead_code)]
mod support;

use axum::http::StatusCode;
use leptos_login::testing::{Completion, OidcError, Provider, TokenSet};
use serde_json::json;

use support::{
    Harness, Login, TestClock,
    dpop::{self, OtherKey, Proof},
    jwt::Jwt,
    keys::RSA_A,
    provider::{Endpoint, Hit},
};

const DPOP: &str = "session_store = \"memory\"\nexpose_tokens = [\"access\"]\ndpop = true\n";

/// The resource server's URL as a proof names it (`htu`: no query, no fragment).
const RESOURCE_HTU: &str = "https://api.example/items";

async fn start(more: &str) -> Harness {
    Harness::start_with(&format!("{DPOP}{more}")).await
}

/// `hit`'s proof, checked as the provider's token endpoint checks it (and kept out of the
/// log: a proof is a credential for its one request).
#[track_caller]
fn token_proof(h: &Harness, hit: &Hit) -> Proof {
    let proof = hit.dpop.as_deref().expect("a DPoP proof");
    h.keep_out_of_the_log(proof);
    dpop::verify(proof, "POST", &format!("{}/token", h.idp.issuer()), None)
        .unwrap_or_else(|error| panic!("a good proof: {error}"))
}

async fn sign_in(h: &Harness, provider: &Provider) -> Result<TokenSet, OidcError> {
    let login: Login = h.login();
    h.idp.set_id_token(Jwt::new(h.claims(&login)).sign(&*RSA_A));
    provider
        .complete_with_tokens(Completion {
            code: login.code.clone(),
            pkce_verifier: login.pkce_verifier.clone(),
            nonce: &login.nonce,
            max_age: None,
        })
        .await
        .map(|(_, tokens)| tokens)
}

/// A resource server that takes DPoP-bound tokens: `Authorization: DPoP <token>` and a proof
/// for this call naming the token (`ath`), signed by the key the token is bound to
/// (`cnf.jkt`, here `bound_jkt`: what the provider saw at the token request).
fn resource_accepts(
    authorization: &str,
    proof: Option<&str>,
    bound_jkt: &str,
) -> Result<(), String> {
    let token = authorization
        .strip_prefix("DPoP ")
        .ok_or("a DPoP-bound token must come as Authorization: DPoP")?;
    let proof = proof.ok_or("no proof")?;
    let checked = dpop::verify(proof, "GET", RESOURCE_HTU, Some(token))?;
    if checked.jkt != bound_jkt {
        return Err("the proof's key is not the token's".to_owned());
    }
    Ok(())
}

#[tokio::test]
async fn sign_in_and_refresh_carry_proofs_of_one_key_and_honour_the_nonce() {
    let h = start("").await;
    h.idp.require_dpop_nonce(Some("nonce-1"));
    h.idp
        .set_token_members(json!({"refresh_token": "refresh-0"}));
    let provider = h.provider(TestClock::default().policy());
    let tokens = sign_in(&h, &provider).await.expect("a sign-in");

    // The first try has no nonce and is refused with one; the retry carries it.
    let hits = h.idp.requests(Endpoint::Token);
    assert_eq!(hits.len(), 2, "{hits:?}");
    let (first, retry) = (token_proof(&h, &hits[0]), token_proof(&h, &hits[1]));
    assert_eq!(first.nonce(), None);
    assert_eq!(retry.nonce(), Some("nonce-1"));
    assert_eq!(first.jkt, retry.jkt, "one key");
    assert_ne!(first.jti(), retry.jti(), "a new proof for each try");
    assert_eq!(tokens.token_type(), Some("DPoP"));
    assert_eq!(
        tokens.dpop_thumbprint().as_deref(),
        Some(retry.jkt.as_str())
    );

    // The refresh: the same key, a new proof, the remembered nonce (no refusal first).
    let refreshed = provider.refresh(&tokens).await.expect("a refresh");
    let hits = h.idp.requests(Endpoint::Token);
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert!(hits[2].is_refresh());
    let refresh = token_proof(&h, &hits[2]);
    assert_eq!(refresh.jkt, first.jkt, "the session's key");
    assert_eq!(refresh.nonce(), Some("nonce-1"));
    assert_eq!(refreshed.token_type(), Some("DPoP"));
    assert_eq!(refreshed.dpop_thumbprint(), tokens.dpop_thumbprint());

    // A new nonce: refused once, retried with it.
    h.idp.require_dpop_nonce(Some("nonce-2"));
    let again = provider.refresh(&refreshed).await.expect("a refresh");
    let hits = h.idp.requests(Endpoint::Token);
    assert_eq!(hits.len(), 5, "{hits:?}");
    assert_eq!(token_proof(&h, &hits[3]).nonce(), Some("nonce-1"));
    let retried = token_proof(&h, &hits[4]);
    assert_eq!(retried.nonce(), Some("nonce-2"));
    assert_eq!(retried.jkt, first.jkt);
    assert_eq!(again.dpop_thumbprint(), tokens.dpop_thumbprint());
    h.assert_log_keeps_secrets();
}

/// Each session its own key: two sign-ins, two thumbprints.
#[tokio::test]
async fn each_session_has_its_own_key() {
    let h = start("").await;
    let provider = h.provider(TestClock::default().policy());
    let one = sign_in(&h, &provider).await.expect("a sign-in");
    let two = sign_in(&h, &provider).await.expect("a sign-in");
    assert!(one.dpop_thumbprint().is_some());
    assert_ne!(one.dpop_thumbprint(), two.dpop_thumbprint());
    // Without dpop nothing is proved and no key is kept.
    let plain =
        Harness::start_with("session_store = \"memory\"\nexpose_tokens = [\"access\"]\n").await;
    let tokens = sign_in(&plain, &plain.provider(TestClock::default().policy()))
        .await
        .expect("a sign-in");
    assert_eq!(tokens.dpop_thumbprint(), None);
    assert_eq!(tokens.token_type(), Some("Bearer"));
    assert!(plain.idp.requests(Endpoint::Token)[0].dpop.is_none());
}

/// A provider that ignores the proof and issues a bearer token: refused, not downgraded.
#[tokio::test]
async fn a_bearer_answer_to_a_dpop_request_is_refused() {
    let h = start("").await;
    h.idp.set_token_members(json!({"token_type": "Bearer"}));
    let provider = h.provider(TestClock::default().policy());
    match sign_in(&h, &provider).await {
        Err(OidcError::TokenExchange(reason)) => {
            assert!(reason.contains("DPoP"), "{reason}");
        }
        other => panic!(
            "refused, not {:?}",
            other.map(|tokens| tokens.token_type().map(str::to_owned))
        ),
    }
    // Through the callback: no session.
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    assert!(answer.identity_cookie().is_none(), "{answer:?}");
}

/// What `/dpop-call` answers: the token type, the access token, the proof, a line each.
async fn dpop_call(h: &Harness, cookie: &str) -> Vec<String> {
    let answer = h.get("/dpop-call", Some(cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let lines: Vec<String> = answer.body.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{answer:?}");
    h.keep_out_of_the_log(&lines[2]);
    lines
}

#[tokio::test]
async fn server_code_proves_its_calls_and_the_token_alone_is_useless() {
    // userinfo = "always": the callback's userinfo call must be DPoP-bound too.
    let h = start("userinfo = \"always\"\n").await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::SEE_OTHER,
        "{answer:?}\n{}",
        h.log()
    );
    let cookie = answer.identity_cookie().expect("signed in");
    let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
    let bound_jkt = token_proof(&h, &h.idp.requests(Endpoint::Token)[0]).jkt;

    let userinfo = h.idp.requests(Endpoint::Userinfo);
    assert_eq!(userinfo.len(), 1, "{userinfo:?}");
    let access_token = h.idp.access_token().to_owned();
    assert_eq!(
        userinfo[0].authorization.as_deref(),
        Some(format!("DPoP {access_token}").as_str())
    );
    let proof = userinfo[0].dpop.as_deref().expect("a proof");
    h.keep_out_of_the_log(proof);
    let checked = dpop::verify(
        proof,
        "GET",
        &format!("{}/userinfo", h.idp.issuer()),
        Some(&access_token),
    )
    .expect("a good userinfo proof");
    assert_eq!(checked.jkt, bound_jkt);

    // Server code's proof for its own call (`/dpop-call` asks for one for RESOURCE_URL).
    let lines = dpop_call(&h, &cookie).await;
    assert_eq!(lines[0], "DPoP");
    assert_eq!(lines[1], access_token);
    let authorization = format!("DPoP {}", lines[1]);
    resource_accepts(&authorization, Some(&lines[2]), &bound_jkt).expect("the session's call");
    let checked = dpop::verify(&lines[2], "GET", RESOURCE_HTU, Some(&lines[1])).expect("a proof");
    assert_eq!(checked.claims["ath"], dpop::ath(&access_token));
    let again = dpop_call(&h, &cookie).await;
    assert_ne!(
        dpop::verify(&again[2], "GET", RESOURCE_HTU, Some(&again[1]))
            .expect("a proof")
            .jti(),
        checked.jti()
    );
    // The proof is for this URL only.
    assert!(
        dpop::verify(
            &lines[2],
            "GET",
            "https://api.example/other",
            Some(&lines[1])
        )
        .is_err()
    );

    // A thief with the token (read from the store, say) but not the key: a well-formed proof
    // from a key of its own is refused, and so is the token as a bearer token.
    let thief = OtherKey::new().proof("GET", RESOURCE_HTU, &access_token);
    assert!(dpop::verify(&thief, "GET", RESOURCE_HTU, Some(&access_token)).is_ok());
    assert_eq!(
        resource_accepts(&authorization, Some(&thief), &bound_jkt),
        Err("the proof's key is not the token's".to_owned())
    );
    assert!(resource_accepts(&format!("Bearer {access_token}"), None, &bound_jkt).is_err());
    assert!(resource_accepts(&authorization, None, &bound_jkt).is_err());
    h.assert_log_keeps_secrets();
}

/// A copy of the stored tokens without the key cannot make the session's proofs: with it,
/// the crate's refresh makes a key of its own, which the token is not bound to.
#[tokio::test]
async fn stored_tokens_without_the_key_prove_nothing_for_the_session() {
    let h = start("").await;
    h.idp
        .set_token_members(json!({"refresh_token": "refresh-0"}));
    let provider = h.provider(TestClock::default().policy());
    let tokens = sign_in(&h, &provider).await.expect("a sign-in");
    let stolen = tokens.without_dpop_key();
    assert_eq!(stolen.access_token(), tokens.access_token());
    assert_eq!(stolen.dpop_thumbprint(), None);
    let refreshed = provider.refresh(&stolen).await.expect("a refresh");
    assert_ne!(refreshed.dpop_thumbprint(), tokens.dpop_thumbprint());
    let hits = h.idp.requests(Endpoint::Token);
    assert_ne!(
        token_proof(&h, &hits[1]).jkt,
        tokens.dpop_thumbprint().expect("a key"),
        "the thief's refresh proves another key"
    );
}

/// Sessions keep their tokens in the store, never in the cookie: the key with them.
#[tokio::test]
async fn the_key_never_reaches_a_cookie_or_a_page() {
    let h = start("").await;
    let login = h.login();
    let answer = h
        .return_with(&login, Jwt::new(h.claims(&login)).sign(&*RSA_A))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::SEE_OTHER,
        "{answer:?}\n{}",
        h.log()
    );
    let cookie = answer.identity_cookie().expect("signed in");
    // The store keeps the session: the cookie carries only its sealed id, far too short to
    // hold the tokens, let alone a key beside them.
    assert!(
        cookie.len() < h.idp.access_token().len() + 200,
        "{} bytes",
        cookie.len()
    );
}

/// end2end/secrets.tokens.e2e.toml, which dpop.spec.ts's server reads: its `dpop-bound`
/// provider is the only one with DPoP (a mistake there would only show in the browser run).
#[test]
fn the_end_to_end_configuration_binds_the_dpop_client_only() {
    let path = format!(
        "{}/../end2end/secrets.tokens.e2e.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let end2end = format!("{}/../end2end/", env!("CARGO_MANIFEST_DIR"));
    // Its key files are named from end2end/, where the server runs.
    let text = std::fs::read_to_string(&path)
        .expect("the end-to-end secrets")
        .replace(
            "\"oidc/client-keys/",
            &format!("\"{end2end}oidc/client-keys/"),
        );
    let config =
        leptos_login::testing::from_sources(std::path::Path::new(&path), Some(&text), |_| None)
            .expect("a valid configuration")
            .expect("configured");
    let bound: Vec<(Option<&str>, &str)> = config
        .providers
        .iter()
        .filter(|provider| provider.dpop)
        .map(|provider| (provider.name.as_deref(), provider.client_id.as_str()))
        .collect();
    assert_eq!(bound, [(Some("dpop-bound"), "leptos-dpop")]);
}
