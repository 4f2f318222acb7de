//! Talking to OpenID providers: discovery (cached), the authorization URL, the code exchange
//! and every check on the ID token, all through `openidconnect`.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use http::StatusCode;
use openidconnect::{
    AccessToken, AdditionalClaims, AsyncHttpClient, AuthenticationFlow, AuthorizationCode, Client,
    ClientId, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    HttpClientError, HttpRequest, HttpResponse, IdToken, IdTokenFields, IssuerUrl, JsonWebKeySet,
    Nonce, NonceVerifier, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse as _,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType,
        CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse,
        CoreTokenType,
    },
    reqwest,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::{
    login_params::LoginParams,
    server::{
        config::{AuthMethod, ProviderConfig},
        log::outside_field,
    },
};

mod client_auth;
mod dpop;
mod logout_token;
mod par;
mod tenant;
mod token_set;
mod userinfo;
use client_auth::ClientAuthentication;
pub use client_auth::{ASSERTION_LIFETIME, ASSERTION_TYPE};
pub use dpop::DpopKey;
pub use logout_token::{
    LOGOUT_TOKEN_MAX_AGE, LOGOUT_TOKEN_REPLAY_WINDOW, LogoutClaims, LogoutTokenError,
};
pub use par::{MAX_PAR_ANSWER_BYTES, MAX_REQUEST_URI_BYTES, MAX_SHOWN_REFUSAL_CHARS};
use tenant::IssuerTemplate;
pub use tenant::TENANT_PLACEHOLDER;
pub use token_set::TokenSet;

/// How long any one call to a provider may take before the visitor sees an error page.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// A failed signature check (an unknown key id, a key that does not verify) refetches the JWKS
/// at most this often, counted from the last refetch that found no new keys or failed, so
/// forged tokens cannot make us hammer the provider. A refetch that found new keys (a real
/// rotation) does not start it: a provider rotating twice in a row is followed at once.
pub const JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(60);
/// After a failed discovery, logins fail fast for this long instead of each trying again.
pub const DISCOVERY_RETRY_AFTER: Duration = Duration::from_secs(2);
/// How long discovery and the JWKS are used before being fetched again, when the provider's
/// answer has no `Cache-Control: max-age` (or `no-cache`, `no-store`: then the minimum).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// The provider's `max-age` is honoured within these bounds.
pub const MIN_MAX_AGE: Duration = Duration::from_secs(5 * 60);
pub const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Where "now" comes from: the system's monotonic clock, or one a test moves forward.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Instant + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Instant::now))
    }

    /// A clock reading `now()` (tests: the system's plus an offset they advance).
    pub fn new(now: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    pub fn now(&self) -> Instant {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// When a provider's discovery document and keys are fetched again. [`Default`] is the
/// constants above with the system clock; tests move the clock instead of waiting.
#[derive(Clone, Debug)]
pub struct RefreshPolicy {
    /// Used when the provider sends no `max-age`.
    pub default_max_age: Duration,
    pub min_max_age: Duration,
    pub max_max_age: Duration,
    pub refetch_cooldown: Duration,
    pub discovery_retry_after: Duration,
    pub clock: Clock,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            default_max_age: DEFAULT_MAX_AGE,
            min_max_age: MIN_MAX_AGE,
            max_max_age: MAX_MAX_AGE,
            refetch_cooldown: JWKS_REFETCH_COOLDOWN,
            discovery_retry_after: DISCOVERY_RETRY_AFTER,
            clock: Clock::system(),
        }
    }
}

impl RefreshPolicy {
    /// How long an answer stays fresh: its `max-age`, or the default, within the bounds.
    fn lifetime(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .unwrap_or(self.default_max_age)
            .clamp(self.min_max_age, self.max_max_age.max(self.min_max_age))
    }
}

/// Every claim the provider sent beyond the ones `openidconnect` knows by name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for ExtraClaims {}

type ProviderIdToken = IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type ProviderTokenResponse = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;
type ProviderClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    ProviderTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery says beyond OpenID Connect Core: where to end the provider's session
/// (RP-Initiated Logout 1.0), where to revoke tokens (RFC 7009, RFC 8414's member),
/// whether every authorization response names its issuer (RFC 9207), and where to push
/// authorization requests and whether the provider takes only pushed ones (RFC 9126).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct MoreMetadata {
    pub revocation_endpoint: Option<openidconnect::RevocationUrl>,
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// Kept as text and checked only where a login pushes (see `par::endpoint`): a malformed
    /// value must not fail the discovery of a provider whose logins do not use it.
    pub pushed_authorization_request_endpoint: Option<String>,
    pub require_pushed_authorization_requests: Option<bool>,
}

impl openidconnect::AdditionalProviderMetadata for MoreMetadata {}

/// A provider's discovery document, as this crate reads it.
pub type Metadata = openidconnect::ProviderMetadata<
    openidconnect::LogoutProviderMetadata<MoreMetadata>,
    CoreAuthDisplay,
    openidconnect::core::CoreClientAuthMethod,
    openidconnect::core::CoreClaimName,
    openidconnect::core::CoreClaimType,
    openidconnect::core::CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    openidconnect::core::CoreResponseMode,
    CoreResponseType,
    openidconnect::core::CoreSubjectIdentifierType,
>;

/// Why talking to a provider failed. The `Display` text goes to the log (it never holds a
/// token or secret); [`OidcError::status`] and [`OidcError::public_message`] go to the visitor.
#[derive(Clone, Debug, thiserror::Error)]
pub enum OidcError {
    #[error("discovery at {url} failed: {reason}")]
    Discovery { url: String, reason: String },
    /// The document is there but wrong (another issuer, missing endpoints): not a passing
    /// outage, and never a reason to send the visitor there.
    #[error("the discovery document at {url} is not acceptable: {reason}")]
    BadDiscovery { url: String, reason: String },
    #[error("the code exchange at the token endpoint failed: {0}")]
    TokenExchange(String),
    /// A pushed authorization request (RFC 9126) did not reach the provider: it is down, or
    /// did not answer in time.
    #[error("the pushed authorization request to {url} failed: {reason}")]
    PushUnreachable { url: String, reason: String },
    /// The provider answered a pushed authorization request with nothing usable: no OAuth
    /// error, or a 201 without a sound `request_uri` and `expires_in`.
    #[error("the pushed authorization request to {url} failed: {reason}")]
    PushFailed { url: String, reason: String },
    /// The provider refused a pushed authorization request with an OAuth error (RFC 9126
    /// §2.3), which the visitor is shown (cut short): it says what the provider disliked.
    #[error(
        "the pushed authorization request to {url} was refused ({status}): error={} error_description={}",
        outside_field(error),
        description.as_deref().map(outside_field).unwrap_or_default()
    )]
    PushRefused {
        url: String,
        status: StatusCode,
        error: String,
        description: Option<String>,
    },
    /// This app could not prove who it is at the token endpoint: no method fits, the
    /// assertion could not be signed, or the provider refused it (`invalid_client`).
    #[error(
        "client authentication at {provider}{} failed: {reason}",
        method.map(|method| format!(" ({method})")).unwrap_or_default()
    )]
    ClientAuthentication {
        provider: String,
        method: Option<AuthMethod>,
        reason: String,
    },
    #[error("the token response holds no ID token")]
    NoIdToken,
    #[error("the ID token failed verification: {0}")]
    IdToken(String),
    #[error("userinfo failed: {0}")]
    UserInfo(String),
}

impl OidcError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Discovery { .. } | Self::BadDiscovery { .. } => StatusCode::BAD_GATEWAY,
            Self::TokenExchange(_)
            | Self::PushUnreachable { .. }
            | Self::PushFailed { .. }
            | Self::PushRefused { .. }
            | Self::ClientAuthentication { .. }
            | Self::UserInfo(_) => StatusCode::BAD_GATEWAY,
            Self::NoIdToken | Self::IdToken(_) => StatusCode::BAD_REQUEST,
        }
    }

    pub fn public_message(&self) -> String {
        let fixed = match self {
            Self::Discovery { .. } | Self::PushUnreachable { .. } => {
                "The sign-in provider cannot be reached right now. Please try again later."
            }
            Self::PushFailed { .. } => {
                "The sign-in provider did not start the sign-in properly. Please try again \
                 later; the site's administrator can find the details in its log."
            }
            Self::PushRefused {
                error, description, ..
            } => {
                return format!(
                    "The sign-in provider refused to start the sign-in: {}",
                    par::shown_refusal(error, description.as_deref())
                );
            }
            Self::BadDiscovery { .. } => {
                "The sign-in provider's configuration does not match this site's, so sign-in is \
                 unavailable. The site's administrator can find the details in its log."
            }
            Self::TokenExchange(_) => {
                "The sign-in provider did not complete the sign-in. Please start again."
            }
            Self::ClientAuthentication { .. } => {
                "The sign-in provider did not accept this site's credentials, so sign-in is \
                 unavailable. The site's administrator can find the details in its log."
            }
            Self::NoIdToken | Self::IdToken(_) => {
                "The sign-in provider's answer failed our security checks, so you were not signed in."
            }
            Self::UserInfo(_) => {
                "The sign-in provider did not confirm your profile. Please start again."
            }
        };
        fixed.to_owned()
    }
}

/// Why tokens could not be refreshed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("the session holds no refresh token")]
    NoRefreshToken,
    /// The provider said no (`invalid_grant`: revoked, expired, reused): the session is over.
    #[error("the provider refused the refresh token ({0})")]
    Refused(String),
    /// The new ID token failed its checks.
    #[error("the refreshed ID token is not acceptable: {0}")]
    IdToken(OidcError),
    /// The new ID token names someone else, or another audience or authorized party.
    #[error("the refreshed ID token changed the issuer, subject, audience or authorized party")]
    IdentityChanged,
    /// The provider could not be reached or answered nonsense: try again later.
    #[error("{0}")]
    Provider(OidcError),
    /// The app's `map_claims` refused the fresh claims; the reason is the app's words.
    #[error("the app refused the account's fresh claims: {}", crate::server::log::outside_field(.0))]
    RefusedByApp(String),
}

/// What a refresh brought: the tokens, and the claims of the new ID token when it had one
/// (checked as at sign-in; not yet merged with userinfo).
pub struct RefreshedTokens {
    pub tokens: TokenSet,
    pub id_token_claims: Option<Map<String, Value>>,
}

/// The claims an ID token or userinfo may not change for the claims read again from
/// userinfo: who issued it to whom, for which sign-in.
const ID_TOKEN_OWN_CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "at_hash",
];

/// The nonce rule for a refreshed ID token: none, or the sign-in's.
#[derive(Clone, Copy)]
struct RefreshNonce<'a>(Option<&'a str>);

impl NonceVerifier for RefreshNonce<'_> {
    fn verify(self, nonce: Option<&Nonce>) -> Result<(), String> {
        match (nonce, self.0) {
            (None, _) => Ok(()),
            (Some(got), Some(expected)) if got.secret() == expected => Ok(()),
            (Some(_), _) => Err("a nonce other than the sign-in's".to_owned()),
        }
    }
}

/// What the `login` server function needs to send the visitor away and check their return.
pub struct Authorization {
    pub url: Url,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What the callback has to hand back to finish a login.
pub struct Completion<'a> {
    pub code: String,
    pub pkce_verifier: String,
    pub nonce: &'a str,
    /// The `max_age` the login asked, in seconds: the ID token must then say when the
    /// visitor signed in (`auth_time`), and that must be no longer ago (OpenID Connect Core
    /// 3.1.2.1).
    pub max_age: Option<u64>,
}

/// Clocks differ: a provider's a little ahead still signed the visitor in recently.
const AUTH_TIME_LEEWAY_SECS: i64 = 60;

/// Whether the verified `claims` say the visitor signed in at most `max_age` seconds ago.
fn recent_enough(claims: &Map<String, Value>, max_age: u64) -> Result<(), OidcError> {
    let Some(auth_time) = claims.get("auth_time").and_then(Value::as_i64) else {
        return Err(OidcError::IdToken(
            "the ID token has no auth_time, though the login asked for max_age".to_owned(),
        ));
    };
    let age = time::OffsetDateTime::now_utc().unix_timestamp() - auth_time;
    if age
        > i64::try_from(max_age)
            .unwrap_or(i64::MAX)
            .saturating_add(AUTH_TIME_LEEWAY_SECS)
    {
        return Err(OidcError::IdToken(format!(
            "the sign-in at the provider was {age} s ago, longer than the max_age of {max_age} s the login asked"
        )));
    }
    Ok(())
}

/// Whether the verified `claims` say the visitor signed in with one of the classes a login
/// asked for (`acr_values`, space-separated). Providers may answer with another class than
/// asked (OpenID Connect Core 5.5.1.1); a login that asked for one because a page needs it
/// takes no other.
pub fn strong_enough(claims: &Map<String, Value>, acr_values: &str) -> Result<(), OidcError> {
    let acr = claims.get("acr").and_then(Value::as_str);
    if acr.is_some_and(|acr| {
        acr_values
            .split_ascii_whitespace()
            .any(|asked| asked == acr)
    }) {
        return Ok(());
    }
    Err(OidcError::IdToken(format!(
        "the sign-in's class (acr) is {}, not one of the {acr_values:?} the login asked for",
        acr.map_or_else(|| "not given".to_owned(), |acr| format!("{acr:?}"))
    )))
}

/// One configured provider, with its discovery document and JWKS cached.
///
/// Both are fetched again on a schedule (their `Cache-Control: max-age`, bounded by the
/// [`RefreshPolicy`]), lazily: the first use after expiry refreshes while other requests go
/// on with the cached copy, and a failed refresh keeps that copy. A failed signature check
/// also refetches the JWKS, at most once per cool-down (see [`JWKS_REFETCH_COOLDOWN`]).
///
/// Network calls never hold the cache's lock: the first discovery and the refreshes each
/// have a gate, so that concurrent logins share one fetch in flight and its result.
pub struct Provider {
    config: ProviderConfig,
    redirect_uri: RedirectUrl,
    http: reqwest::Client,
    policy: RefreshPolicy,
    discovered: RwLock<Option<Arc<Discovered>>>,
    /// The last failed first discovery, while it is recent enough to answer for.
    discovery_gate: Mutex<Option<(Instant, OidcError)>>,
    /// One refresh at a time, scheduled or after a failed signature check.
    refresh_gate: Mutex<RefreshState>,
    /// The provider's latest `DPoP-Nonce` (`dpop = true`).
    dpop_nonces: Arc<dpop::NonceMemory>,
}

#[derive(Default)]
struct RefreshState {
    /// No refetch after a failed signature check before this (the cool-down).
    refetch_quiet_until: Option<Instant>,
    /// A scheduled refresh failed: the next is not tried before this.
    scheduled_retry_at: Option<Instant>,
    /// The last scheduled refresh failed (and said so in the log).
    scheduled_failing: bool,
}

struct Discovered {
    /// The discovery document with the JWKS.
    metadata: Metadata,
    discovery_expires: Instant,
    jwks_expires: Instant,
    /// Counts the JWKS fetches, so that a login waiting for a refetch sees one happened.
    jwks_generation: u64,
    /// A multi-tenant provider's issuer template (`tenants`); `None`: the issuer is exact.
    template: Option<IssuerTemplate>,
}

impl Discovered {
    fn due(&self, now: Instant) -> bool {
        now >= self.discovery_expires || now >= self.jwks_expires
    }
}

/// The provider's HTTP client, noting each answer's URL and `Cache-Control: max-age`, for
/// `openidconnect`'s own fetching and checking of discovery documents and key sets.
struct Recording {
    http: reqwest::Client,
    seen: std::sync::Mutex<Vec<(String, Option<Duration>)>>,
}

impl Recording {
    fn new(http: &reqwest::Client) -> Self {
        Self {
            http: http.clone(),
            seen: std::sync::Mutex::default(),
        }
    }

    /// The `max-age` of the first answer whose URL passes `pick`.
    fn max_age(&self, pick: impl Fn(&str) -> bool) -> Option<Duration> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter()
            .find(|(url, _)| pick(url))
            .and_then(|(_, max_age)| *max_age)
    }
}

impl<'c> AsyncHttpClient<'c> for Recording {
    type Error = HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + Sync + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let url = request.uri().to_string();
            let response = self.http.call(request).await?;
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((url, max_age(response.headers())));
            Ok(response)
        })
    }
}

impl Provider {
    pub fn new(config: ProviderConfig, redirect_uri: &Url, http: reqwest::Client) -> Self {
        Self {
            config,
            redirect_uri: RedirectUrl::from_url(redirect_uri.clone()),
            http,
            policy: RefreshPolicy::default(),
            discovered: RwLock::new(None),
            discovery_gate: Mutex::new(None),
            refresh_gate: Mutex::new(RefreshState::default()),
            dpop_nonces: Arc::default(),
        }
    }

    /// The same provider refreshed by another policy (tests: a clock they move).
    pub fn with_refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The HTTP client every provider call goes through: no redirects (a provider that
    /// redirects a token request is misconfigured or hostile) and a timeout.
    pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
    }

    /// Starts a login: the authorization URL with PKCE (S256), a fresh `state` and `nonce`.
    pub async fn authorize(&self) -> Result<Authorization, OidcError> {
        self.authorize_to(None, &LoginParams::default()).await
    }

    /// As [`Provider::authorize`], for a return to `redirect_uri` rather than the configured
    /// one (the development provider's other loopback addresses), asking also for `params`
    /// (checked by the caller against `login_params`): each replaces the `client_kwargs`
    /// value of its name, but `scope`, whose scopes are asked besides the configured ones.
    pub async fn authorize_to(
        &self,
        redirect_uri: Option<&Url>,
        params: &LoginParams,
    ) -> Result<Authorization, OidcError> {
        let discovered = self.discovered().await?;
        // Not worth a trip to the provider if the code could not be exchanged afterwards.
        let authentication = ClientAuthentication::new(&self.config, &discovered.metadata)?;
        let more = &discovered
            .metadata
            .additional_metadata()
            .additional_metadata;
        let push_to = par::endpoint(&self.config, more)?;
        let client = self.client_to(&discovered.metadata, redirect_uri);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        let mut scopes = self.config.scopes();
        for extra in params.get("scope").unwrap_or_default().split_whitespace() {
            if !scopes.iter().any(|scope| scope == extra) {
                scopes.push(extra.to_owned());
            }
        }
        for scope in scopes.into_iter().filter(|s| s != "openid") {
            request = request.add_scope(Scope::new(scope));
        }
        let mut extra = self.config.auth_params.clone();
        extra.extend(
            params
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned())),
        );
        for (name, value) in extra.into_iter().filter(|(name, _)| name != "scope") {
            request = request.add_extra_param(name, value);
        }
        let (mut url, state, nonce) = request.set_pkce_challenge(challenge).url();
        if let Some(endpoint) = push_to {
            url = par::push(
                &self.http,
                &endpoint,
                &authentication,
                &self.config,
                discovered.metadata.authorization_endpoint().url(),
                &url,
            )
            .await?;
        }
        Ok(Authorization {
            url,
            state: state.into_secret(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.into_secret(),
        })
    }

    /// Finishes a login: exchanges the code, verifies the ID token, merges userinfo when the
    /// `userinfo` setting asks for it. Returns every claim, the ID token's winning over
    /// userinfo's.
    pub async fn complete(
        &self,
        completion: Completion<'_>,
    ) -> Result<Map<String, Value>, OidcError> {
        self.complete_with_tokens(completion)
            .await
            .map(|(claims, _)| claims)
    }

    /// As [`Provider::complete`], with the tokens the provider issued.
    pub async fn complete_with_tokens(
        &self,
        completion: Completion<'_>,
    ) -> Result<(Map<String, Value>, TokenSet), OidcError> {
        self.complete_at(completion, None).await
    }

    /// As [`Provider::complete_with_tokens`], for a login [`Provider::authorize_to`] sent
    /// back to `redirect_uri`: the token request must name the same.
    pub async fn complete_at(
        &self,
        completion: Completion<'_>,
        redirect_uri: Option<&Url>,
    ) -> Result<(Map<String, Value>, TokenSet), OidcError> {
        let discovered = self.discovered().await?;
        let client = self.client_to(&discovered.metadata, redirect_uri);
        let authentication = ClientAuthentication::new(&self.config, &discovered.metadata)?;
        let token_client = authentication.client(client.clone());
        let mut request = token_client
            .exchange_code(AuthorizationCode::new(completion.code))
            .map_err(|error| OidcError::TokenExchange(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(completion.pkce_verifier));
        for (name, value) in authentication.extra_params()? {
            request = request.add_extra_param(name, value);
        }
        // With `dpop`, the session's key is made now: its first use is this request's proof.
        let key = match self.config.dpop {
            true => Some(
                DpopKey::generate().map_err(|error| OidcError::TokenExchange(error.to_string()))?,
            ),
            false => None,
        };
        let response = match &key {
            Some(key) => request.request_async(&self.dpop_client(key)).await,
            None => request.request_async(&self.http).await,
        }
        .map_err(|error| self.token_error(&authentication, &error))?;
        if key.is_some() {
            bound(&response).map_err(OidcError::TokenExchange)?;
        }
        let id_token = response.id_token().ok_or(OidcError::NoIdToken)?;
        let nonce = Nonce::new(completion.nonce.to_owned());

        let mut claims = self.verify(discovered, id_token, &nonce).await?;
        if let Some(max_age) = completion.max_age {
            recent_enough(&claims, max_age)?;
        }
        let subject = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
        let userinfo = if userinfo::wanted(&self.config, &claims) {
            self.userinfo(&client, response.access_token(), key.as_ref(), subject)
                .await?
        } else {
            None
        };
        if let Some(userinfo) = userinfo {
            for (name, value) in userinfo {
                claims.entry(name).or_insert(value);
            }
        }
        let tokens = TokenSet {
            dpop: key,
            ..TokenSet::issued(&response, id_token.to_string(), &claims)
        };
        claims.remove("nonce");
        Ok((claims, tokens))
    }

    /// The userinfo endpoint's claims for `access_token`, which must be `subject`'s.
    pub async fn fetch_userinfo(
        &self,
        tokens: &TokenSet,
        subject: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let discovered = self.discovered().await?;
        let client = self.client(&discovered.metadata);
        self.userinfo(
            &client,
            &AccessToken::new(tokens.access_token.clone()),
            tokens.dpop.as_ref(),
            Some(subject.to_owned()),
        )
        .await?
        .ok_or_else(|| OidcError::UserInfo("the provider has no userinfo endpoint".to_owned()))
    }

    /// Where to send the browser to end its session at the provider (RP-Initiated Logout
    /// 1.0), with the sign-in's ID token as hint, our client id, where to come back, and
    /// `state`. `None` when the provider has no `end_session_endpoint` (said once in the log).
    pub async fn end_session_url(
        &self,
        id_token: Option<&str>,
        come_back_to: &Url,
        state: &str,
    ) -> Option<Url> {
        let discovered = self.known().await.ok()?;
        let Some(endpoint) = discovered
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
        else {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    provider = %self.config.label(),
                    "logout_at_provider is on, but the provider's discovery document has no \
                     end_session_endpoint: logging out here only"
                );
            });
            return None;
        };
        // The browser is sent there by script: only a web address, never `javascript:` or
        // the like from a hostile discovery document.
        if !crate::server::config::is_https_or_loopback(endpoint.url()) {
            tracing::warn!(
                provider = %self.config.label(),
                "ignored an end_session_endpoint that is not an https URL"
            );
            return None;
        }
        let mut request = openidconnect::LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(openidconnect::PostLogoutRedirectUrl::from_url(
                come_back_to.clone(),
            ))
            .set_state(CsrfToken::new(state.to_owned()));
        if let Some(hint) = id_token.and_then(|token| token.parse::<ProviderIdToken>().ok()) {
            request = request.set_id_token_hint(&hint);
        }
        Some(request.http_get_url())
    }

    /// Whether `iss`, a redirect's issuer parameter (RFC 9207), names this provider: its
    /// issuer exactly; for a multi-tenant provider (`tenants`), its template's issuer of a
    /// tenant that may sign in (the ID token must then name the same, see the callback).
    pub async fn names_issuer(&self, iss: &str) -> Result<bool, OidcError> {
        if self.config.tenants.is_none() {
            return Ok(iss == self.config.issuer);
        }
        let discovered = self.discovered().await?;
        Ok(discovered
            .template
            .as_ref()
            .is_some_and(|template| template.admits_issuer(iss)))
    }

    /// The issuer that, with the subject, names an account: the configured one; for a
    /// multi-tenant provider, `verified_iss`, the issuer of the user's own tenant (a subject
    /// is unique only within its issuer).
    pub fn account_issuer<'a>(&'a self, verified_iss: Option<&'a str>) -> &'a str {
        match (&self.config.tenants, verified_iss) {
            (Some(_), Some(iss)) => iss,
            _ => &self.config.issuer,
        }
    }

    /// Whether the provider puts `iss` on every redirect back to this app (RFC 9207): then a
    /// redirect without it did not come from this provider.
    pub async fn promises_iss(&self) -> Result<bool, OidcError> {
        let discovered = self.discovered().await?;
        let more = &discovered
            .metadata
            .additional_metadata()
            .additional_metadata;
        Ok(more.authorization_response_iss_parameter_supported == Some(true))
    }

    /// Revokes the refresh token of `tokens` at the provider's `revocation_endpoint`
    /// (RFC 7009), if both exist. Failures are logged, not returned: the session is over here
    /// whatever the provider says.
    pub async fn revoke(&self, tokens: &TokenSet) {
        let Some(refresh_token) = &tokens.refresh_token else {
            return;
        };
        let Ok(discovered) = self.discovered().await else {
            return;
        };
        let Some(url) = discovered
            .metadata
            .additional_metadata()
            .additional_metadata
            .revocation_endpoint
            .clone()
        else {
            return;
        };
        // RFC 7009's request, authenticated as the token requests are. Not openidconnect's
        // `revoke_token`: it refuses http, which loopback providers (development, tests) are.
        let outcome = async {
            let authentication = ClientAuthentication::new(&self.config, &discovered.metadata)
                .map_err(|error| error.to_string())?;
            let mut form = vec![
                ("token".to_owned(), refresh_token.clone()),
                ("token_type_hint".to_owned(), "refresh_token".to_owned()),
            ];
            let request = authentication
                .by_hand(self.http.post(url.url().clone()), &mut form)
                .map_err(|error| error.to_string())?;
            let answer = request
                .form(&form)
                .send()
                .await
                .map_err(|error| describe_error(&error))?;
            match answer.status() {
                status if status.is_success() => Ok(()),
                status => Err(format!(
                    "the provider answered {status} (client authentication {})",
                    authentication.method()
                )),
            }
        }
        .await;
        match outcome {
            Ok(()) => tracing::debug!(provider = %self.config.label(), "revoked a refresh token"),
            Err(error) => tracing::warn!(
                provider = %self.config.label(),
                "could not revoke a refresh token: {error}"
            ),
        }
    }

    /// Exchanges `tokens`' refresh token for fresh ones. A new ID token is checked like the
    /// first (signature, issuer, audience, expiry) and must name the same subject, audience
    /// and authorized party (OpenID Connect Core 12.2); without one the old is kept.
    pub async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet, RefreshError> {
        self.refresh_with_claims(tokens)
            .await
            .map(|refreshed| refreshed.tokens)
    }

    /// As [`Provider::refresh`], with the new ID token's checked claims.
    pub async fn refresh_with_claims(
        &self,
        tokens: &TokenSet,
    ) -> Result<RefreshedTokens, RefreshError> {
        let refresh_token = tokens
            .refresh_token
            .as_ref()
            .ok_or(RefreshError::NoRefreshToken)?;
        let discovered = self.discovered().await.map_err(RefreshError::Provider)?;
        let authentication = ClientAuthentication::new(&self.config, &discovered.metadata)
            .map_err(RefreshError::Provider)?;
        let client = authentication.client(self.client(&discovered.metadata));
        let refresh_token = openidconnect::RefreshToken::new(refresh_token.clone());
        let mut request = client
            .exchange_refresh_token(&refresh_token)
            .map_err(|error| RefreshError::Provider(OidcError::TokenExchange(error.to_string())))?;
        for (name, value) in authentication
            .extra_params()
            .map_err(RefreshError::Provider)?
        {
            request = request.add_extra_param(name, value);
        }
        // The session's key, new proof: a refresh token bound to it (a public client's) is
        // refused with any other. A session from before `dpop` was turned on gets its key now.
        let key = match (&tokens.dpop, self.config.dpop) {
            (Some(key), _) => Some(key.clone()),
            (None, true) => Some(DpopKey::generate().map_err(|error| {
                RefreshError::Provider(OidcError::TokenExchange(error.to_string()))
            })?),
            (None, false) => None,
        };
        let response = match &key {
            Some(key) => request.request_async(&self.dpop_client(key)).await,
            None => request.request_async(&self.http).await,
        }
        .map_err(|error| match &error {
            // Only `invalid_grant` says the refresh token is dead (revoked, expired,
            // reused); any other answer (`temporarily_unavailable`, `server_error`, a
            // changed client secret's `invalid_client`) is the provider's or the app's
            // trouble, and must not sign everyone out.
            openidconnect::RequestTokenError::ServerResponse(refusal)
                if *refusal.error() == CoreErrorResponseType::InvalidGrant =>
            {
                RefreshError::Refused(refusal.error().to_string())
            }
            other => RefreshError::Provider(self.token_error(&authentication, other)),
        })?;
        if key.is_some() {
            bound(&response)
                .map_err(|reason| RefreshError::Provider(OidcError::TokenExchange(reason)))?;
        }
        let (mut fresh, id_token_claims) = match response.id_token() {
            Some(id_token) => {
                let nonce = RefreshNonce(tokens.nonce.as_deref());
                let claims = self
                    .verify(discovered, id_token, nonce)
                    .await
                    .map_err(RefreshError::IdToken)?;
                let fresh = TokenSet::issued(&response, id_token.to_string(), &claims);
                if !fresh.same_identity(tokens) {
                    return Err(RefreshError::IdentityChanged);
                }
                (fresh, Some(claims))
            }
            None => (TokenSet::issued_without_id_token(&response, tokens), None),
        };
        fresh.dpop = key;
        // A provider that does not rotate refresh tokens sends none back: keep the old one.
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = tokens.refresh_token.clone();
        }
        if fresh.scopes.is_empty() {
            fresh.scopes = tokens.scopes.clone();
        }
        // The sign-in's `auth_time` is what later ID tokens must keep, even after one that
        // did not say it.
        if fresh.auth_time.is_none() {
            fresh.auth_time = tokens.auth_time.clone();
        }
        Ok(RefreshedTokens {
            tokens: fresh,
            id_token_claims,
        })
    }

    /// The claims a session holds from now on, after a refresh that brought `refreshed`
    /// (`tokens` as kept from now on): as at sign-in, a new ID token's claims with userinfo's
    /// merged in when the `userinfo` setting asks for it (the ID token's winning); without a
    /// new ID token, `None` (the claims stay), unless `userinfo = "always"`: then userinfo is
    /// read again (see [`Provider::reread_claims`]). Without `nonce`, as at sign-in.
    pub async fn refreshed_claims(
        &self,
        tokens: &TokenSet,
        id_token_claims: Option<Map<String, Value>>,
    ) -> Result<Option<Map<String, Value>>, RefreshError> {
        let Some(mut claims) = id_token_claims else {
            if self.config.userinfo != crate::server::config::Userinfo::Always {
                return Ok(None);
            }
            return self.reread_claims(tokens).await.map(Some);
        };
        if userinfo::wanted(&self.config, &claims) {
            let subject = claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default();
            for (name, value) in self.userinfo_now(tokens, subject).await? {
                claims.entry(name).or_insert(value);
            }
        }
        claims.remove("nonce");
        Ok(Some(claims))
    }

    /// The session's claims read again: userinfo's, asked now with `tokens`' access token,
    /// over those of the ID token `tokens` keeps (read back from it: it was checked when it
    /// came), whose own claims (issuer, subject, audience, times, `sid`: who signed in where)
    /// userinfo cannot change. Without `nonce`, as at sign-in.
    pub async fn reread_claims(
        &self,
        tokens: &TokenSet,
    ) -> Result<Map<String, Value>, RefreshError> {
        let mut claims = kept_id_token_claims(tokens).ok_or_else(|| {
            RefreshError::Provider(OidcError::IdToken(
                "the session's ID token does not read back".to_owned(),
            ))
        })?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        for (name, value) in self.userinfo_now(tokens, &subject).await? {
            if !ID_TOKEN_OWN_CLAIMS.contains(&name.as_str()) {
                claims.insert(name, value);
            }
        }
        claims.remove("nonce");
        Ok(claims)
    }

    /// Userinfo for a session, now: refused (the access token is dead: 401, 403) and another
    /// subject end the session; anything else is a passing trouble.
    async fn userinfo_now(
        &self,
        tokens: &TokenSet,
        subject: &str,
    ) -> Result<Map<String, Value>, RefreshError> {
        use openidconnect::{ClaimsVerificationError, UserInfoError};
        let discovered = self.discovered().await.map_err(RefreshError::Provider)?;
        let client = self.client(&discovered.metadata);
        let passing = |reason: String| RefreshError::Provider(OidcError::UserInfo(reason));
        let request = client
            .user_info(
                AccessToken::new(tokens.access_token.clone()),
                Some(openidconnect::SubjectIdentifier::new(subject.to_owned())),
            )
            .map_err(|_| passing("the provider has no userinfo endpoint".to_owned()))?;
        let claims: Result<openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim>, _> =
            match &tokens.dpop {
                Some(key) => request.request_async(&self.dpop_client(key)).await,
                None => request.request_async(&self.http).await,
            };
        let claims = claims.map_err(|error| match &error {
            UserInfoError::Response(status, _, _)
                if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN =>
            {
                RefreshError::Refused(format!("userinfo answered {status}"))
            }
            UserInfoError::ClaimsVerification(ClaimsVerificationError::InvalidSubject(_)) => {
                RefreshError::IdentityChanged
            }
            _ => passing(describe_error(&error)),
        })?;
        claims_map(claims).map_err(passing)
    }

    /// Checks signature, issuer, audience, expiry, issue time and nonce. On a failed
    /// signature check the provider may have changed its keys (a new key id, or a new key
    /// under the same one): fetch the JWKS once more (see [`JWKS_REFETCH_COOLDOWN`]) and,
    /// if it holds new keys, check again.
    async fn verify(
        &self,
        discovered: Arc<Discovered>,
        id_token: &ProviderIdToken,
        nonce: impl NonceVerifier + Copy,
    ) -> Result<Map<String, Value>, OidcError> {
        match self.verify_with(&discovered, id_token, nonce) {
            Err(error) if keys_may_be_stale(&error) => {
                match self.refetch_jwks(&discovered).await? {
                    Some(refreshed) => self.verify_with(&refreshed, id_token, nonce),
                    None => Err(error),
                }
            }
            other => other,
        }
        // With its causes: "Signature verification failed" alone does not say why.
        .map_err(|error| OidcError::IdToken(describe_error(&error)))
    }

    /// Verifies against the cached keys. A token without `kid` while several keys fit is
    /// ambiguous to `openidconnect` (OpenID Connect Core 10.1 wants a `kid` then); as the
    /// conformance suite expects, each key is then tried on its own, through the same checks.
    fn verify_with(
        &self,
        discovered: &Discovered,
        id_token: &ProviderIdToken,
        nonce: impl NonceVerifier + Copy,
    ) -> Result<Map<String, Value>, openidconnect::ClaimsVerificationError> {
        use openidconnect::{ClaimsVerificationError as Claims, SignatureVerificationError as Sig};
        let template = discovered.template.as_ref();
        match self.verify_against(&discovered.metadata, template, id_token, nonce) {
            Err(Claims::SignatureVerification(Sig::AmbiguousKeyId(_))) => {
                for key in discovered.metadata.jwks().keys() {
                    let one_key = discovered
                        .metadata
                        .clone()
                        .set_jwks(JsonWebKeySet::new(vec![key.clone()]));
                    match self.verify_against(&one_key, template, id_token, nonce) {
                        Err(Claims::SignatureVerification(_)) => continue,
                        other => return other,
                    }
                }
                Err(Claims::SignatureVerification(Sig::CryptoError(
                    "no key of the provider's set verifies the signature".to_owned(),
                )))
            }
            other => other,
        }
    }

    /// Every check through `openidconnect`; for a multi-tenant provider (`template`), its
    /// exact issuer comparison is skipped and, on the verified claims, `iss` must be the
    /// template's with the token's own `tid`, a tenant `tenants` allows.
    fn verify_against(
        &self,
        metadata: &Metadata,
        template: Option<&IssuerTemplate>,
        id_token: &ProviderIdToken,
        nonce: impl NonceVerifier + Copy,
    ) -> Result<Map<String, Value>, openidconnect::ClaimsVerificationError> {
        let client = self.client(metadata);
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(asymmetric_algs(metadata))
            .require_issuer_match(template.is_none());
        let claims = id_token.claims(&verifier, nonce)?;
        if let Some(template) = template {
            template
                .check(
                    claims.issuer().as_str(),
                    claims.additional_claims().claims.get("tid"),
                )
                .map_err(|refusal| {
                    openidconnect::ClaimsVerificationError::InvalidIssuer(format!(
                        "the ID token's issuer is refused: {refusal}"
                    ))
                })?;
        }
        claims_map(claims).map_err(openidconnect::ClaimsVerificationError::Other)
    }

    async fn userinfo(
        &self,
        client: &ProviderClient,
        access_token: &AccessToken,
        dpop: Option<&DpopKey>,
        subject: Option<String>,
    ) -> Result<Option<Map<String, Value>>, OidcError> {
        let Some(subject) = subject else {
            return Err(OidcError::IdToken("no subject".to_owned()));
        };
        // openidconnect sends the token in the Authorization header and checks `sub` matches.
        let Ok(request) = client.user_info(
            access_token.clone(),
            Some(openidconnect::SubjectIdentifier::new(subject)),
        ) else {
            return Ok(None);
        };
        // With DPoP the token goes as `Authorization: DPoP …` with a proof (`dpop.rs`).
        let claims: Result<openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim>, _> =
            match dpop {
                Some(key) => request.request_async(&self.dpop_client(key)).await,
                None => request.request_async(&self.http).await,
            };
        let claims = claims.map_err(|error| OidcError::UserInfo(describe_error(&error)))?;
        claims_map(claims).map(Some).map_err(OidcError::UserInfo)
    }

    /// The cached discovery document even when due for its scheduled refresh (a sign-in will
    /// do that), so that a logout sends the browser on without first waiting on the
    /// provider; fetched only when there is none yet.
    async fn known(&self) -> Result<Arc<Discovered>, OidcError> {
        let cached = self.discovered.read().await.clone();
        match cached {
            Some(found) => Ok(found),
            None => self.discovered().await,
        }
    }

    /// The discovery document and JWKS: fetched on first use, then again when they expire
    /// (see [`Provider::refresh_if_due`]). A failed first discovery is remembered for
    /// [`DISCOVERY_RETRY_AFTER`], then the next login tries again: a provider that was down
    /// at start-up is picked up when it comes back.
    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        let cached = self.discovered.read().await.clone();
        if let Some(found) = cached {
            return Ok(self.refresh_if_due(found).await);
        }
        let mut last_failure = self.discovery_gate.lock().await;
        // Another login may have discovered it while this one waited at the gate.
        if let Some(found) = self.discovered.read().await.as_ref() {
            return Ok(found.clone());
        }
        let now = self.policy.clock.now();
        if let Some((at, error)) = last_failure.as_ref()
            && now.saturating_duration_since(*at) < self.policy.discovery_retry_after
        {
            return Err(error.clone());
        }
        match self.discover(0).await {
            Ok(found) => {
                let found = Arc::new(found);
                *self.discovered.write().await = Some(found.clone());
                *last_failure = None;
                tracing::info!(provider = %self.config.label(), "discovered {}", self.config.issuer);
                // Said when first discovered, not only at each login that then fails.
                let more = &found.metadata.additional_metadata().additional_metadata;
                if let Err(error) = par::endpoint(&self.config, more) {
                    crate::server::log::tell_developer!(
                        warn,
                        "logins with {} cannot start: {error}",
                        self.config.label()
                    );
                }
                Ok(found)
            }
            Err(error) => {
                *last_failure = Some((now, error.clone()));
                Err(error)
            }
        }
    }

    /// The scheduled refresh: when the discovery document (then both) or the JWKS (then it
    /// alone) has expired, this request fetches it again while concurrent ones go on with
    /// `found`. A failure keeps the cached copy, is logged once (until a refresh works again)
    /// and is retried after the cool-down, not on every login.
    async fn refresh_if_due(&self, found: Arc<Discovered>) -> Arc<Discovered> {
        if !found.due(self.policy.clock.now()) {
            return found;
        }
        let Ok(mut gate) = self.refresh_gate.try_lock() else {
            return found;
        };
        // Another request may have refreshed while this one looked.
        let current = self.discovered.read().await.clone().unwrap_or(found);
        let now = self.policy.clock.now();
        if !current.due(now) || gate.scheduled_retry_at.is_some_and(|at| now < at) {
            return current;
        }
        let refreshed = if now >= current.discovery_expires {
            self.discover(current.jwks_generation + 1).await
        } else {
            self.fetch_jwks(&current.metadata)
                .await
                .map(|(jwks, expires)| Discovered {
                    metadata: current.metadata.clone().set_jwks(jwks),
                    discovery_expires: current.discovery_expires,
                    jwks_expires: expires,
                    jwks_generation: current.jwks_generation + 1,
                    template: current.template.clone(),
                })
        };
        let label = self.config.label();
        match refreshed {
            Ok(refreshed) => {
                let refreshed = Arc::new(refreshed);
                *self.discovered.write().await = Some(refreshed.clone());
                gate.scheduled_retry_at = None;
                if std::mem::take(&mut gate.scheduled_failing) {
                    tracing::info!(provider = %label, "refreshed the provider's keys and metadata again");
                } else {
                    tracing::debug!(provider = %label, "refreshed the provider's keys and metadata");
                }
                refreshed
            }
            Err(error) => {
                gate.scheduled_retry_at = Some(now + self.policy.refetch_cooldown);
                if !std::mem::replace(&mut gate.scheduled_failing, true) {
                    tracing::warn!(provider = %label, "cannot refresh the provider's keys and metadata, still using the ones it had: {error}");
                }
                current
            }
        }
    }

    /// Fetches the discovery document (checking it names the configured issuer) and the JWKS,
    /// with the expiry each answer's `Cache-Control` asks for.
    async fn discover(&self, jwks_generation: u64) -> Result<Discovered, OidcError> {
        let url = self.config.server_metadata_url.to_string();
        let issuer =
            IssuerUrl::new(self.config.issuer.clone()).map_err(|error| OidcError::Discovery {
                url: url.clone(),
                reason: format!("the issuer is not a URL: {error}"),
            })?;
        let http = Recording::new(&self.http);
        let now = self.policy.clock.now();
        let (metadata, template) = match &self.config.tenants {
            None => {
                let metadata = Metadata::discover_async(issuer, &http)
                    .await
                    .map_err(|error| {
                        let mut reason = describe_error(&error);
                        match error {
                            openidconnect::DiscoveryError::Validation(_) => {
                                if reason.contains(TENANT_PLACEHOLDER) {
                                    reason.push_str(
                                        ": a multi-tenant provider, whose tokens name the issuer \
                                         of each user's tenant; to accept them, set tenants \
                                         (\"any\" or a list of tenant ids) for this provider",
                                    );
                                }
                                OidcError::BadDiscovery { url, reason }
                            }
                            _ => OidcError::Discovery { url, reason },
                        }
                    })?;
                (metadata, None)
            }
            Some(tenants) => {
                let metadata = self.discover_templated(&url, &http).await?;
                let discovered = metadata.issuer().as_str();
                let template = IssuerTemplate::of(&self.config.issuer, discovered, tenants)
                    .ok_or_else(|| OidcError::BadDiscovery {
                        url: url.clone(),
                        reason: if discovered == self.config.issuer {
                            format!(
                                "tenants is set, but the issuer {discovered} is not a template \
                                 with {TENANT_PLACEHOLDER}: leave tenants out for a \
                                 single-tenant provider"
                            )
                        } else {
                            format!(
                                "unexpected issuer URI `{}` (expected `{}` with one path \
                                 segment as {TENANT_PLACEHOLDER}, as tenants says)",
                                crate::server::log::one_line(discovered),
                                self.config.issuer
                            )
                        },
                    })?;
                (metadata, Some(template))
            }
        };
        let jwks_url = metadata.jwks_uri().to_string();
        // Two answers: the discovery document's, then the JWKS's.
        let discovery_max_age = http.max_age(|url| url != jwks_url);
        let jwks_max_age = http.max_age(|url| url == jwks_url);
        Ok(Discovered {
            discovery_expires: now + self.policy.lifetime(discovery_max_age),
            jwks_expires: now + self.policy.lifetime(jwks_max_age),
            jwks_generation,
            metadata,
            template,
        })
    }

    /// A multi-tenant provider's discovery document and JWKS: as
    /// [`Metadata::discover_async`] fetches them, but without its exact issuer comparison
    /// (the document names a template; the caller checks it).
    async fn discover_templated(&self, url: &str, http: &Recording) -> Result<Metadata, OidcError> {
        use openidconnect::http::{Method, Request, header};
        let failed = |reason: String| OidcError::Discovery {
            url: url.to_owned(),
            reason,
        };
        let request = Request::builder()
            .uri(url)
            .method(Method::GET)
            .header(header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|error| failed(format!("failed to prepare request: {error}")))?;
        let response = http
            .call(request)
            .await
            .map_err(|error| failed(describe_error(&error)))?;
        if response.status() != StatusCode::OK {
            return Err(failed(format!(
                "HTTP status code {} at {url}",
                response.status()
            )));
        }
        let json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(failed("the answer is not application/json".to_owned()));
        }
        let metadata: Metadata = serde_json::from_slice(response.body()).map_err(|error| {
            failed(format!(
                "Failed to parse server response: {}",
                crate::server::log::one_line(&error.to_string())
            ))
        })?;
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
            .await
            .map_err(|error| failed(describe_error(&error)))?;
        Ok(metadata.set_jwks(jwks))
    }

    /// Fetches the JWKS alone; returns it with when it expires.
    async fn fetch_jwks(
        &self,
        metadata: &Metadata,
    ) -> Result<(JsonWebKeySet<CoreJsonWebKey>, Instant), OidcError> {
        let http = Recording::new(&self.http);
        let now = self.policy.clock.now();
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &http)
            .await
            .map_err(|error| OidcError::Discovery {
                url: metadata.jwks_uri().to_string(),
                reason: describe_error(&error),
            })?;
        Ok((jwks, now + self.policy.lifetime(http.max_age(|_| true))))
    }

    /// After a failed signature check: fetch the JWKS again, unless the cool-down forbids
    /// (see [`JWKS_REFETCH_COOLDOWN`]). `Some`: new keys to check again with (fetched by this
    /// login or by another while this one waited); `None`: nothing new, or not now.
    async fn refetch_jwks(
        &self,
        stale: &Arc<Discovered>,
    ) -> Result<Option<Arc<Discovered>>, OidcError> {
        let mut gate = self.refresh_gate.lock().await;
        let current = self
            .discovered
            .read()
            .await
            .clone()
            .unwrap_or_else(|| stale.clone());
        // Another login (or the schedule) may have fetched them while this one waited.
        if current.jwks_generation != stale.jwks_generation {
            return Ok(Some(current));
        }
        let now = self.policy.clock.now();
        if gate.refetch_quiet_until.is_some_and(|until| now < until) {
            return Ok(None);
        }
        let (jwks, expires) = match self.fetch_jwks(&current.metadata).await {
            Ok(fetched) => fetched,
            Err(error) => {
                gate.refetch_quiet_until = Some(now + self.policy.refetch_cooldown);
                return Err(error);
            }
        };
        let changed = !same_keys(current.metadata.jwks(), &jwks);
        if !changed {
            gate.refetch_quiet_until = Some(now + self.policy.refetch_cooldown);
        }
        tracing::info!(
            provider = %self.config.label(),
            "refetched the JWKS after a failed signature check: {}",
            if changed { "new keys" } else { "the same keys" }
        );
        let refreshed = Arc::new(Discovered {
            metadata: current.metadata.clone().set_jwks(jwks),
            discovery_expires: current.discovery_expires,
            jwks_expires: expires,
            jwks_generation: current.jwks_generation + 1,
            template: current.template.clone(),
        });
        *self.discovered.write().await = Some(refreshed.clone());
        Ok(changed.then_some(refreshed))
    }

    /// The client without credentials: the token requests add them (`ClientAuthentication`);
    /// nothing else needs them (an ID token keyed with the secret is refused anyway).
    fn client(&self, metadata: &Metadata) -> ProviderClient {
        Client::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            None,
        )
        .set_redirect_uri(self.redirect_uri.clone())
    }

    /// A failed token request: `invalid_client` says this app's credentials were refused,
    /// which the log must name (with the method, never the credentials).
    fn token_error<E: std::error::Error + 'static>(
        &self,
        authentication: &ClientAuthentication<'_>,
        error: &openidconnect::RequestTokenError<E, StandardErrorResponse<CoreErrorResponseType>>,
    ) -> OidcError {
        match error {
            openidconnect::RequestTokenError::ServerResponse(refusal)
                if *refusal.error() == CoreErrorResponseType::InvalidClient =>
            {
                OidcError::ClientAuthentication {
                    provider: self.config.label(),
                    method: Some(authentication.method()),
                    reason: format!("the provider refused it: {}", describe_error(error)),
                }
            }
            other => OidcError::TokenExchange(describe_error(other)),
        }
    }

    /// The HTTP client for a call bound to `key`: a DPoP proof on each try, the provider's
    /// nonce honoured.
    fn dpop_client(&self, key: &DpopKey) -> dpop::DpopClient {
        dpop::DpopClient {
            http: self.http.clone(),
            key: key.clone(),
            nonces: self.dpop_nonces.clone(),
        }
    }

    fn client_to(&self, metadata: &Metadata, redirect_uri: Option<&Url>) -> ProviderClient {
        let client = self.client(metadata);
        match redirect_uri {
            Some(url) => client.set_redirect_uri(RedirectUrl::from_url(url.clone())),
            None => client,
        }
    }
}

/// A token answer to a DPoP request must say the access token is bound (`token_type` `DPoP`,
/// RFC 9449 §5): a provider that answers `Bearer` ignored the proof, and its token would
/// travel unbound. Refused rather than quietly downgraded: `dpop` is asked for where a stolen
/// token must be useless (FAPI 2.0).
fn bound(response: &impl OAuth2TokenResponse) -> Result<(), String> {
    let token_type = token_set::token_type(response).unwrap_or_default();
    if token_type.eq_ignore_ascii_case("dpop") {
        Ok(())
    } else {
        Err(format!(
            "DPoP was asked for, but the provider issued a {} token (token_type)",
            outside_field(&token_type)
        ))
    }
}

/// Whether new keys could turn this failure into a success: no key fits the token, or the
/// one that fits does not verify it. Not a missing signature or a refused algorithm.
fn keys_may_be_stale(error: &openidconnect::ClaimsVerificationError) -> bool {
    use openidconnect::SignatureVerificationError as Sig;
    matches!(
        error,
        openidconnect::ClaimsVerificationError::SignatureVerification(
            Sig::NoMatchingKey | Sig::CryptoError(_) | Sig::AmbiguousKeyId(_) | Sig::InvalidKey(_)
        )
    )
}

/// The same keys, in any order.
fn same_keys(a: &JsonWebKeySet<CoreJsonWebKey>, b: &JsonWebKeySet<CoreJsonWebKey>) -> bool {
    a.keys().len() == b.keys().len()
        && a.keys().iter().all(|key| b.keys().contains(key))
        && b.keys().iter().all(|key| a.keys().contains(key))
}

/// `Cache-Control: max-age` in seconds; `no-cache` and `no-store` as zero (so the minimum).
fn max_age(headers: &openidconnect::http::HeaderMap) -> Option<Duration> {
    let directives = headers
        .get_all(openidconnect::http::header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    let mut max_age = None;
    for directive in directives {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            max_age = value
                .trim()
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

/// Verified claims (the ID token's, userinfo's) as the JSON object a [`crate::User`] holds.
/// The claims of the ID token `tokens` keeps, read back through openidconnect with its checks
/// off: the token passed them when it came, has been sealed since, and may have expired by now.
fn kept_id_token_claims(tokens: &TokenSet) -> Option<Map<String, Value>> {
    let id_token: ProviderIdToken = tokens.id_token.parse().ok()?;
    let read_back = openidconnect::IdTokenVerifier::<openidconnect::core::CoreJsonWebKey>::new_insecure_without_verification()
        .set_time_fn(|| chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
    let claims = id_token
        .claims(&read_back, |_: Option<&Nonce>| Ok(()))
        .ok()?;
    claims_map(claims).ok()
}

fn claims_map(claims: impl serde::Serialize) -> Result<Map<String, Value>, String> {
    match serde_json::to_value(claims) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err("claims are not a JSON object".to_owned()),
    }
}

/// The signing algorithms the provider advertises, without `none` and the HMAC ones: an
/// HMAC "signature" keyed with our client secret proves nothing about the provider.
fn asymmetric_algs(metadata: &Metadata) -> Vec<CoreJwsSigningAlgorithm> {
    use CoreJwsSigningAlgorithm as Alg;
    let algs: Vec<Alg> = metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|alg| {
            !matches!(
                alg,
                Alg::None | Alg::HmacSha256 | Alg::HmacSha384 | Alg::HmacSha512
            )
        })
        .cloned()
        .collect();
    if algs.is_empty() {
        vec![Alg::RsaSsaPkcs1V15Sha256]
    } else {
        algs
    }
}

/// An error and its causes on one line (control characters escaped: a provider's
/// `error_description` cannot forge log lines), without response bodies (which may echo tokens).
fn describe_error(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    crate::server::log::one_line(&text)
}
