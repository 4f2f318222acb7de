//! Client authentication at the provider's token endpoint (code exchange, refresh), its
//! revocation endpoint and its pushed authorization request endpoint (RFC 9126 §2: as at the
//! token endpoint): one method per provider for all, chosen from the configuration and the
//! provider's discovery document.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openidconnect::{AuthType, ClientSecret, CsrfToken};
use serde::Serialize;

use super::{Metadata, OidcError, ProviderClient};
use crate::server::config::{AssertionAudience, AuthMethod, ProviderConfig};

/// RFC 7523 2.2's `client_assertion_type`.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long a `private_key_jwt` assertion is good for: one request, with room for clocks.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

/// The method the configuration names, or else the first that the provider's discovery lists
/// (`token_endpoint_auth_methods_supported`) and the configuration can do. A provider that
/// lists none gets the discovery default, `client_secret_basic`, when a secret is set.
/// `Err`: why none fits, for the log.
pub(super) fn choose(config: &ProviderConfig, metadata: &Metadata) -> Result<AuthMethod, String> {
    if let Some(method) = config.client_auth.method {
        return Ok(method);
    }
    let has_secret = config.client_secret.is_some();
    let has_key = config.client_auth.key.is_some();
    let can = |method: AuthMethod| match method {
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => has_secret,
        AuthMethod::PrivateKeyJwt => has_key,
        // A configured credential means a confidential client: never send it without one.
        AuthMethod::None => !has_secret && !has_key,
    };
    let listed: Vec<&str> = metadata
        .token_endpoint_auth_methods_supported()
        .map(|methods| methods.iter().map(AsRef::as_ref).collect())
        .unwrap_or_default();
    if listed.is_empty() {
        let fallback = [
            AuthMethod::ClientSecretBasic,
            AuthMethod::PrivateKeyJwt,
            AuthMethod::None,
        ];
        return fallback
            .into_iter()
            .find(|method| can(*method))
            .ok_or_else(|| "no client authentication fits".to_owned());
    }
    listed
        .iter()
        .filter_map(|name| AuthMethod::from_name(name))
        .find(|method| can(*method))
        .ok_or_else(|| {
            let configured = match (has_secret, has_key) {
                (true, true) => "a client_secret and a private key",
                (true, false) => "a client_secret",
                (false, true) => "a private key (private_key_jwt)",
                (false, false) => "neither a client_secret nor a private key",
            };
            format!(
                "the provider accepts client authentication by {} only, and this configuration \
                 has {configured}: set client_secret, client_private_key_file or \
                 token_endpoint_auth_method",
                crate::server::log::one_line(&listed.join(", "))
            )
        })
}

/// How one provider's requests prove who this app is.
pub(super) struct ClientAuthentication<'a> {
    config: &'a ProviderConfig,
    method: AuthMethod,
    /// What a `private_key_jwt` assertion names as `aud`.
    audience: String,
}

impl<'a> ClientAuthentication<'a> {
    pub(super) fn new(config: &'a ProviderConfig, metadata: &Metadata) -> Result<Self, OidcError> {
        let method =
            choose(config, metadata).map_err(|reason| OidcError::ClientAuthentication {
                provider: config.label(),
                method: None,
                reason,
            })?;
        let audience = match config.client_auth.assertion_audience {
            AssertionAudience::Issuer => config.issuer.clone(),
            AssertionAudience::TokenEndpoint => metadata
                .token_endpoint()
                .map(|url| url.url().to_string())
                .unwrap_or_else(|| config.issuer.clone()),
        };
        Ok(Self {
            config,
            method,
            audience,
        })
    }

    pub(super) fn method(&self) -> AuthMethod {
        self.method
    }

    /// `client` sending the secret as the method says (or none: the client id goes in the
    /// body, beside any assertion).
    pub(super) fn client(&self, client: ProviderClient) -> ProviderClient {
        let secret = self
            .config
            .client_secret
            .as_ref()
            .map(|secret| ClientSecret::new(secret.expose().to_owned()));
        match (self.method, secret) {
            (AuthMethod::ClientSecretBasic, Some(secret)) => client
                .set_client_secret(secret)
                .set_auth_type(AuthType::BasicAuth),
            (AuthMethod::ClientSecretPost, Some(secret)) => client
                .set_client_secret(secret)
                .set_auth_type(AuthType::RequestBody),
            _ => client.set_auth_type(AuthType::RequestBody),
        }
    }

    /// The form fields a request carries beyond what [`ClientAuthentication::client`] sets:
    /// for `private_key_jwt`, a fresh assertion (RFC 7523 2.2).
    pub(super) fn extra_params(&self) -> Result<Vec<(&'static str, String)>, OidcError> {
        if self.method != AuthMethod::PrivateKeyJwt {
            return Ok(Vec::new());
        }
        Ok(vec![
            ("client_assertion_type", ASSERTION_TYPE.to_owned()),
            ("client_assertion", self.assertion()?),
        ])
    }

    /// The requests made without openidconnect (revocation, pushed authorization): the same
    /// method, by hand, on `request` and its `form`.
    pub(super) fn by_hand(
        &self,
        request: openidconnect::reqwest::RequestBuilder,
        form: &mut Vec<(String, String)>,
    ) -> Result<openidconnect::reqwest::RequestBuilder, OidcError> {
        let client_id = self.config.client_id.clone();
        let secret = self.config.client_secret.as_ref().map(|s| s.expose());
        match (self.method, secret) {
            (AuthMethod::ClientSecretBasic, Some(secret)) => {
                // RFC 6749 2.3.1: each form-encoded before Basic encoding, as openidconnect does.
                let encode = |text: &str| {
                    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
                };
                return Ok(request.basic_auth(encode(&client_id), Some(encode(secret))));
            }
            (AuthMethod::ClientSecretPost, Some(secret)) => {
                form.push(("client_id".to_owned(), client_id));
                form.push(("client_secret".to_owned(), secret.to_owned()));
            }
            _ => {
                form.push(("client_id".to_owned(), client_id));
                form.extend(
                    self.extra_params()?
                        .into_iter()
                        .map(|(name, value)| (name.to_owned(), value)),
                );
            }
        }
        Ok(request)
    }

    /// A `private_key_jwt` assertion: iss = sub = our client id, aud as configured, a random
    /// `jti`, valid for [`ASSERTION_LIFETIME`].
    fn assertion(&self) -> Result<String, OidcError> {
        #[derive(Serialize)]
        struct Claims<'c> {
            iss: &'c str,
            sub: &'c str,
            aud: &'c str,
            jti: String,
            iat: u64,
            exp: u64,
        }
        let fail = |reason: String| OidcError::ClientAuthentication {
            provider: self.config.label(),
            method: Some(AuthMethod::PrivateKeyJwt),
            reason,
        };
        let key = self
            .config
            .client_auth
            .key
            .as_ref()
            .ok_or_else(|| fail("no private key is configured".to_owned()))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let claims = Claims {
            iss: &self.config.client_id,
            sub: &self.config.client_id,
            aud: &self.audience,
            jti: CsrfToken::new_random().into_secret(),
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs(),
        };
        let mut header = jsonwebtoken::Header::new(key.alg());
        header.kid = Some(key.kid().to_owned());
        jsonwebtoken::encode(&header, &claims, key.encoding_key())
            .map_err(|error| fail(format!("cannot sign the client assertion: {error}")))
    }
}
