//! The provider's signing key, its discovery document and its JWKS.
use openidconnect::{
    SigningError,
    core::{CoreJsonCurveType, CoreJsonWebKey},
};
use p256::ecdsa::signature::Signer as _;

use super::*;

/// The provider's ES256 key: a P-256 key is made in milliseconds even in an unoptimised
/// debug build, where a 2048-bit RSA key took seconds (and an app does not inherit a
/// workspace's `[profile.dev.package]` override). openidconnect verifies ES256 but has no
/// ECDSA signer of its own, so this wraps the `p256` crate's.
pub(super) struct SigningKey(p256::ecdsa::SigningKey);

/// What the provider signs with, in its discovery document, and in each ID token's header.
pub(super) const SIGNING_ALG: CoreJwsSigningAlgorithm = CoreJwsSigningAlgorithm::EcdsaP256Sha256;

/// A key made at start-up and never kept: nothing outlives the process that checks its
/// signatures.
pub(super) fn signing_key() -> Result<SigningKey, DevIdpError> {
    // A random scalar; the (astronomically unlikely) bytes that are no key are skipped.
    std::iter::repeat_with(rand::random::<[u8; 32]>)
        .take(8)
        .find_map(|bytes| p256::ecdsa::SigningKey::from_slice(&bytes).ok())
        .map(SigningKey)
        .ok_or_else(|| DevIdpError("cannot make a signing key".to_owned()))
}

impl PrivateSigningKey for SigningKey {
    type VerificationKey = CoreJsonWebKey;

    fn sign(
        &self,
        signature_alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, SigningError> {
        if *signature_alg != SIGNING_ALG {
            return Err(SigningError::UnsupportedAlg(format!("{signature_alg:?}")));
        }
        let signature: p256::ecdsa::Signature = self.0.sign(message);
        // JWS wants r || s (RFC 7518 §3.4), not DER.
        Ok(signature.to_bytes().to_vec())
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        let point = self.0.verifying_key().to_sec1_point(false);
        // An uncompressed point always has both coordinates.
        CoreJsonWebKey::new_ec(
            point.x().map(|x| x.to_vec()).unwrap_or_default(),
            point.y().map(|y| y.to_vec()).unwrap_or_default(),
            CoreJsonCurveType::P256,
            Some(JsonWebKeyId::new(KEY_ID.to_owned())),
        )
    }
}

pub(super) fn discovery_document(issuer: &str) -> Result<Value, DevIdpError> {
    let url = |path: &str| format!("{issuer}{path}");
    let invalid = |error: openidconnect::url::ParseError| DevIdpError(error.to_string());
    let metadata = CoreProviderMetadata::new(
        IssuerUrl::new(issuer.to_owned()).map_err(invalid)?,
        AuthUrl::new(url("/authorize")).map_err(invalid)?,
        JsonWebKeySetUrl::new(url("/jwks")).map_err(invalid)?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        vec![SIGNING_ALG],
        EmptyAdditionalProviderMetadata {},
    )
    .set_token_endpoint(Some(TokenUrl::new(url("/token")).map_err(invalid)?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(url("/userinfo")).map_err(invalid)?))
    .set_scopes_supported(Some(
        ["openid", "email", "profile"]
            .map(|scope| Scope::new(scope.to_owned()))
            .to_vec(),
    ));
    serde_json::to_value(metadata).map_err(|error| DevIdpError(error.to_string()))
}

pub(super) async fn discovery(State(idp): State<Arc<DevIdp>>) -> Json<Value> {
    Json(idp.metadata.clone())
}

pub(super) async fn jwks(State(idp): State<Arc<DevIdp>>) -> Json<Value> {
    Json(idp.jwks.clone())
}
