//! The provider's signing key, its discovery document and its JWKS.
use super::*;

/// An RSA key made at start-up, in the PEM form openidconnect's signer takes.
pub(super) fn signing_key() -> Result<CoreRsaPrivateSigningKey, DevIdpError> {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .map_err(|error| DevIdpError(format!("cannot make a signing key: {error}")))?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .map_err(|error| DevIdpError(format!("cannot encode the signing key: {error}")))?;
    CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(KEY_ID.to_owned())))
        .map_err(DevIdpError)
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
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
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
