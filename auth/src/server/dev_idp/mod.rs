//! A real OpenID provider inside the development server (feature `dev-idp`), so that the
//! first `cargo leptos watch` of a fresh clone shows a working "Log in" with no configuration.
//!
//! The app signs in through it over HTTP exactly as through Google: discovery, the
//! authorization page, the token endpoint (PKCE checked), ES256-signed ID tokens, userinfo.
//! It trusts whoever uses it, so it never runs in a release build unless explicitly allowed.
mod authorize;
mod keys;
mod page;
mod token;

use authorize::{AuthorizeRequest, authorize, authorize_page};
use keys::{SIGNING_ALG, SigningKey, discovery, discovery_document, jwks, signing_key};
use token::{token, userinfo};

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
        CoreSubjectIdentifierType, CoreTokenResponse, CoreTokenType,
    },
};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::server::config::{AuthConfig, ProviderConfig, Secret};

/// Where the provider is served on the app's own server.
pub const MOUNT: &str = "/dev-idp";
const CLIENT_ID: &str = "leptos-auth-dev";
/// Cookies in development need no secrecy: anyone may sign in as anyone here. A fixed value
/// keeps developers signed in across the restarts of `cargo leptos watch`.
const COOKIE_SECRET: &str = "leptos-auth development provider: not a secret, never for production";
const CODE_LIFETIME: Duration = Duration::from_secs(60);
const TOKEN_LIFETIME: Duration = Duration::from_secs(600);
/// The development setup keeps its sessions in this file in `target/` (beside the server's
/// `debug/` folder), so a fresh clone has sessions the server can end with nothing to set up.
const DEV_SESSIONS_FILE: &str = "auth-dev-sessions.sqlite3";

fn dev_sessions_file() -> std::path::PathBuf {
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_owned()));
    target
        .unwrap_or_else(std::env::temp_dir)
        .join(DEV_SESSIONS_FILE)
}

/// The names a developer may open a server on this machine by.
const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

const KEY_ID: &str = "dev-idp-es256";

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
    /// The app's callback at each name of this server a developer may type: first the one
    /// the configuration's `redirect_uri` holds, then the other loopback names (one machine
    /// to a developer, hosts with cookies of their own to a browser).
    callbacks: Vec<Url>,
    client_secret: String,
    key: SigningKey,
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
    /// When the person signed in here: every sign-in at this provider is a fresh one, so a
    /// login asking `max_age` is always met.
    signed_in_at: chrono::DateTime<chrono::Utc>,
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
        let ip = site_addr.ip();
        let other_names = LOOPBACK_NAMES
            .into_iter()
            .filter(|name| (ip.is_loopback() || ip.is_unspecified()) && *name != host);
        let callbacks = std::iter::once(host.as_str())
            .chain(other_names)
            .map(|name| {
                parse_url(&format!(
                    "http://{name}:{}/oauth2callback",
                    site_addr.port()
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let client_secret = CsrfToken::new_random().into_secret();
        let key = signing_key()?;
        let jwks = serde_json::to_value(JsonWebKeySet::new(vec![key.as_verification_key()]))
            .map_err(|error| DevIdpError(error.to_string()))?;
        let metadata = discovery_document(&issuer)?;
        let config = AuthConfig {
            redirect_uri: callbacks[0].clone(),
            cookie_secret: Secret::new(COOKIE_SECRET),
            previous_cookie_secrets: Vec::new(),
            // The same server, as a developer may well type it.
            trusted_origins: callbacks[1..].to_vec(),
            providers: vec![ProviderConfig {
                name: None,
                client_id: CLIENT_ID.to_owned(),
                client_secret: Some(Secret::new(client_secret.clone())),
                client_auth: Default::default(),
                server_metadata_url: parse_url(&format!(
                    "{issuer}/.well-known/openid-configuration"
                ))?,
                issuer: issuer.clone(),
                tenants: None,
                auth_params: Default::default(),
                // Its tokens are there for server code to try `leptos_login::tokens()` with.
                expose_tokens: crate::server::config::ExposedTokens {
                    id: true,
                    access: true,
                },
                logout_at_provider: false,
                userinfo: Default::default(),
                claims_refresh_interval: None,
                login_params: crate::login_params::default_allowed(),
                use_par: false,
                dpop: false,
            }],
            backchannel_logout_path: crate::server::config::DEFAULT_BACKCHANNEL_LOGOUT_PATH
                .to_owned(),
            sessions: crate::server::config::SessionConfig {
                store: crate::server::config::StoreConfig::Sqlite(dev_sessions_file()),
                ..Default::default()
            },
        };
        let idp = Arc::new(Self {
            issuer,
            callbacks,
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

    /// The app's callback on the host a login began at (an origin), when that is another
    /// loopback name of this server: one of the fixed few, never one made from a request.
    pub fn callback_at(&self, began_at: &Url) -> Option<&Url> {
        self.callbacks[1..]
            .iter()
            .find(|callback| callback.host() == began_at.host())
    }

    fn is_callback(&self, redirect_uri: &str) -> bool {
        self.callbacks
            .iter()
            .any(|callback| callback.as_str() == redirect_uri)
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
            signed_in_at: chrono::Utc::now(),
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
