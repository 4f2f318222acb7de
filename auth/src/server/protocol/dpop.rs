//! DPoP (RFC 9449): a session's own key pair, the proofs it signs for the token requests and
//! for calls with its access token, and the HTTP client that adds them to `openidconnect`'s
//! requests (honouring the server's `DPoP-Nonce`, retried once).
//!
//! The key is made when a sign-in exchanges its code and lives in the session's `TokenSet`,
//! sealed in the session store: never in a cookie, a page or a log line. A token copied out of
//! the store without it is useless where the resource server checks the proof (`cnf.jkt`).
use std::{
    fmt,
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use openidconnect::{AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse, reqwest};
use p256::pkcs8::EncodePrivateKey as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use url::Url;

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const PROOF_TYPE: &str = "dpop+jwt";
/// The request header a proof travels in, and the answer header a server's nonce comes in.
const DPOP: &str = "DPoP";
const DPOP_NONCE: &str = "DPoP-Nonce";
/// The error a server answers when it wants its nonce in the proof (RFC 9449 §8, §9).
const USE_DPOP_NONCE: &str = "use_dpop_nonce";
/// ES256: what every DPoP server supports (oidc-provider, Keycloak, Okta, Auth0), and a P-256
/// key is made in microseconds.
const ALG: Algorithm = Algorithm::ES256;

/// A session's DPoP private key: PKCS#8 DER, base64url in the sealed store record.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DpopKey(String);

/// Why no proof could be made (a stored key that does not read back, a signing failure).
#[derive(Debug, thiserror::Error)]
#[error("cannot make a DPoP proof: {0}")]
pub struct DpopError(String);

impl DpopKey {
    /// A new P-256 key from the system's randomness.
    pub fn generate() -> Result<Self, DpopError> {
        // A random scalar; the (astronomically unlikely) bytes that are no key are skipped,
        // as the development provider's key is made.
        let secret = std::iter::repeat_with(rand::random::<[u8; 32]>)
            .take(8)
            .find_map(|bytes| p256::SecretKey::from_slice(&bytes).ok())
            .ok_or_else(|| DpopError("no key from the random bytes".to_owned()))?;
        let der = secret
            .to_pkcs8_der()
            .map_err(|error| DpopError(error.to_string()))?;
        Ok(Self(URL_SAFE_NO_PAD.encode(der.as_bytes())))
    }

    fn encoding_key(&self) -> Result<EncodingKey, DpopError> {
        let der = URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| DpopError("the stored key is not base64url".to_owned()))?;
        Ok(EncodingKey::from_ec_der(&der))
    }

    /// The public key, as the proofs' header carries it.
    fn jwk(&self, key: &EncodingKey) -> Result<Jwk, DpopError> {
        Jwk::from_encoding_key(key, ALG).map_err(|error| DpopError(error.to_string()))
    }

    /// The JWK SHA-256 thumbprint (RFC 7638) of the public key: what a bound token's `cnf.jkt`
    /// names.
    pub fn thumbprint(&self) -> Result<String, DpopError> {
        self.jwk(&self.encoding_key()?)?
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
            .map_err(|error| DpopError(error.to_string()))
    }

    /// A proof for `method` at `url` (its query and fragment left out, as `htu` wants), with
    /// `ath` when the request carries `access_token` and `nonce` when the server gave one.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, DpopError> {
        #[derive(Serialize)]
        struct Claims<'c> {
            jti: String,
            htm: &'c str,
            htu: String,
            iat: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            ath: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            nonce: Option<&'c str>,
        }
        let key = self.encoding_key()?;
        let mut header = Header::new(ALG);
        header.typ = Some(PROOF_TYPE.to_owned());
        header.jwk = Some(self.jwk(&key)?);
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let claims = Claims {
            // 128 random bits: a server keeps the `jti`s it saw to refuse a replayed proof.
            jti: URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>()),
            htm: method,
            htu: htu.into(),
            iat: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs()),
            ath: access_token.map(|token| URL_SAFE_NO_PAD.encode(Sha256::digest(token))),
            nonce,
        };
        jsonwebtoken::encode(&header, &claims, &key).map_err(|error| DpopError(error.to_string()))
    }
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DpopKey([redacted])")
    }
}

/// The provider's latest `DPoP-Nonce`, shared by its sign-ins and refreshes (in memory: a
/// replica without it is asked for it once, and retries).
#[derive(Default)]
pub struct NonceMemory(std::sync::Mutex<Option<String>>);

impl NonceMemory {
    fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, nonce: String) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(nonce);
    }
}

/// The HTTP client for one DPoP-bound call through `openidconnect` (the token request, the
/// userinfo request): each try carries a new proof; a bearer `Authorization` becomes
/// `DPoP` with the token's hash in the proof (`ath`).
///
/// Owns what it holds (each is a cheap clone): `openidconnect`'s futures must be `Send` for
/// every lifetime, which a borrowing client does not prove.
pub struct DpopClient {
    pub http: reqwest::Client,
    pub key: DpopKey,
    pub nonces: std::sync::Arc<NonceMemory>,
}

impl<'c> AsyncHttpClient<'c> for DpopClient {
    type Error = HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + Sync + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let access_token = bearer_token(&parts.headers);
            if let Some(token) = &access_token {
                let value = http::HeaderValue::from_str(&format!("{DPOP} {token}"))
                    .map_err(|_| HttpClientError::Other("an unusable access token".to_owned()))?;
                parts.headers.insert(http::header::AUTHORIZATION, value);
            }
            let url = Url::parse(&parts.uri.to_string())
                .map_err(|error| HttpClientError::Other(error.to_string()))?;
            let send = |nonce: Option<String>| {
                let proof = self
                    .key
                    .proof(
                        parts.method.as_str(),
                        &url,
                        access_token.as_deref(),
                        nonce.as_deref(),
                    )
                    .map_err(|error| HttpClientError::Other(error.to_string()))?;
                let mut request = HttpRequest::from_parts(parts.clone(), body.clone());
                let proof = http::HeaderValue::from_str(&proof)
                    .map_err(|_| HttpClientError::Other("an unusable proof".to_owned()))?;
                request.headers_mut().insert(DPOP, proof);
                Ok::<_, Self::Error>(self.http.call(request))
            };
            let used = self.nonces.get();
            let answer = send(used.clone())?.await?;
            let given = answer
                .headers()
                .get(DPOP_NONCE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let Some(given) = given else {
                return Ok(answer);
            };
            self.nonces.set(given.clone());
            // Once only, and only with a nonce it has not just refused: a server that keeps
            // asking is answered with its refusal.
            if wants_nonce(&answer) && used.as_deref() != Some(given.as_str()) {
                return send(Some(given))?.await;
            }
            Ok(answer)
        })
    }
}

/// The token of an `Authorization: Bearer …` header.
fn bearer_token(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Whether `answer` asks for the server's nonce: 400 `use_dpop_nonce` from an authorization
/// server (RFC 9449 §8), or 401 with it in `WWW-Authenticate` from a resource server (§9).
fn wants_nonce(answer: &HttpResponse) -> bool {
    match answer.status() {
        http::StatusCode::BAD_REQUEST => {
            serde_json::from_slice::<serde_json::Value>(answer.body())
                .ok()
                .and_then(|body| body.get("error")?.as_str().map(|e| e == USE_DPOP_NONCE))
                == Some(true)
        }
        http::StatusCode::UNAUTHORIZED => answer
            .headers()
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| value.contains(USE_DPOP_NONCE)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::Value;

    use super::*;

    /// A proof verifies with the key in its own header, says what the RFC asks, and its key's
    /// thumbprint is the session's; `ath` is the token's hash.
    #[test]
    fn a_proof_verifies_with_its_header_key() {
        let key = DpopKey::generate().expect("a key");
        let url = Url::parse("https://api.example/items?page=2#top").expect("a URL");
        let proof = key
            .proof("GET", &url, Some("the-token"), Some("n-1"))
            .expect("a proof");
        let header = jsonwebtoken::decode_header(&proof).expect("a header");
        assert_eq!(header.typ.as_deref(), Some(PROOF_TYPE));
        assert_eq!(header.alg, Algorithm::ES256);
        let jwk = header.jwk.expect("the public key in the header");
        assert_eq!(
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .expect("a thumbprint"),
            key.thumbprint().expect("the key's thumbprint")
        );
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Value>(
            &proof,
            &DecodingKey::from_jwk(&jwk).expect("a decoding key"),
            &validation,
        )
        .expect("the signature verifies")
        .claims;
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://api.example/items");
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(
            claims["ath"],
            URL_SAFE_NO_PAD.encode(Sha256::digest("the-token"))
        );
        assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 16));
        assert!(claims["iat"].as_u64().is_some_and(|iat| iat > 0));
        // The private key never travels.
        assert!(!serde_json::to_string(&jwk).expect("json").contains("\"d\""));
    }

    #[test]
    fn each_proof_has_its_own_jti_and_each_key_its_own_thumbprint() {
        let key = DpopKey::generate().expect("a key");
        let url = Url::parse("https://op.example/token").expect("a URL");
        let jti = |proof: String| {
            let payload = proof.split('.').nth(1).map(str::to_owned);
            payload.expect("a payload")
        };
        let first = jti(key.proof("POST", &url, None, None).expect("a proof"));
        let second = jti(key.proof("POST", &url, None, None).expect("a proof"));
        assert_ne!(first, second);
        let other = DpopKey::generate().expect("another key");
        assert_ne!(
            key.thumbprint().expect("a thumbprint"),
            other.thumbprint().expect("a thumbprint")
        );
        assert_eq!(format!("{key:?}"), "DpopKey([redacted])");
    }

    #[test]
    fn a_nonce_is_wanted_only_when_the_server_says() {
        let answer = |status: u16, body: &str, www: Option<&str>| {
            let mut builder = http::Response::builder().status(status);
            if let Some(www) = www {
                builder = builder.header(http::header::WWW_AUTHENTICATE, www);
            }
            builder.body(body.as_bytes().to_vec()).expect("an answer")
        };
        assert!(wants_nonce(&answer(
            400,
            r#"{"error":"use_dpop_nonce"}"#,
            None
        )));
        assert!(!wants_nonce(&answer(
            400,
            r#"{"error":"invalid_grant"}"#,
            None
        )));
        assert!(!wants_nonce(&answer(400, "not json", None)));
        assert!(wants_nonce(&answer(
            401,
            "",
            Some(r#"DPoP error="use_dpop_nonce""#)
        )));
        assert!(!wants_nonce(&answer(
            401,
            "",
            Some("DPoP error=\"invalid_token\"")
        )));
        assert!(!wants_nonce(&answer(
            200,
            r#"{"error":"use_dpop_nonce"}"#,
            None
        )));
    }
}
