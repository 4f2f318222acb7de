//! The development provider, driven over real HTTP by the same code that talks to Google.
use super::*;
use crate::{Auth, server::protocol::Completion};

/// A server with the development provider on a loopback port, as `Auth::from_env` makes it.
async fn serve() -> (Auth, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let auth = Auth::with_dev_provider(addr).expect("dev provider");
    assert!(auth.dev_provider_active());
    let app = auth.install(Router::new());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (auth, format!("http://{addr}"))
}

fn browser() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// What a visitor does on the sign-in page: picks a person. Returns the redirect back.
async fn sign_in_as(authorization_url: &Url, name: &str, email: &str) -> Url {
    let mut form: Vec<(String, String)> = authorization_url.query_pairs().into_owned().collect();
    form.push(("name".to_owned(), name.to_owned()));
    form.push(("email".to_owned(), email.to_owned()));
    let mut action = authorization_url.clone();
    action.set_query(None);
    let response = browser()
        .post(action)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    Url::parse(location).expect("absolute redirect")
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn its_tokens_pass_the_checks_a_real_providers_do() {
    let (auth, origin) = serve().await;
    let provider = auth.provider(None).expect("the dev provider");
    let authorization = provider.authorize().await.expect("discovery over HTTP");
    assert!(
        authorization
            .url
            .as_str()
            .starts_with(&format!("{origin}/dev-idp/authorize?"))
    );
    assert_eq!(
        param(&authorization.url, "code_challenge_method").as_deref(),
        Some("S256")
    );

    let page = browser()
        .get(authorization.url.clone())
        .send()
        .await
        .expect("page");
    let page = page.text().await.expect("html");
    assert!(page.contains("Sign in as Ada Lovelace"), "{page}");

    let back = sign_in_as(&authorization.url, "Ada Lovelace", "ada@example.com").await;
    assert_eq!(back.path(), "/oauth2callback");
    assert_eq!(param(&back, "state"), Some(authorization.state.clone()));
    let code = param(&back, "code").expect("a code");

    let claims = provider
        .complete(Completion {
            code: code.clone(),
            pkce_verifier: authorization.pkce_verifier.clone(),
            nonce: &authorization.nonce,
            max_age: None,
        })
        .await
        .expect("verified like any provider's token");
    assert_eq!(claims["name"], "Ada Lovelace");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["sub"], "dev:ada@example.com");
    assert_eq!(claims["iss"], format!("{origin}/dev-idp"));
    assert_eq!(claims["picture"], format!("{origin}/dev-idp/avatar/AL"));

    // A code is good once.
    let replay = provider
        .complete(Completion {
            code,
            pkce_verifier: authorization.pkce_verifier,
            nonce: &authorization.nonce,
            max_age: None,
        })
        .await;
    assert!(replay.is_err(), "a code must not be redeemed twice");
}

#[tokio::test]
async fn it_checks_pkce_and_nonce() {
    let (auth, _) = serve().await;
    let provider = auth.provider(None).expect("the dev provider");

    let authorization = provider.authorize().await.expect("discovery");
    let back = sign_in_as(&authorization.url, "Someone", "someone@example.com").await;
    let wrong_verifier = provider
        .complete(Completion {
            code: param(&back, "code").expect("code"),
            pkce_verifier: "not-the-verifier-not-the-verifier-not-the-verifier".to_owned(),
            nonce: &authorization.nonce,
            max_age: None,
        })
        .await;
    assert!(matches!(
        wrong_verifier,
        Err(crate::server::protocol::OidcError::TokenExchange(_))
    ));

    let authorization = provider.authorize().await.expect("discovery");
    let back = sign_in_as(&authorization.url, "Someone", "someone@example.com").await;
    let wrong_nonce = provider
        .complete(Completion {
            code: param(&back, "code").expect("code"),
            pkce_verifier: authorization.pkce_verifier,
            nonce: "another-nonce",
            max_age: None,
        })
        .await;
    assert!(matches!(
        wrong_nonce,
        Err(crate::server::protocol::OidcError::IdToken(_))
    ));
}

#[tokio::test]
async fn it_never_redirects_to_a_foreign_redirect_uri() {
    let (_, origin) = serve().await;
    let url = format!(
        "{origin}/dev-idp/authorize?response_type=code&client_id={CLIENT_ID}\
         &redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s&code_challenge=c&code_challenge_method=S256"
    );
    let response = browser().get(url).send().await.expect("page");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(header::LOCATION).is_none());
}

/// What a sign-in as Ada gives `provider`, without what changes at every sign-in.
async fn ada_through(provider: &crate::server::protocol::Provider) -> serde_json::Value {
    let authorization = provider.authorize().await.expect("discovery");
    let back = sign_in_as(&authorization.url, "Ada Lovelace", "ada@example.com").await;
    let mut claims = provider
        .complete(Completion {
            code: param(&back, "code").expect("code"),
            pkce_verifier: authorization.pkce_verifier,
            nonce: &authorization.nonce,
            max_age: None,
        })
        .await
        .expect("signed in");
    for changing in ["iat", "exp", "at_hash", "c_hash", "auth_time"] {
        claims.remove(changing);
    }
    serde_json::Value::Object(claims)
}

#[tokio::test]
async fn its_id_token_alone_gives_the_claims_userinfo_would() {
    let (auth, origin) = serve().await;
    let auto = auth.provider(None).expect("the dev provider");
    assert_eq!(
        auto.config().userinfo,
        crate::server::config::Userinfo::Auto
    );
    let always = crate::server::protocol::Provider::new(
        ProviderConfig {
            userinfo: crate::server::config::Userinfo::Always,
            ..auto.config().clone()
        },
        &Url::parse(&format!("{origin}/oauth2callback")).expect("a URL"),
        crate::server::protocol::Provider::http_client(std::time::Duration::from_secs(5))
            .expect("a client"),
    );
    let with_userinfo = ada_through(&always).await;
    assert_eq!(with_userinfo["email"], "ada@example.com");
    assert_eq!(ada_through(auto).await, with_userinfo);
}

/// ES256, because a P-256 key is made at once in a debug build where an RSA key took seconds;
/// what it advertises, publishes and signs with must agree, or no app could verify it.
#[tokio::test]
async fn it_signs_with_the_es256_key_it_advertises() {
    let (auth, origin) = serve().await;
    let get_json = |path: &str| {
        let url = format!("{origin}{MOUNT}{path}");
        async move {
            let response = browser().get(url).send().await.expect("get");
            let body = response.bytes().await.expect("body");
            serde_json::from_slice::<Value>(&body).expect("json")
        }
    };
    let metadata = get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        metadata["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    let jwks = get_json("/jwks").await;
    let [key] = jwks["keys"].as_array().expect("keys").as_slice() else {
        panic!("one key: {jwks}");
    };
    assert_eq!((&key["kty"], &key["crv"]), (&"EC".into(), &"P-256".into()));
    assert!(
        key.get("d").is_none(),
        "the private part never leaves: {key}"
    );

    let provider = auth.provider(None).expect("the dev provider");
    let authorization = provider.authorize().await.expect("discovery");
    let back = sign_in_as(&authorization.url, "Ada Lovelace", "ada@example.com").await;
    let idp = auth.dev_provider().expect("the dev provider's state");
    let response = browser()
        .post(format!("{origin}{MOUNT}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &param(&back, "code").expect("code")),
            ("redirect_uri", &format!("{origin}/oauth2callback")),
            ("code_verifier", &authorization.pkce_verifier),
            ("client_id", CLIENT_ID),
            ("client_secret", idp.client_secret()),
        ])
        .send()
        .await
        .expect("token request");
    let tokens: Value =
        serde_json::from_slice(&response.bytes().await.expect("body")).expect("json");
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let header = id_token.split('.').next().expect("a header");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("base64url"),
    )
    .expect("json");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], key["kid"]);
}
