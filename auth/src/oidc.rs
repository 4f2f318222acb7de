//! Talking to OpenID providers: discovery (cached), the authorization URL, the code exchange
//! and every check on the ID token, all through `openidconnect`.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use http::StatusCode;
use openidconnect::{
    AccessToken, AdditionalClaims, AuthenticationFlow, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdToken, IdTokenFields, IssuerUrl, JsonWebKeySet, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse as _,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
        CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
        CoreTokenIntrospectionResponse, CoreTokenType,
    },
    reqwest,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::config::ProviderConfig;

/// How long any one call to a provider may take before the visitor sees an error page.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// An unknown key id refetches the JWKS at most this often (successful or not), so forged
/// tokens cannot make us hammer the provider.
pub const JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(60);
/// After a failed discovery, logins fail fast for this long instead of each trying again.
pub const DISCOVERY_RETRY_AFTER: Duration = Duration::from_secs(2);

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
            Self::TokenExchange(_) | Self::UserInfo(_) => StatusCode::BAD_GATEWAY,
            Self::NoIdToken | Self::IdToken(_) => StatusCode::BAD_REQUEST,
        }
    }

    pub fn public_message(&self) -> &'static str {
        match self {
            Self::Discovery { .. } => {
                "The sign-in provider cannot be reached right now. Please try again later."
            }
            Self::BadDiscovery { .. } => {
                "The sign-in provider's configuration does not match this site's, so sign-in is \
                 unavailable. The site's administrator can find the details in its log."
            }
            Self::TokenExchange(_) => {
                "The sign-in provider did not complete the sign-in. Please start again."
            }
            Self::NoIdToken | Self::IdToken(_) => {
                "The sign-in provider's answer failed our security checks, so you were not signed in."
            }
            Self::UserInfo(_) => {
                "The sign-in provider did not confirm your profile. Please start again."
            }
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
}

/// One configured provider, with its discovery document cached for the life of the process.
///
/// Network calls never hold the cache's lock: each of discovery and the JWKS refetch has a
/// gate of its own, so that concurrent logins share one fetch in flight and its result.
pub struct Provider {
    config: ProviderConfig,
    redirect_uri: RedirectUrl,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
    /// The last failed discovery, while it is recent enough to answer for.
    discovery_gate: Mutex<Option<(Instant, OidcError)>>,
    /// When the JWKS was last fetched again for an unknown key id.
    jwks_gate: Mutex<Option<Instant>>,
}

struct Discovered {
    metadata: CoreProviderMetadata,
}

impl Provider {
    pub fn new(config: ProviderConfig, redirect_uri: &Url, http: reqwest::Client) -> Self {
        Self {
            config,
            redirect_uri: RedirectUrl::from_url(redirect_uri.clone()),
            http,
            discovered: RwLock::new(None),
            discovery_gate: Mutex::new(None),
            jwks_gate: Mutex::new(None),
        }
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
        let discovered = self.discovered().await?;
        let client = self.client(&discovered.metadata);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.config.scopes().into_iter().filter(|s| s != "openid") {
            request = request.add_scope(Scope::new(scope));
        }
        for (name, value) in self
            .config
            .auth_params
            .iter()
            .filter(|(name, _)| *name != "scope")
        {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Authorization {
            url,
            state: state.into_secret(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.into_secret(),
        })
    }

    /// Finishes a login: exchanges the code, verifies the ID token, merges userinfo.
    /// Returns every claim, the ID token's winning over userinfo's.
    pub async fn complete(
        &self,
        completion: Completion<'_>,
    ) -> Result<Map<String, Value>, OidcError> {
        let discovered = self.discovered().await?;
        let client = self.client(&discovered.metadata);
        let request = client
            .exchange_code(AuthorizationCode::new(completion.code))
            .map_err(|error| OidcError::TokenExchange(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(completion.pkce_verifier));
        let response = request
            .request_async(&self.http)
            .await
            .map_err(|error| OidcError::TokenExchange(describe_error(&error)))?;
        let id_token = response.id_token().ok_or(OidcError::NoIdToken)?;
        let nonce = Nonce::new(completion.nonce.to_owned());

        let mut claims = self.verify(discovered, id_token, &nonce).await?;
        let subject = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
        if let Some(userinfo) = self
            .userinfo(&client, response.access_token(), subject)
            .await?
        {
            for (name, value) in userinfo {
                claims.entry(name).or_insert(value);
            }
        }
        claims.remove("nonce");
        Ok(claims)
    }

    /// Checks signature, issuer, audience, expiry, issue time and nonce. On an unknown key id,
    /// the provider may have rotated its keys: fetch the JWKS once more (rate-limited) and retry.
    async fn verify(
        &self,
        discovered: Arc<Discovered>,
        id_token: &ProviderIdToken,
        nonce: &Nonce,
    ) -> Result<Map<String, Value>, OidcError> {
        match self.verify_with(&discovered, id_token, nonce) {
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => match self.refresh_jwks(&discovered).await? {
                Some(refreshed) => self.verify_with(&refreshed, id_token, nonce),
                None => self.verify_with(&discovered, id_token, nonce),
            },
            other => other,
        }
        // With its causes: "Signature verification failed" alone does not say why.
        .map_err(|error| OidcError::IdToken(describe_error(&error)))
    }

    fn verify_with(
        &self,
        discovered: &Discovered,
        id_token: &ProviderIdToken,
        nonce: &Nonce,
    ) -> Result<Map<String, Value>, openidconnect::ClaimsVerificationError> {
        let client = self.client(&discovered.metadata);
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(asymmetric_algs(&discovered.metadata));
        let claims = id_token.claims(&verifier, nonce)?;
        match serde_json::to_value(claims) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(openidconnect::ClaimsVerificationError::Other(
                "claims are not a JSON object".to_owned(),
            )),
        }
    }

    async fn userinfo(
        &self,
        client: &ProviderClient,
        access_token: &AccessToken,
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
        let claims: openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim> = request
            .request_async(&self.http)
            .await
            .map_err(|error| OidcError::UserInfo(describe_error(&error)))?;
        match serde_json::to_value(claims) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            _ => Err(OidcError::UserInfo(
                "claims are not a JSON object".to_owned(),
            )),
        }
    }

    /// The discovery document, fetched on first use and kept. A failure is remembered for
    /// [`DISCOVERY_RETRY_AFTER`], then the next login tries again: a provider that was down at
    /// start-up is picked up when it comes back.
    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        if let Some(found) = self.discovered.read().await.as_ref() {
            return Ok(found.clone());
        }
        let mut last_failure = self.discovery_gate.lock().await;
        // Another login may have discovered it while this one waited at the gate.
        if let Some(found) = self.discovered.read().await.as_ref() {
            return Ok(found.clone());
        }
        if let Some((at, error)) = last_failure.as_ref()
            && at.elapsed() < DISCOVERY_RETRY_AFTER
        {
            return Err(error.clone());
        }
        match self.discover().await {
            Ok(metadata) => {
                let found = Arc::new(Discovered { metadata });
                *self.discovered.write().await = Some(found.clone());
                *last_failure = None;
                tracing::info!(provider = %self.config.label(), "discovered {}", self.config.issuer);
                Ok(found)
            }
            Err(error) => {
                *last_failure = Some((Instant::now(), error.clone()));
                Err(error)
            }
        }
    }

    /// Fetches the discovery document (checking it names the configured issuer) and the JWKS.
    async fn discover(&self) -> Result<CoreProviderMetadata, OidcError> {
        let url = self.config.server_metadata_url.to_string();
        let issuer =
            IssuerUrl::new(self.config.issuer.clone()).map_err(|error| OidcError::Discovery {
                url: url.clone(),
                reason: format!("the issuer is not a URL: {error}"),
            })?;
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|error| {
                let reason = describe_error(&error);
                match error {
                    openidconnect::DiscoveryError::Validation(_) => {
                        OidcError::BadDiscovery { url, reason }
                    }
                    _ => OidcError::Discovery { url, reason },
                }
            })
    }

    /// The provider may have rotated its keys: fetch the JWKS again, at most once per
    /// [`JWKS_REFETCH_COOLDOWN`] whether it works or not. `None`: not now (too soon).
    async fn refresh_jwks(
        &self,
        stale: &Arc<Discovered>,
    ) -> Result<Option<Arc<Discovered>>, OidcError> {
        let mut last_attempt = self.jwks_gate.lock().await;
        // Another login may have refetched while this one waited at the gate.
        if let Some(current) = self.discovered.read().await.as_ref()
            && !Arc::ptr_eq(current, stale)
        {
            return Ok(Some(current.clone()));
        }
        if last_attempt.is_some_and(|at| at.elapsed() < JWKS_REFETCH_COOLDOWN) {
            return Ok(None);
        }
        *last_attempt = Some(Instant::now());
        let jwks = JsonWebKeySet::fetch_async(stale.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|error| OidcError::Discovery {
                url: stale.metadata.jwks_uri().to_string(),
                reason: describe_error(&error),
            })?;
        tracing::info!(provider = %self.config.label(), "refetched the JWKS after an unknown key id");
        let refreshed = Arc::new(Discovered {
            metadata: stale.metadata.clone().set_jwks(jwks),
        });
        *self.discovered.write().await = Some(refreshed.clone());
        Ok(Some(refreshed))
    }

    fn client(&self, metadata: &CoreProviderMetadata) -> ProviderClient {
        Client::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(
                self.config.client_secret.expose().to_owned(),
            )),
        )
        .set_redirect_uri(self.redirect_uri.clone())
    }
}

/// The signing algorithms the provider advertises, without `none` and the HMAC ones: an
/// HMAC "signature" keyed with our client secret proves nothing about the provider.
fn asymmetric_algs(metadata: &CoreProviderMetadata) -> Vec<CoreJwsSigningAlgorithm> {
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
    one_line(&text)
}

/// `text` with control characters escaped (`\n`, `\r`, …), so that what a provider or a query
/// says cannot start a log line of its own.
pub(crate) fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}
