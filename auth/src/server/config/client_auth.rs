//! How the app proves who it is at the provider's token endpoint: `token_endpoint_auth_method`,
//! the private key of `private_key_jwt` (RFC 7523) and the audience its assertions name.
use std::fmt;

use jsonwebtoken::{
    Algorithm, EncodingKey,
    jwk::{Jwk, ThumbprintHash},
};
use toml::{Table, Value};

use super::{ConfigError, Reader, env_name};

/// `token_endpoint_auth_method`: the client authentication methods this crate can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// The client id and secret in an HTTP Basic `Authorization` header (RFC 6749 2.3.1).
    ClientSecretBasic,
    /// The client id and secret as form fields of the request body.
    ClientSecretPost,
    /// A short JWT signed with the app's private key (RFC 7523, OpenID Connect Core 9).
    PrivateKeyJwt,
    /// A public client: only its `client_id`, with PKCE protecting the code.
    None,
}

impl AuthMethod {
    /// Every method, in the order the README lists them.
    pub const ALL: [AuthMethod; 4] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::None,
    ];

    /// The method's name, as in discovery documents and client registrations.
    pub fn name(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.name() == name)
    }

    /// The names of [`AuthMethod::ALL`], for messages.
    pub(crate) fn all_names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `client_assertion_audience`: what a `private_key_jwt` assertion names as its `aud`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AssertionAudience {
    /// The token endpoint's URL, as OpenID Connect Core 9 says (Entra, Okta, Auth0 ask it).
    #[default]
    TokenEndpoint,
    /// The issuer identifier, as the FAPI 2.0 profile and RFC 7523's revision prefer.
    Issuer,
}

impl AssertionAudience {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "token_endpoint" => Some(Self::TokenEndpoint),
            "issuer" => Some(Self::Issuer),
            _ => None,
        }
    }
}

/// The private key `private_key_jwt` signs with: RSA (RS256) or EC P-256 (ES256) / P-384
/// (ES384). `Debug` shows its algorithm and key id, never the key.
#[derive(Clone)]
pub struct ClientKey {
    key: EncodingKey,
    alg: Algorithm,
    kid: String,
}

/// Why a PEM text is not a key this crate can sign with (never quoting the text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyProblem {
    /// Not a PEM private key of a kind supported here.
    Unreadable,
    /// An EC key in SEC1 form (`BEGIN EC PRIVATE KEY`), which the signer does not read.
    Sec1,
}

impl KeyProblem {
    pub(crate) fn explain(self) -> &'static str {
        match self {
            Self::Unreadable => {
                "is not a PEM private key this crate can sign with: an RSA key (BEGIN RSA \
                 PRIVATE KEY or BEGIN PRIVATE KEY) or an EC P-256 or P-384 key (BEGIN PRIVATE KEY)"
            }
            Self::Sec1 => {
                "is an EC key in SEC1 form (BEGIN EC PRIVATE KEY): convert it to PKCS#8 with \
                 `openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out KEY.pkcs8.pem`"
            }
        }
    }
}

impl ClientKey {
    /// Reads a PEM private key. Its key id is `kid`, or else its JWK thumbprint (RFC 7638),
    /// which is what a provider that computes ids from the registered JWKS expects.
    pub(crate) fn from_pem(pem: &str, kid: Option<&str>) -> Result<Self, KeyProblem> {
        if pem.contains("BEGIN EC PRIVATE KEY") {
            return Err(KeyProblem::Sec1);
        }
        let bytes = pem.as_bytes();
        let candidates = [
            (EncodingKey::from_rsa_pem(bytes), Algorithm::RS256),
            (EncodingKey::from_ec_pem(bytes), Algorithm::ES256),
            (EncodingKey::from_ec_pem(bytes), Algorithm::ES384),
        ];
        // The public half proves the key fits the algorithm (an EC key parses as either curve).
        let (key, alg, jwk) = candidates
            .into_iter()
            .find_map(|(key, alg)| {
                let key = key.ok()?;
                let jwk = Jwk::from_encoding_key(&key, alg).ok()?;
                Some((key, alg, jwk))
            })
            .ok_or(KeyProblem::Unreadable)?;
        let kid = match kid {
            Some(kid) => kid.to_owned(),
            None => jwk
                .thumbprint(ThumbprintHash::SHA256)
                .map_err(|_| KeyProblem::Unreadable)?,
        };
        Ok(Self { key, alg, kid })
    }

    /// The JWS algorithm its assertions are signed with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The `kid` its assertions carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key itself, for the one place that signs with it.
    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.key
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// A provider's client authentication, as configured.
#[derive(Clone, Debug, Default)]
pub struct ClientAuth {
    /// `token_endpoint_auth_method`; `None`: the first the provider's discovery lists that
    /// this configuration can do.
    pub method: Option<AuthMethod>,
    /// `client_private_key` / `client_private_key_file`, for `private_key_jwt`.
    pub key: Option<ClientKey>,
    /// `client_assertion_audience`.
    pub assertion_audience: AssertionAudience,
}

/// A key's value and the table it was read from (`auth` or `auth.NAME`).
pub(super) type Found<'a> = Option<(&'a str, &'a str)>;

impl Reader {
    /// `token_endpoint_auth_method` with the keys it needs: a method that needs a secret or
    /// a key the configuration lacks is refused here, naming the missing key.
    pub(super) fn client_auth(
        &self,
        path: &str,
        method: Found<'_>,
        pem: Found<'_>,
        pem_file: Found<'_>,
        kid: Found<'_>,
        has_secret: bool,
    ) -> Result<ClientAuth, ConfigError> {
        let method = match method {
            None => None,
            Some((name, at)) => Some(AuthMethod::from_name(name.trim()).ok_or_else(|| {
                self.error(
                    format!("{at}.token_endpoint_auth_method"),
                    format!(
                        "is not a method this crate knows; it must be one of {}",
                        AuthMethod::all_names()
                    ),
                )
            })?),
        };
        // A provider's own key wins over the other kind inherited from [auth].
        let (pem, pem_file) = match (pem, pem_file) {
            (Some((_, pem_at)), Some((_, file_at))) if pem_at != file_at => {
                if pem_at == path {
                    (pem, None)
                } else {
                    (None, pem_file)
                }
            }
            (Some(_), Some((_, at))) => {
                return Err(self.error(
                    format!("{at}.client_private_key_file"),
                    "is set beside client_private_key: keep one of them",
                ));
            }
            other => other,
        };
        let kid = kid.map(|(kid, _)| kid.trim());
        let key = match (pem, pem_file) {
            (Some((pem, at)), _) => Some(
                ClientKey::from_pem(&with_line_breaks(pem), kid).map_err(|problem| {
                    self.error(format!("{at}.client_private_key"), problem.explain())
                })?,
            ),
            (None, Some((file, at))) => {
                let key = format!("{at}.client_private_key_file");
                let text = std::fs::read_to_string(file)
                    .map_err(|error| self.error(&key, format!("cannot read {file}: {error}")))?;
                Some(
                    ClientKey::from_pem(&text, kid).map_err(|problem| {
                        self.error(&key, format!("{file} {}", problem.explain()))
                    })?,
                )
            }
            (None, None) => None,
        };
        let provider = path.strip_prefix("auth.");
        match method {
            Some(method @ (AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost))
                if !has_secret =>
            {
                return Err(self.error(
                    format!("{path}.client_secret"),
                    format!(
                        "is missing; token_endpoint_auth_method = \"{method}\" sends it: add \
                         `client_secret = \"…\"` under [{path}] (or set {})",
                        env_name(provider, "client_secret")
                    ),
                ));
            }
            Some(AuthMethod::PrivateKeyJwt) if key.is_none() => {
                return Err(self.error(
                    format!("{path}.client_private_key_file"),
                    format!(
                        "is missing; token_endpoint_auth_method = \"private_key_jwt\" signs with \
                         the app's private key: add `client_private_key_file = \"PATH\"` (a PEM \
                         file) or `client_private_key = \"…\"` (the PEM itself) under [{path}] (or \
                         set {} or {})",
                        env_name(provider, "client_private_key_file"),
                        env_name(provider, "client_private_key")
                    ),
                ));
            }
            _ => {}
        }
        if key.is_none() && kid.is_some() {
            return Err(self.error(
                format!("{path}.client_key_id"),
                "names the key of private_key_jwt, but there is no client_private_key_file \
                 or client_private_key",
            ));
        }
        Ok(ClientAuth {
            method,
            key,
            assertion_audience: AssertionAudience::default(),
        })
    }

    /// `client_assertion_audience`: `"token_endpoint"` (the default) or `"issuer"`.
    pub(super) fn assertion_audience(
        &self,
        table: &Table,
        path: &str,
    ) -> Result<AssertionAudience, ConfigError> {
        match table.get("client_assertion_audience") {
            None => Ok(AssertionAudience::default()),
            Some(Value::String(name)) => {
                AssertionAudience::from_name(name.trim()).ok_or_else(|| {
                    self.error(
                        format!("{path}.client_assertion_audience"),
                        "must be \"token_endpoint\" or \"issuer\"",
                    )
                })
            }
            Some(_) => Err(self.error(
                format!("{path}.client_assertion_audience"),
                "must be a string (in quotes)",
            )),
        }
    }
}

/// A PEM held on one line with `\n` escapes (as `.env` files and CI secrets often hold
/// it), with real line breaks.
fn with_line_breaks(pem: &str) -> String {
    if pem.contains('\n') {
        pem.to_owned()
    } else {
        pem.replace("\\n", "\n")
    }
}
