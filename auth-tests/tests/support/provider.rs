//! A programmable OpenID provider on a loopback port: discovery, JWKS, token and userinfo
//! endpoints that answer whatever the test scripted, and count and record every request.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicUsize, Ordering},
    },
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
    Revocation,
    /// The pushed authorization request endpoint (RFC 9126), `/par`: advertised only when a
    /// test says (`advertise_par`).
    Par,
}

/// One request the provider received.
#[derive(Clone, Debug)]
pub struct Hit {
    pub endpoint: Endpoint,
    /// Path and query, as sent.
    pub uri: String,
    pub authorization: Option<String>,
    /// The `DPoP` header (a proof, RFC 9449), if the request had one.
    #[allow(dead_code)]
    pub dpop: Option<String>,
    pub body: String,
}

impl Hit {
    /// A parameter of the request's form body (`application/x-www-form-urlencoded`).
    #[allow(dead_code)]
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// Whether this is a token request for the refresh grant.
    #[allow(dead_code)]
    pub fn is_refresh(&self) -> bool {
        self.endpoint == Endpoint::Token
            && url::form_urlencoded::parse(self.body.as_bytes())
                .any(|(key, value)| key == "grant_type" && value == "refresh_token")
    }
}

/// How the token endpoint answers the refresh grant (`grant_type=refresh_token`).
#[derive(Default)]
struct RefreshScript {
    /// Members merged into refresh answers after `Script::token_members` (`null` removes).
    members: Map<String, Value>,
    /// When set, refresh requests get this status and body (e.g. 400 `invalid_grant`).
    error: Option<(StatusCode, String)>,
    /// The ID token refresh answers carry (none by default).
    id_token: Option<String>,
    /// Each refresh answer waits this long first.
    delay: Duration,
    /// Each refresh answer hands out a new refresh token, `rotated-N`.
    rotate: bool,
    /// Reuse detection (OAuth 2.0 Security BCP 4.14.2): a refresh token already exchanged in
    /// a rotating answer is refused with `invalid_grant`.
    refuse_spent: bool,
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
    /// When set, code exchanges get this status and JSON body (e.g. 401 `invalid_client`).
    token_error: Option<(StatusCode, Value)>,
    userinfo: Value,
    /// When set, userinfo answers this status and JSON body (e.g. 401 `invalid_token`).
    userinfo_error: Option<(StatusCode, Value)>,
    /// `Cache-Control` of the discovery and JWKS answers (none by default).
    cache_control: HashMap<Endpoint, String>,
    /// Members merged into every token answer, either grant (`null` removes one).
    token_members: Map<String, Value>,
    refresh: RefreshScript,
    /// When set, pushed authorization requests get this status and body as it is; otherwise
    /// 201 with a fresh `request_uri` good for 60 s.
    par_answer: Option<(StatusCode, String)>,
    /// Each pushed authorization request waits this long first.
    par_delay: Duration,
    /// When set, a DPoP proof must carry this nonce: the token endpoint answers 400
    /// `use_dpop_nonce` and userinfo 401, each with the `DPoP-Nonce` header, otherwise.
    dpop_nonce: Option<String>,
}

struct Shared {
    issuer: String,
    access_token: String,
    script: Mutex<Script>,
    hits: Mutex<Vec<Hit>>,
    /// Refresh requests so far (each answered or refused).
    refreshes: AtomicUsize,
    /// Refresh tokens exchanged for rotated ones.
    spent: Mutex<HashSet<String>>,
    /// `false` while revocation requests are held unanswered (`hold_revocations`).
    revocations_open: tokio::sync::watch::Sender<bool>,
    /// Revocation requests answered so far.
    revocations_answered: AtomicUsize,
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
                token_error: None,
                userinfo: json!({ "sub": super::SUBJECT }),
                userinfo_error: None,
                cache_control: HashMap::new(),
                token_members: Map::new(),
                refresh: RefreshScript::default(),
                par_answer: None,
                par_delay: Duration::ZERO,
                dpop_nonce: None,
            }),
            hits: Mutex::new(Vec::new()),
            refreshes: AtomicUsize::new(0),
            spent: Mutex::new(HashSet::new()),
            revocations_open: tokio::sync::watch::Sender::new(true),
            revocations_answered: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route(
                "/common/v2.0/.well-known/openid-configuration",
                get(multi_tenant_discovery),
            )
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/revoke", post(revoke))
            .route("/par", post(par))
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

    /// A multi-tenant discovery document, as Entra's `common`: the same endpoints and keys,
    /// with the issuer `{issuer}/{tenantid}/v2.0` (a template).
    #[allow(dead_code)]
    pub fn multi_tenant_discovery_url(&self) -> String {
        format!(
            "{}/common/v2.0/.well-known/openid-configuration",
            self.shared.issuer
        )
    }

    /// The issuer of tenant `tid` at the multi-tenant document's template.
    #[allow(dead_code)]
    pub fn tenant_issuer(&self, tid: &str) -> String {
        format!("{}/{tid}/v2.0", self.shared.issuer)
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

    /// Code exchanges are answered `status` with this JSON body (`None`: answered again).
    #[allow(dead_code)]
    pub fn fail_token(&self, failure: Option<(StatusCode, Value)>) {
        lock(&self.shared.script).token_error = failure;
    }

    /// Members merged into every token answer, code or refresh grant (`null` removes one):
    /// e.g. `{"refresh_token": "…", "expires_in": 30}`. Replaces the previous set.
    #[allow(dead_code)]
    pub fn set_token_members(&self, members: Value) {
        lock(&self.shared.script).token_members = object(members);
    }

    pub fn set_userinfo(&self, claims: Value) {
        lock(&self.shared.script).userinfo = claims;
    }

    /// Userinfo answers `failure` (a status and JSON body) from now on; `None`: the claims.
    // Only refresh.rs fails userinfo; hostile_provider.rs builds this module too.
    #[allow(dead_code)]
    pub fn fail_userinfo(&self, failure: Option<(StatusCode, Value)>) {
        lock(&self.shared.script).userinfo_error = failure;
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

    /// Waits (a few seconds at most) until `endpoint` has had `count` requests: for calls the
    /// app makes on a task of its own, after its answer.
    #[allow(dead_code)]
    pub async fn wait_for_hits(&self, endpoint: Endpoint, count: usize) {
        for _ in 0..500 {
            if self.hits(endpoint) >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "expected {count} requests to {endpoint:?}; got {:?}",
            self.hit_counts()
        );
    }

    /// Revocation requests are held unanswered until this is called with `false`.
    #[allow(dead_code)]
    pub fn hold_revocations(&self, hold: bool) {
        self.shared.revocations_open.send_replace(!hold);
    }

    /// How many revocation requests were answered.
    #[allow(dead_code)]
    pub fn revocations_answered(&self) -> usize {
        self.shared.revocations_answered.load(Ordering::SeqCst)
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

/// Pushed authorization requests (RFC 9126).
#[allow(dead_code)]
impl FakeProvider {
    /// Where the fake takes pushed authorization requests.
    pub fn par_endpoint(&self) -> String {
        format!("{}/par", self.shared.issuer)
    }

    /// Discovery names the PAR endpoint, and with `required` says every login must use it
    /// (`require_pushed_authorization_requests`).
    pub fn advertise_par(&self, required: bool) {
        self.advertise(
            "pushed_authorization_request_endpoint",
            Value::from(self.par_endpoint()),
        );
        self.advertise(
            "require_pushed_authorization_requests",
            Value::from(required),
        );
    }

    /// Pushed authorization requests are answered `status` with `body` as it is (`None`: 201
    /// with a fresh `request_uri` again).
    pub fn set_par_answer(&self, answer: Option<(StatusCode, &str)>) {
        lock(&self.shared.script).par_answer =
            answer.map(|(status, body)| (status, body.to_owned()));
    }

    /// Each pushed authorization request waits this long first.
    pub fn require_dpop_nonce(&self, nonce: Option<&str>) {
        lock(&self.shared.script).dpop_nonce = nonce.map(str::to_owned);
    }

    pub fn set_par_delay(&self, delay: Duration) {
        lock(&self.shared.script).par_delay = delay;
    }
}

/// The `request_uri` the N-th pushed authorization request (from 1) is answered with.
pub fn request_uri(n: usize) -> String {
    format!("urn:ietf:params:oauth:request_uri:fake-{n}")
}

/// The refresh grant (`grant_type=refresh_token`): answered with `{access}-refreshed-N`
/// (N counts refresh requests from 1), `expires_in` 300, then the token members, the rotated
/// refresh token and the refresh members; no ID token and no new refresh token unless
/// scripted.
#[allow(dead_code)]
impl FakeProvider {
    /// Members merged into refresh answers after the token members (`null` removes one).
    pub fn set_refresh_members(&self, members: Value) {
        lock(&self.shared.script).refresh.members = object(members);
    }

    /// Refresh requests are answered `status` with this JSON body (`None`: answered again).
    pub fn fail_refresh(&self, failure: Option<(StatusCode, Value)>) {
        lock(&self.shared.script).refresh.error =
            failure.map(|(status, body)| (status, body.to_string()));
    }

    /// Refresh requests are answered `status` with this body as it is (not JSON, maybe).
    pub fn fail_refresh_raw(&self, status: StatusCode, body: &str) {
        lock(&self.shared.script).refresh.error = Some((status, body.to_owned()));
    }

    /// The ID token refresh answers carry (`None`: none).
    pub fn set_refresh_id_token(&self, token: Option<String>) {
        lock(&self.shared.script).refresh.id_token = token;
    }

    /// Each refresh answer waits this long first.
    pub fn set_refresh_delay(&self, delay: Duration) {
        lock(&self.shared.script).refresh.delay = delay;
    }

    /// Each refresh answer carries a new refresh token, `rotated-N`.
    pub fn rotate_refresh_tokens(&self, rotate: bool) {
        lock(&self.shared.script).refresh.rotate = rotate;
    }

    /// With rotation on, a refresh token sent a second time is refused (`invalid_grant`), as
    /// providers with reuse detection do.
    pub fn refuse_spent_refresh_tokens(&self, refuse: bool) {
        lock(&self.shared.script).refresh.refuse_spent = refuse;
    }

    /// The access token the N-th refresh request (from 1) is answered with.
    pub fn refreshed_access_token(&self, n: usize) -> String {
        refreshed_access_token(&self.shared.access_token, n)
    }

    /// The token requests of the refresh grant, in order.
    pub fn refresh_requests(&self) -> Vec<Hit> {
        self.requests(Endpoint::Token)
            .into_iter()
            .filter(Hit::is_refresh)
            .collect()
    }
}

#[allow(dead_code)]
fn object(members: Value) -> Map<String, Value> {
    match members {
        Value::Object(members) => members,
        other => panic!("members must be a JSON object, not {other}"),
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
            dpop: headers
                .get("DPoP")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            body: String::from_utf8_lossy(body).into_owned(),
        });
    }

    /// The request's DPoP proof checked for `htm` at this provider's `path` (`None` when it
    /// has none), or the refusal to answer: a bad proof, or no nonce when one is required
    /// (the token endpoint's 400 and a resource's 401 of RFC 9449 §8, §9).
    fn dpop_check(
        &self,
        headers: &HeaderMap,
        htm: &str,
        path: &str,
        access_token: Option<&str>,
    ) -> Result<Option<super::dpop::Proof>, Box<Response>> {
        let Some(proof) = headers.get("DPoP").and_then(|value| value.to_str().ok()) else {
            return Ok(None);
        };
        let resource = access_token.is_some();
        let refuse = |error: &str, nonce: Option<&str>| {
            let mut answer = if resource {
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, format!("DPoP error=\"{error}\""))],
                )
                    .into_response()
            } else {
                (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
            };
            if let Some(nonce) = nonce {
                answer
                    .headers_mut()
                    .insert("DPoP-Nonce", nonce.parse().expect("a header value"));
            }
            Box::new(answer)
        };
        let htu = format!("{}{path}", self.issuer);
        let checked = super::dpop::verify(proof, htm, &htu, access_token)
            .map_err(|_| refuse("invalid_dpop_proof", None))?;
        let wanted = lock(&self.script).dpop_nonce.clone();
        if let Some(wanted) = wanted
            && checked.nonce() != Some(wanted.as_str())
        {
            return Err(refuse("use_dpop_nonce", Some(&wanted)));
        }
        Ok(Some(checked))
    }

    /// The discovery document naming `issuer` (overrides win, `issuer` among them).
    fn discovery_document(&self, named_issuer: &str) -> Value {
        let issuer = &self.issuer;
        let mut document = json!({
            "issuer": named_issuer,
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
    let issuer = shared.issuer.clone();
    discovery_naming(&shared, &issuer, &uri, &headers)
}

async fn multi_tenant_discovery(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let template = format!("{}/{{tenantid}}/v2.0", shared.issuer);
    discovery_naming(&shared, &template, &uri, &headers)
}

fn discovery_naming(shared: &Shared, issuer: &str, uri: &Uri, headers: &HeaderMap) -> Response {
    shared.record(Endpoint::Discovery, uri, headers, &[]);
    let (failure, cache_control) = {
        let script = lock(&shared.script);
        let cache_control = script.cache_control.get(&Endpoint::Discovery).cloned();
        (script.discovery_status, cache_control)
    };
    match failure {
        Some(status) => (status, "unavailable").into_response(),
        None => with_cache_control(cache_control, Json(shared.discovery_document(issuer))),
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
    // A request with a good proof gets a DPoP-bound token (RFC 9449 §5).
    let token_type = match shared.dpop_check(&headers, "POST", "/token", None) {
        Err(refusal) => return *refusal,
        Ok(Some(_)) => "DPoP",
        Ok(None) => "Bearer",
    };
    let refresh = url::form_urlencoded::parse(&body)
        .any(|(key, value)| key == "grant_type" && value == "refresh_token");
    if refresh {
        return refresh_grant(&shared, &body, token_type).await;
    }
    let (delay, id_token, members, error) = {
        let script = lock(&shared.script);
        (
            script.token_delay,
            script.id_token.clone(),
            script.token_members.clone(),
            script.token_error.clone(),
        )
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some((status, body)) = error {
        return (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response();
    }
    let mut answer = json!({
        "access_token": shared.access_token,
        "token_type": token_type,
        "expires_in": 300,
    });
    if let Some(id_token) = id_token {
        answer["id_token"] = Value::from(id_token);
    }
    merge(&mut answer, &members);
    ([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response()
}

/// The N-th refresh request's answer: access token `{access}-refreshed-N`, the scripted
/// members, ID token and rotation; or the scripted error. Waits the refresh delay first.
async fn refresh_grant(shared: &Shared, body: &[u8], token_type: &str) -> Response {
    let n = shared.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
    let sent = url::form_urlencoded::parse(body)
        .find(|(key, _)| key == "refresh_token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let (delay, error, id_token, rotate, token_members, refresh_members) = {
        let script = lock(&shared.script);
        let spent = if script.refresh.rotate {
            !lock(&shared.spent).insert(sent)
        } else {
            false
        };
        let reuse = (script.refresh.refuse_spent && spent).then(|| {
            let refusal = json!({
                "error": "invalid_grant",
                "error_description": "refresh token reused",
            });
            (StatusCode::BAD_REQUEST, refusal.to_string())
        });
        (
            script.refresh.delay,
            reuse.or_else(|| script.refresh.error.clone()),
            script.refresh.id_token.clone(),
            script.refresh.rotate,
            script.token_members.clone(),
            script.refresh.members.clone(),
        )
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some((status, body)) = error {
        return (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response();
    }
    let mut answer = json!({
        "access_token": refreshed_access_token(&shared.access_token, n),
        "token_type": token_type,
        "expires_in": 300,
    });
    if let Some(id_token) = id_token {
        answer["id_token"] = Value::from(id_token);
    }
    merge(&mut answer, &token_members);
    if rotate {
        answer["refresh_token"] = Value::from(format!("rotated-{n}"));
    }
    merge(&mut answer, &refresh_members);
    ([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response()
}

fn refreshed_access_token(access_token: &str, n: usize) -> String {
    format!("{access_token}-refreshed-{n}")
}

/// Sets `members` in `answer`; a `null` member removes it.
fn merge(answer: &mut Value, members: &Map<String, Value>) {
    let answer = answer.as_object_mut().expect("an object");
    for (name, value) in members {
        if value.is_null() {
            answer.remove(name);
        } else {
            answer.insert(name.clone(), value.clone());
        }
    }
}

/// RFC 7009: always 200 (as the RFC asks even for unknown tokens); tests read the hits.
async fn revoke(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.record(Endpoint::Revocation, &uri, &headers, &body);
    let mut open = shared.revocations_open.subscribe();
    let _ = open.wait_for(|open| *open).await;
    shared.revocations_answered.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK.into_response()
}

/// RFC 9126 §2.2: 201 with `request_uri` (numbered by request) and `expires_in`, unless the
/// test scripted another answer. Tests read what was pushed from the hits.
async fn par(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.record(Endpoint::Par, &uri, &headers, &body);
    let n = lock(&shared.hits)
        .iter()
        .filter(|hit| hit.endpoint == Endpoint::Par)
        .count();
    let (answer, delay) = {
        let script = lock(&shared.script);
        (script.par_answer.clone(), script.par_delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match answer {
        Some((status, body)) => (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        None => (
            StatusCode::CREATED,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({ "request_uri": request_uri(n), "expires_in": 60 })),
        )
            .into_response(),
    }
}

async fn userinfo(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    shared.record(Endpoint::Userinfo, &uri, &headers, &[]);
    // A DPoP-bound token comes as `Authorization: DPoP …` with a proof naming it (`ath`).
    let dpop_token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("DPoP "))
        .map(str::to_owned);
    if let Some(token) = dpop_token {
        match shared.dpop_check(&headers, "GET", "/userinfo", Some(&token)) {
            Err(refusal) => return *refusal,
            Ok(Some(_)) => {}
            Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        }
    }
    let script = lock(&shared.script);
    if let Some((status, body)) = &script.userinfo_error {
        return (*status, Json(body.clone())).into_response();
    }
    Json(script.userinfo.clone()).into_response()
}
