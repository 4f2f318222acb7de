//! A programmable OpenID provider on a loopback port: discovery, JWKS, token and userinfo
//! endpoints that answer whatever the test scripted, and count and record every request.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Discovery,
    Jwks,
    Authorize,
    Token,
    Userinfo,
}

/// One request the provider received.
#[derive(Clone, Debug)]
pub struct Hit {
    pub endpoint: Endpoint,
    /// Path and query, as sent.
    pub uri: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// What the provider answers; tests change it between requests.
struct Script {
    /// Members replacing (or, when `null`, removing) those of the default discovery document.
    discovery_overrides: Map<String, Value>,
    /// When set, discovery fails with this status.
    discovery_status: Option<StatusCode>,
    jwks_status: Option<StatusCode>,
    jwks: Value,
    id_token: Option<String>,
    token_delay: Duration,
    userinfo: Value,
    /// `Cache-Control` of the discovery and JWKS answers (none by default).
    cache_control: HashMap<Endpoint, String>,
}

struct Shared {
    issuer: String,
    access_token: String,
    script: Mutex<Script>,
    hits: Mutex<Vec<Hit>>,
}

pub struct FakeProvider {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FakeProvider {
    /// Listens on 127.0.0.1 (a free port) with an RS256 JWKS holding `keys::RSA_A`.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("bound").port();
        let shared = Arc::new(Shared {
            issuer: format!("http://127.0.0.1:{port}"),
            access_token: format!("access-{}", super::random_token()),
            script: Mutex::new(Script {
                discovery_overrides: Map::new(),
                discovery_status: None,
                jwks_status: None,
                jwks: json!({ "keys": [super::keys::RSA_A.jwk()] }),
                id_token: None,
                token_delay: Duration::ZERO,
                userinfo: json!({ "sub": super::SUBJECT }),
                cache_control: HashMap::new(),
            }),
            hits: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            // Ends when the test drops the provider (abort) or the runtime stops.
            let _ = axum::serve(listener, router).await;
        });
        Self { shared, server }
    }

    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.shared.issuer)
    }

    /// The access token the token endpoint hands out.
    pub fn access_token(&self) -> &str {
        &self.shared.access_token
    }

    /// Replaces a member of the discovery document (`Value::Null` removes it).
    pub fn advertise(&self, name: &str, value: Value) {
        lock(&self.shared.script)
            .discovery_overrides
            .insert(name.to_owned(), value);
    }

    pub fn fail_discovery(&self, status: Option<StatusCode>) {
        lock(&self.shared.script).discovery_status = status;
    }

    /// Makes the JWKS endpoint answer with this error status (`None`: serve the keys again).
    pub fn fail_jwks(&self, status: Option<StatusCode>) {
        lock(&self.shared.script).jwks_status = status;
    }

    /// The `Cache-Control` header of `endpoint`'s answers (discovery or JWKS; `None`: none).
    pub fn set_cache_control(&self, endpoint: Endpoint, value: Option<&str>) {
        let mut script = lock(&self.shared.script);
        match value {
            Some(value) => script.cache_control.insert(endpoint, value.to_owned()),
            None => script.cache_control.remove(&endpoint),
        };
    }

    pub fn set_jwks(&self, keys: Vec<Value>) {
        lock(&self.shared.script).jwks = json!({ "keys": keys });
    }

    /// The ID token the next code exchange returns.
    pub fn set_id_token(&self, token: String) {
        lock(&self.shared.script).id_token = Some(token);
    }

    pub fn set_token_delay(&self, delay: Duration) {
        lock(&self.shared.script).token_delay = delay;
    }

    pub fn set_userinfo(&self, claims: Value) {
        lock(&self.shared.script).userinfo = claims;
    }

    pub fn hits(&self, endpoint: Endpoint) -> usize {
        self.requests(endpoint).len()
    }

    pub fn requests(&self, endpoint: Endpoint) -> Vec<Hit> {
        lock(&self.shared.hits)
            .iter()
            .filter(|hit| hit.endpoint == endpoint)
            .cloned()
            .collect()
    }

    /// Hits per endpoint, for failure messages.
    pub fn hit_counts(&self) -> HashMap<Endpoint, usize> {
        let mut counts = HashMap::new();
        for hit in lock(&self.shared.hits).iter() {
            *counts.entry(hit.endpoint).or_default() += 1;
        }
        counts
    }
}

impl Shared {
    fn record(&self, endpoint: Endpoint, uri: &Uri, headers: &HeaderMap, body: &[u8]) {
        lock(&self.hits).push(Hit {
            endpoint,
            uri: uri.to_string(),
            authorization: headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            body: String::from_utf8_lossy(body).into_owned(),
        });
    }

    fn discovery_document(&self) -> Value {
        let issuer = &self.issuer;
        let mut document = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "userinfo_endpoint": format!("{issuer}/userinfo"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        });
        let members = document.as_object_mut().expect("an object");
        for (name, value) in &lock(&self.script).discovery_overrides {
            if value.is_null() {
                members.remove(name);
            } else {
                members.insert(name.clone(), value.clone());
            }
        }
        document
    }
}

async fn discovery(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    shared.record(Endpoint::Discovery, &uri, &headers, &[]);
    let (failure, cache_control) = {
        let script = lock(&shared.script);
        let cache_control = script.cache_control.get(&Endpoint::Discovery).cloned();
        (script.discovery_status, cache_control)
    };
    match failure {
        Some(status) => (status, "unavailable").into_response(),
        None => with_cache_control(cache_control, Json(shared.discovery_document())),
    }
}

async fn jwks(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    shared.record(Endpoint::Jwks, &uri, &headers, &[]);
    let script = lock(&shared.script);
    match script.jwks_status {
        Some(status) => (status, "unavailable").into_response(),
        None => with_cache_control(
            script.cache_control.get(&Endpoint::Jwks).cloned(),
            Json(script.jwks.clone()),
        ),
    }
}

fn with_cache_control(value: Option<String>, answer: impl IntoResponse) -> Response {
    let mut response = answer.into_response();
    if let Some(value) = value.and_then(|v| header::HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

/// Never part of these tests' flows: a hit means a visitor was sent to the provider.
async fn authorize(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    shared.record(Endpoint::Authorize, &uri, &headers, &[]);
    (
        StatusCode::BAD_REQUEST,
        "the fake provider has no login page",
    )
        .into_response()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.record(Endpoint::Token, &uri, &headers, &body);
    let (delay, id_token) = {
        let script = lock(&shared.script);
        (script.token_delay, script.id_token.clone())
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut answer = json!({
        "access_token": shared.access_token,
        "token_type": "Bearer",
        "expires_in": 300,
    });
    if let Some(id_token) = id_token {
        answer["id_token"] = Value::from(id_token);
    }
    ([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response()
}

async fn userinfo(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    shared.record(Endpoint::Userinfo, &uri, &headers, &[]);
    let claims = lock(&shared.script).userinfo.clone();
    Json(claims).into_response()
}
