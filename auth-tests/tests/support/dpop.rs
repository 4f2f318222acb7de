//! DPoP proofs (RFC 9449) as a server checks them: the fake provider's token and userinfo
//! endpoints, and the resource server of tests/dpop.rs. Verified with jsonwebtoken against
//! the key in the proof's own header; the key's thumbprint is what a bound token names.
// Read only by tests/dpop.rs (beyond the fake provider's nonce check): the other test
// binaries compile it unused.
#![allow(dead_code)]
use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
    jwk::{Jwk, ThumbprintHash},
};
use p256::pkcs8::EncodePrivateKey as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// How far a proof's `iat` may be from now (seconds) before it is refused.
pub const IAT_WINDOW: i64 = 60;

/// A checked proof: its claims, and the thumbprint of the key that signed it.
#[derive(Clone, Debug)]
pub struct Proof {
    pub claims: Value,
    pub jkt: String,
}

impl Proof {
    pub fn nonce(&self) -> Option<&str> {
        self.claims["nonce"].as_str()
    }

    pub fn jti(&self) -> &str {
        self.claims["jti"].as_str().unwrap_or_default()
    }
}

/// The base64url SHA-256 of `access_token`: a resource proof's `ath`.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token))
}

/// Checks `proof` for a `htm` request to `htu`: `typ` `dpop+jwt`, ES256 (what the crate
/// signs), a public key in the header that verifies the signature, `htm`, `htu`, a recent
/// `iat`, a `jti`; and `ath` when the request carries `access_token`.
pub fn verify(
    proof: &str,
    htm: &str,
    htu: &str,
    access_token: Option<&str>,
) -> Result<Proof, String> {
    let header = jsonwebtoken::decode_header(proof).map_err(|e| format!("header: {e}"))?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(format!("typ {:?}", header.typ));
    }
    if header.alg != Algorithm::ES256 {
        return Err(format!("alg {:?}", header.alg));
    }
    let jwk = header.jwk.ok_or("no jwk in the header")?;
    if serde_json::to_value(&jwk)
        .map_err(|e| e.to_string())?
        .get("d")
        .is_some()
    {
        return Err("the header carries a private key".to_owned());
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("jwk: {e}"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(proof, &key, &validation)
        .map_err(|e| format!("signature: {e}"))?
        .claims;
    if claims["htm"] != htm {
        return Err(format!("htm {}", claims["htm"]));
    }
    if claims["htu"] != htu {
        return Err(format!("htu {}", claims["htu"]));
    }
    let now = now();
    match claims["iat"].as_i64() {
        Some(iat) if (iat - now).abs() <= IAT_WINDOW => {}
        other => return Err(format!("iat {other:?}")),
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err("no jti".to_owned());
    }
    let wanted_ath = access_token.map(ath);
    if claims["ath"].as_str() != wanted_ath.as_deref() {
        return Err(format!("ath {}", claims["ath"]));
    }
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| e.to_string())?;
    Ok(Proof { claims, jkt })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

/// A key of the test's own (a thief's): signs proofs the crate never made.
pub struct OtherKey(EncodingKey);

impl OtherKey {
    pub fn new() -> Self {
        let secret = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()).expect("a key");
        let der = secret.to_pkcs8_der().expect("PKCS#8");
        Self(EncodingKey::from_ec_der(der.as_bytes()))
    }

    /// A well-formed proof for `htm` at `htu` with `ath` for `access_token`.
    pub fn proof(&self, htm: &str, htu: &str, access_token: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".to_owned());
        header.jwk = Some(Jwk::from_encoding_key(&self.0, Algorithm::ES256).expect("a jwk"));
        let claims = json!({
            "jti": URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>()),
            "htm": htm,
            "htu": htu,
            "iat": now(),
            "ath": ath(access_token),
        });
        jsonwebtoken::encode(&header, &claims, &self.0).expect("signed")
    }
}
