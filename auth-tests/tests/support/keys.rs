//! Signing keys for the fake provider, made once per test binary. All cryptography is the
//! libraries': `openidconnect`'s RSA and HMAC signers, the `p256` crate's ECDSA.
use std::sync::LazyLock;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use openidconnect::{
    JsonWebKeyId, PrivateSigningKey,
    core::{CoreHmacKey, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey},
};
use p256::ecdsa::signature::Signer as _;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use serde_json::{Value, json};

/// The provider's usual RS256 key.
pub static RSA_A: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("rsa-a"));
/// A second RS256 key: another key in the set, or the one the provider rotates to.
pub static RSA_B: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("rsa-b"));
/// The provider's new key after a restart that kept the key id `rsa-a`.
pub static RSA_A_ROTATED: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("rsa-a"));
/// A key the provider never publishes: what a forger holds.
pub static RSA_FORGER: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("rsa-a"));
/// The provider's ES256 key.
pub static EC_A: LazyLock<EcKey> = LazyLock::new(|| EcKey::generate("ec-a"));
/// An ES256 key the provider never publishes.
pub static EC_FORGER: LazyLock<EcKey> = LazyLock::new(|| EcKey::generate("ec-a"));

/// Something that can sign a JWT: its `alg`, its key id and the signature over the input.
pub trait JwtSigner {
    fn alg(&self) -> &'static str;
    fn kid(&self) -> Option<&str>;
    fn sign(&self, signing_input: &[u8]) -> Vec<u8>;
}

pub struct RsaKey {
    kid: String,
    signer: CoreRsaPrivateSigningKey,
}

impl RsaKey {
    fn generate(kid: &str) -> Self {
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("an RSA key");
        let pem = key
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .expect("PEM encoding");
        let signer =
            CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.to_owned())))
                .expect("openidconnect takes the key");
        Self {
            kid: kid.to_owned(),
            signer,
        }
    }

    /// The public key as the provider publishes it in its JWKS (`kid` included).
    pub fn jwk(&self) -> Value {
        serde_json::to_value(self.signer.as_verification_key()).expect("a JWK serializes")
    }
}

impl JwtSigner for RsaKey {
    fn alg(&self) -> &'static str {
        "RS256"
    }

    fn kid(&self) -> Option<&str> {
        Some(&self.kid)
    }

    fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        self.signer
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                signing_input,
            )
            .expect("RS256 signing")
    }
}

pub struct EcKey {
    kid: String,
    key: p256::ecdsa::SigningKey,
}

impl EcKey {
    fn generate(kid: &str) -> Self {
        // A random scalar; the (astronomically unlikely) invalid ones are skipped.
        let key = std::iter::repeat_with(rand::random::<[u8; 32]>)
            .find_map(|bytes| p256::ecdsa::SigningKey::from_slice(&bytes).ok())
            .expect("a P-256 key");
        Self {
            kid: kid.to_owned(),
            key,
        }
    }

    pub fn jwk(&self) -> Value {
        let point = self.key.verifying_key().to_sec1_point(false);
        let x = point.x().expect("an uncompressed point has x");
        let y = point.y().expect("an uncompressed point has y");
        json!({
            "kty": "EC",
            "crv": "P-256",
            "use": "sig",
            "alg": "ES256",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        })
    }
}

impl JwtSigner for EcKey {
    fn alg(&self) -> &'static str {
        "ES256"
    }

    fn kid(&self) -> Option<&str> {
        Some(&self.kid)
    }

    fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        // JWS wants r || s (64 bytes), not DER.
        let signature: p256::ecdsa::Signature = self.key.sign(signing_input);
        signature.to_bytes().to_vec()
    }
}

/// HS256 keyed with a shared secret (the client secret, for the attack it models).
pub struct HmacKey(pub String);

impl JwtSigner for HmacKey {
    fn alg(&self) -> &'static str {
        "HS256"
    }

    fn kid(&self) -> Option<&str> {
        None
    }

    fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        CoreHmacKey::new(self.0.as_bytes())
            .sign(&CoreJwsSigningAlgorithm::HmacSha256, signing_input)
            .expect("HS256 signing")
    }
}
