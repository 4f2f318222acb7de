//! A real OpenID provider inside the development server (feature `dev-idp`), so that the
//! first `cargo leptos watch` of a fresh clone shows a working "Log in" with no configuration.
//!
//! The app signs in through it over HTTP exactly as through Google: discovery, the
//! authorization page, the token endpoint (PKCE checked), RS256-signed ID tokens, userinfo.
//! It trusts whoever uses it, so it never runs in a release build unless explicitly allowed.
mod page;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use base64::Engine as _;
use openidconnect::{
    AccessToken, Audience, AuthUrl, AuthorizationCode, CsrfToken, EmptyAdditionalClaims,
    EmptyAdditionalProviderMetadata, EmptyExtraTokenFields, EndUserEmail, EndUserName,
    EndUserPictureUrl, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId, JsonWebKeySet,
    JsonWebKeySetUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey, ResponseTypes,
    Scope, StandardClaims, SubjectIdentifier, TokenUrl, UserInfoClaims, UserInfoUrl,
    core::{
        CoreIdTokenFields, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
        CoreRsaPrivateSigningKey, CoreSubjectIdentifierType, CoreTokenResponse, CoreTokenType,
    },
};
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::config::{AuthConfig, ProviderConfig, Secret};

/// Where the provider is served on the app's own server.
pub const MOUNT: &str = "/dev-idp";
const CLIENT_ID: &str = "leptos-auth-dev";
/// Cookies in development need no secrecy: anyone may sign in as anyone here. A fixed value
/// keeps developers signed in across the restarts of `cargo leptos watch`.
const COOKIE_SECRET: &str = "leptos-auth development provider: not a secret, never for production";
const CODE_LIFETIME: Duration = Duration::from_secs(60);
const TOKEN_LIFETIME: Duration = Duration::from_secs(600);
const KEY_ID: &str = "dev-idp-rs256";

/// The test users the sign-in page offers (name, email); any other can be typed in.
pub const TEST_USERS: [(&str, &str); 3] = [
    ("Ada Lovelace", "ada@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Grace Hopper", "grace@example.com"),
];

/// Why the development provider could not start.
#[derive(Debug, thiserror::Error)]
#[error("the development sign-in provider cannot start: {0}")]
pub struct DevIdpError(String);

/// The provider's state: its signing key, and the codes and tokens it has handed out.
pub struct DevIdp {
    issuer: String,
    redirect_uri: String,
    client_secret: String,
    key: CoreRsaPrivateSigningKey,
    jwks: Value,
    metadata: Value,
    grants: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, (Person, Instant)>>,
}

/// Someone to sign in as.
#[derive(Clone, Debug, Deserialize)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// Why an authorization request is refused.
enum Refusal {
    /// The client or redirect URI is not the app's: say so here, send nobody anywhere.
    NotThisApp,
    /// Tell the app, with an OAuth error code and description.
    BackToApp(&'static str, &'static str),
}

/// A code handed out by the authorization page and not yet redeemed.
struct Grant {
    person: Person,
    nonce: Option<String>,
    code_challenge: String,
    redirect_uri: String,
    issued: Instant,
}

impl DevIdp {
    /// Starts the provider for an app served on `site_addr`, and the configuration that
    /// points the app at it (the same `AuthConfig` a secrets file would give).
    pub fn start(site_addr: SocketAddr) -> Result<(Arc<Self>, AuthConfig), DevIdpError> {
        let host = match site_addr.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            std::net::IpAddr::V4(ip) => ip.to_string(),
        };
        let origin = format!("http://{host}:{}", site_addr.port());
        let issuer = format!("{origin}{MOUNT}");
        let redirect_uri = format!("{origin}/oauth2callback");
        let client_secret = CsrfToken::new_random().into_secret();
        let key = signing_key()?;
        let jwks = serde_json::to_value(JsonWebKeySet::new(vec![key.as_verification_key()]))
            .map_err(|error| DevIdpError(error.to_string()))?;
        let metadata = discovery_document(&issuer)?;
        let config = AuthConfig {
            redirect_uri: parse_url(&redirect_uri)?,
            cookie_secret: Secret::new(COOKIE_SECRET),
            previous_cookie_secrets: Vec::new(),
            // The same server, as a developer may well type it.
            trusted_origins: vec![parse_url(&format!(
                "http://localhost:{}/",
                site_addr.port()
            ))?],
            providers: vec![ProviderConfig {
                name: None,
                client_id: CLIENT_ID.to_owned(),
                client_secret: Secret::new(client_secret.clone()),
                server_metadata_url: parse_url(&format!(
                    "{issuer}/.well-known/openid-configuration"
                ))?,
                issuer: issuer.clone(),
                auth_params: Default::default(),
            }],
        };
        let idp = Arc::new(Self {
            issuer,
            redirect_uri,
            client_secret,
            key,
            jwks,
            metadata,
            grants: Mutex::default(),
            tokens: Mutex::default(),
        });
        Ok((idp, config))
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    #[cfg(test)]
    pub(crate) fn client_secret(&self) -> &str {
        &self.client_secret
    }

    #[cfg(test)]
    pub(crate) fn access_tokens(&self) -> Vec<String> {
        lock(&self.tokens).keys().cloned().collect()
    }

    /// The provider's endpoints, to be served under [`MOUNT`].
    pub fn router(self: &Arc<Self>) -> Router {
        let routes = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize_page).post(authorize))
            .route("/token", axum::routing::post(token))
            .route("/userinfo", get(userinfo))
            .route("/avatar/{initials}", get(avatar))
            .with_state(self.clone());
        Router::new().nest(MOUNT, routes)
    }

    fn issue_code(&self, request: &AuthorizeRequest, person: Person) -> String {
        let code = CsrfToken::new_random().into_secret();
        let grant = Grant {
            person,
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone().unwrap_or_default(),
            redirect_uri: request.redirect_uri.clone(),
            issued: Instant::now(),
        };
        let mut grants = lock(&self.grants);
        grants.retain(|_, grant| grant.issued.elapsed() < CODE_LIFETIME);
        grants.insert(code.clone(), grant);
        code
    }

    fn claims_of(&self, person: &Person) -> StandardClaims<openidconnect::core::CoreGenderClaim> {
        let initials: String = person
            .name
            .split_whitespace()
            .filter_map(|word| word.chars().next())
            .filter(char::is_ascii_alphanumeric)
            .take(2)
            .collect();
        let picture = (!initials.is_empty())
            .then(|| EndUserPictureUrl::new(format!("{}/avatar/{initials}", self.issuer)));
        StandardClaims::new(SubjectIdentifier::new(subject_of(person)))
            .set_name(Some(EndUserName::new(person.name.clone()).into()))
            .set_email(Some(EndUserEmail::new(person.email.clone())))
            .set_email_verified(Some(true))
            .set_picture(picture.map(Into::into))
    }
}

/// The same person always gets the same subject, as with a real provider.
fn subject_of(person: &Person) -> String {
    format!("dev:{}", person.email.trim().to_lowercase())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these maps half-written; carry on with them.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn parse_url(text: &str) -> Result<Url, DevIdpError> {
    Url::parse(text).map_err(|error| DevIdpError(format!("{text}: {error}")))
}

/// An RSA key made at start-up, in the PEM form openidconnect's signer takes.
fn signing_key() -> Result<CoreRsaPrivateSigningKey, DevIdpError> {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .map_err(|error| DevIdpError(format!("cannot make a signing key: {error}")))?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .map_err(|error| DevIdpError(format!("cannot encode the signing key: {error}")))?;
    CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(KEY_ID.to_owned())))
        .map_err(DevIdpError)
}

fn discovery_document(issuer: &str) -> Result<Value, DevIdpError> {
    let url = |path: &str| format!("{issuer}{path}");
    let invalid = |error: openidconnect::url::ParseError| DevIdpError(error.to_string());
    let metadata = CoreProviderMetadata::new(
        IssuerUrl::new(issuer.to_owned()).map_err(invalid)?,
        AuthUrl::new(url("/authorize")).map_err(invalid)?,
        JsonWebKeySetUrl::new(url("/jwks")).map_err(invalid)?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
        EmptyAdditionalProviderMetadata {},
    )
    .set_token_endpoint(Some(TokenUrl::new(url("/token")).map_err(invalid)?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(url("/userinfo")).map_err(invalid)?))
    .set_scopes_supported(Some(
        ["openid", "email", "profile"]
            .map(|scope| Scope::new(scope.to_owned()))
            .to_vec(),
    ));
    serde_json::to_value(metadata).map_err(|error| DevIdpError(error.to_string()))
}

async fn discovery(State(idp): State<Arc<DevIdp>>) -> Json<Value> {
    Json(idp.metadata.clone())
}

async fn jwks(State(idp): State<Arc<DevIdp>>) -> Json<Value> {
    Json(idp.jwks.clone())
}

/// The authorization request, as the app sends it and as the page posts it back.
#[derive(Clone, Debug, Deserialize)]
struct AuthorizeRequest {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

impl DevIdp {
    /// An unknown client or redirect URI gets a page here, never a redirect (RFC 6749 §4.1.2.1);
    /// other problems go back to the app as `error=`.
    fn check(&self, request: &AuthorizeRequest) -> Result<(), Refusal> {
        if request.client_id != CLIENT_ID || request.redirect_uri != self.redirect_uri {
            Err(Refusal::NotThisApp)
        } else if request.response_type != "code" {
            Err(Refusal::BackToApp(
                "unsupported_response_type",
                "only the code flow is supported",
            ))
        } else if request.code_challenge.is_none()
            || request.code_challenge_method.as_deref() != Some("S256")
        {
            Err(Refusal::BackToApp(
                "invalid_request",
                "PKCE with S256 is required",
            ))
        } else {
            Ok(())
        }
    }

    fn refuse(&self, request: &AuthorizeRequest, refusal: Refusal) -> Response {
        match refusal {
            Refusal::NotThisApp => {
                let page = page::error("This sign-in request does not come from this app.");
                (StatusCode::BAD_REQUEST, Html(page)).into_response()
            }
            Refusal::BackToApp(error, description) => self.back_to_app(
                request,
                &[("error", error), ("error_description", description)],
            ),
        }
    }

    fn back_to_app(&self, request: &AuthorizeRequest, params: &[(&str, &str)]) -> Response {
        let Ok(mut url) = Url::parse(&request.redirect_uri) else {
            return (
                StatusCode::BAD_REQUEST,
                Html(page::error("Invalid redirect URI.")),
            )
                .into_response();
        };
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                query.append_pair(name, value);
            }
            if let Some(state) = &request.state {
                query.append_pair("state", state);
            }
        }
        Redirect::to(url.as_str()).into_response()
    }
}

async fn authorize_page(
    State(idp): State<Arc<DevIdp>>,
    Query(request): Query<AuthorizeRequest>,
) -> Response {
    if let Err(refusal) = idp.check(&request) {
        return idp.refuse(&request, refusal);
    }
    let cancel = idp.back_to_app(
        &request,
        &[
            ("error", "access_denied"),
            ("error_description", "cancelled at the development provider"),
        ],
    );
    let cancel_href = cancel
        .headers()
        .get(header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .unwrap_or("/")
        .to_owned();
    Html(page::sign_in(&request, &cancel_href)).into_response()
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(flatten)]
    request: AuthorizeRequest,
    #[serde(flatten)]
    person: Person,
}

async fn authorize(State(idp): State<Arc<DevIdp>>, Form(form): Form<SignInForm>) -> Response {
    if let Err(refusal) = idp.check(&form.request) {
        return idp.refuse(&form.request, refusal);
    }
    let person = Person {
        name: form.person.name.trim().to_owned(),
        email: form.person.email.trim().to_owned(),
    };
    if person.name.is_empty() || !person.email.contains('@') {
        let page = page::error("Give a name and an email address to sign in as.");
        return (StatusCode::BAD_REQUEST, Html(page)).into_response();
    }
    let code = idp.issue_code(&form.request, person);
    idp.back_to_app(&form.request, &[("code", &code)])
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    code_verifier: String,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": error, "error_description": description });
    (status, Json(body)).into_response()
}

async fn token(
    State(idp): State<Arc<DevIdp>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if !idp.client_authenticated(&headers, &form) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    if form.grant_type != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    // A code is good once, and only for a minute.
    let grant = lock(&idp.grants).remove(&form.code);
    let Some(grant) = grant.filter(|grant| grant.issued.elapsed() < CODE_LIFETIME) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown, used or expired code",
        );
    };
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(form.code_verifier));
    if grant.redirect_uri != form.redirect_uri || challenge.as_str() != grant.code_challenge {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri or code_verifier does not match",
        );
    }
    match idp.tokens_for(&grant, &form.code) {
        Ok(response) => ([(header::CACHE_CONTROL, "no-store")], Json(response)).into_response(),
        Err(error) => oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &error.to_string(),
        ),
    }
}

impl DevIdp {
    /// `client_secret_basic` (what openidconnect sends) or `client_secret_post`.
    fn client_authenticated(&self, headers: &HeaderMap, form: &TokenForm) -> bool {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Basic "))
            .and_then(|encoded| {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()
            })
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .and_then(|pair| {
                let (id, secret) = pair.split_once(':')?;
                let decode = |text: &str| {
                    url::form_urlencoded::parse(format!("v={text}").as_bytes())
                        .next()
                        .map(|(_, value)| value.into_owned())
                };
                Some((decode(id)?, decode(secret)?))
            });
        let (id, secret) = match basic {
            Some(pair) => pair,
            None => match (&form.client_id, &form.client_secret) {
                (Some(id), Some(secret)) => (id.clone(), secret.clone()),
                _ => return false,
            },
        };
        id == CLIENT_ID && secret == self.client_secret
    }

    fn tokens_for(&self, grant: &Grant, code: &str) -> Result<CoreTokenResponse, DevIdpError> {
        let access_token = AccessToken::new(CsrfToken::new_random().into_secret());
        let now = chrono::Utc::now();
        let lifetime = chrono::Duration::from_std(TOKEN_LIFETIME)
            .map_err(|error| DevIdpError(error.to_string()))?;
        let claims = IdTokenClaims::new(
            IssuerUrl::new(self.issuer.clone()).map_err(|error| DevIdpError(error.to_string()))?,
            vec![Audience::new(CLIENT_ID.to_owned())],
            now + lifetime,
            now,
            self.claims_of(&grant.person),
            EmptyAdditionalClaims {},
        )
        .set_nonce(grant.nonce.clone().map(Nonce::new));
        let id_token = IdToken::new(
            claims,
            &self.key,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Some(&access_token),
            Some(&AuthorizationCode::new(code.to_owned())),
        )
        .map_err(|error| DevIdpError(error.to_string()))?;
        {
            let mut tokens = lock(&self.tokens);
            tokens.retain(|_, (_, issued)| issued.elapsed() < TOKEN_LIFETIME);
            tokens.insert(
                access_token.secret().clone(),
                (grant.person.clone(), Instant::now()),
            );
        }
        let mut response = CoreTokenResponse::new(
            access_token,
            CoreTokenType::Bearer,
            CoreIdTokenFields::new(Some(id_token), EmptyExtraTokenFields {}),
        );
        response.set_expires_in(Some(&TOKEN_LIFETIME));
        Ok(response)
    }
}

async fn userinfo(State(idp): State<Arc<DevIdp>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let person = token.and_then(|token| {
        lock(&idp.tokens)
            .get(token)
            .filter(|(_, issued)| issued.elapsed() < TOKEN_LIFETIME)
            .map(|(person, _)| person.clone())
    });
    match person {
        Some(person) => {
            let claims: UserInfoClaims<EmptyAdditionalClaims, _> =
                UserInfoClaims::new(idp.claims_of(&person), EmptyAdditionalClaims {});
            Json(claims).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response(),
    }
}

/// A round badge with the person's initials, so the `picture` claim points somewhere real.
async fn avatar(Path(initials): Path<String>) -> Response {
    let initials: String = initials
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(2)
        .collect();
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\">\
         <circle cx=\"32\" cy=\"32\" r=\"32\" fill=\"#6f42c1\"/>\
         <text x=\"32\" y=\"41\" font-family=\"sans-serif\" font-size=\"26\" fill=\"#fff\" \
         text-anchor=\"middle\">{initials}</text></svg>"
    );
    ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
}

#[cfg(test)]
mod tests;
