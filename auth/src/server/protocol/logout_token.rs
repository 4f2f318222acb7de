//! OpenID Connect Back-Channel Logout 1.0: verifying the `logout_token` a provider posts to
//! the app when a user signs out there (§2.4 says what it holds, §2.6 how to check it).
//!
//! `openidconnect` has no logout-token type, and its JWT machinery is reachable only through
//! `IdToken` and `UserInfoJsonWebToken`, both of which require `sub` (a logout token may name
//! only `sid`) and, for the ID token, `exp` and a nonce check. So the JWS is decoded and its
//! signature, `alg`, `iss`, `aud`, `exp` and `nbf` checked by the `jsonwebtoken` crate, with
//! the keys `openidconnect` fetched for this provider (the [`Provider`]'s cached JWKS, refetched
//! after a failed signature check under the same cool-down as ID tokens). The claims only a
//! logout token has (`events`, `jti`, `sid`/`sub`, no `nonce`) and the `iat` window are
//! checked here, on the JSON the library verified.
use std::{sync::Once, time::Duration};

use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey, Header, Validation,
    errors::ErrorKind,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
};
use openidconnect::core::CoreJsonWebKey;
use serde_json::{Map, Value};

use super::{Discovered, IssuerTemplate, OidcError, Provider, asymmetric_algs};

/// The member of the `events` claim that makes a JWT a back-channel logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token issued longer ago than this is refused: providers send it at the moment of
/// the logout, so an old one is a replay or a very confused provider.
pub const LOGOUT_TOKEN_MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// How far the provider's clock may run ahead of ours: for `iat` in the future, and as the
/// leeway on `exp` and `nbf`.
pub const LOGOUT_TOKEN_CLOCK_SKEW: Duration = Duration::from_secs(60);
/// How long after receiving a token its `jti` must be remembered to refuse a replay: any
/// later, the same token fails the `iat` window anyway ([`LOGOUT_TOKEN_MAX_AGE`] plus
/// `LOGOUT_TOKEN_CLOCK_SKEW`).
pub const LOGOUT_TOKEN_REPLAY_WINDOW: Duration =
    Duration::from_secs(LOGOUT_TOKEN_MAX_AGE.as_secs() + LOGOUT_TOKEN_CLOCK_SKEW.as_secs());

/// What a verified logout token says: whom to sign out (`sub`, `sid` or both; at least one is
/// there) and its `jti`, for the caller to refuse replays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutClaims {
    /// The provider's issuer, exactly as in the token (and the discovery document).
    pub iss: String,
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    /// Seconds since the epoch.
    pub iat: i64,
    pub exp: Option<i64>,
}

/// Why a logout token was refused. The `Display` text is for the log: it never holds the
/// token, and what it quotes from one is escaped onto one line and shortened.
#[derive(Clone, Debug, thiserror::Error)]
pub enum LogoutTokenError {
    /// The provider's discovery document or keys could not be had: not the token's fault.
    #[error("the provider's keys are unavailable: {0}")]
    Provider(String),
    #[error("the logout token is not a signed JWT with a known algorithm: {0}")]
    Malformed(String),
    #[error(
        "the logout token is signed with {0}, which is refused (only the asymmetric algorithms \
         the provider advertises are accepted)"
    )]
    Algorithm(String),
    #[error("the logout token's typ header is {0:?}, neither logout+jwt nor JWT")]
    Type(String),
    #[error("no key in the provider's JWKS fits the logout token (key id, key type, algorithm)")]
    NoMatchingKey,
    #[error("the logout token's signature does not verify with the provider's keys")]
    Signature,
    #[error("the logout token's issuer is not the provider's ({0})")]
    Issuer(String),
    #[error("the logout token's audience is not this client: {0}")]
    Audience(String),
    #[error("the logout token has no {0} claim")]
    MissingClaim(&'static str),
    #[error("the logout token's {claim} claim {problem}")]
    InvalidClaim {
        claim: &'static str,
        problem: &'static str,
    },
    #[error("the logout token was issued {0} s in the future (more than the clock skew allowed)")]
    IssuedInFuture(i64),
    #[error("the logout token was issued {0} s ago, longer than a logout token is accepted")]
    IssuedTooLongAgo(i64),
    #[error("the logout token has expired")]
    Expired,
    #[error("the logout token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the logout token's events claim has no back-channel logout event")]
    NoLogoutEvent,
    #[error("the logout token names neither sub nor sid")]
    NoSubject,
    #[error("the logout token holds a nonce claim, which a logout token must not")]
    Nonce,
}

impl LogoutTokenError {
    /// New keys at the provider could turn this into a success.
    fn keys_may_be_stale(&self) -> bool {
        matches!(self, Self::NoMatchingKey | Self::Signature)
    }
}

impl Provider {
    /// Verifies a back-channel `logout_token` (OpenID Connect Back-Channel Logout 1.0, §2.6):
    ///
    /// - a JWS signed with one of the provider's keys (its cached JWKS, fetched once more
    ///   after a failed signature check, under the cool-down ID tokens use), with an algorithm
    ///   the provider advertises and never `none` or HMAC; `typ` absent, `JWT` or `logout+jwt`;
    /// - `iss` exactly the provider's issuer (for a multi-tenant provider, its template's with
    ///   the token's own `tid`, a tenant `tenants` allows); `aud` our client id, alone (a string, or an
    ///   array holding it and nothing else, as ID tokens without trusted extra audiences);
    /// - `iat` present, at most [`LOGOUT_TOKEN_CLOCK_SKEW`] ahead and at most
    ///   [`LOGOUT_TOKEN_MAX_AGE`] old; `exp` and `nbf`, when present, respected with the skew;
    /// - `jti` a string; `events` an object whose back-channel logout member is an object;
    ///   `sub` or `sid` (strings, at least one); no `nonce`.
    ///
    /// Replays (the same `jti` again) are the caller's to refuse: remember each `jti` for
    /// [`LOGOUT_TOKEN_REPLAY_WINDOW`].
    pub async fn verify_logout_token(&self, token: &str) -> Result<LogoutClaims, LogoutTokenError> {
        install_crypto_provider();
        let discovered = self.discovered().await.map_err(provider_error)?;
        let header = jsonwebtoken::decode_header(token).map_err(|error| malformed(&error))?;
        let allowed = allowed_algs(&discovered.metadata);
        if !allowed.contains(&header.alg) {
            return Err(LogoutTokenError::Algorithm(format!("{:?}", header.alg)));
        }
        check_type(header.typ.as_deref())?;
        let claims = match self.verify_signature(&discovered, token, &header) {
            Err(error) if error.keys_may_be_stale() => {
                match self
                    .refetch_jwks(&discovered)
                    .await
                    .map_err(provider_error)?
                {
                    Some(refreshed) => self.verify_signature(&refreshed, token, &header)?,
                    None => return Err(error),
                }
            }
            other => other?,
        };
        check_claims(
            claims,
            discovered.metadata.issuer().as_str(),
            discovered.template.as_ref(),
            &self.config.client_id,
            now(),
        )
    }

    /// The token's claims, once a key of `discovered` verifies its signature and `jsonwebtoken`
    /// has checked `alg`, `iss`, `aud`, `exp` and `nbf`. A token without `kid` is tried with
    /// every key that fits, as ID tokens are.
    fn verify_signature(
        &self,
        discovered: &Discovered,
        token: &str,
        header: &Header,
    ) -> Result<Map<String, Value>, LogoutTokenError> {
        let issuer = discovered.metadata.issuer().as_str();
        let mut validation = Validation::new(header.alg);
        // A multi-tenant provider's `iss` is checked in `check_claims`, with the token's `tid`.
        if discovered.template.is_none() {
            validation.set_issuer(&[issuer]);
        }
        validation.set_audience(&[&self.config.client_id]);
        // `iat`, `jti`, `events` and the rest are checked in `check_claims`; `exp` is optional.
        validation.set_required_spec_claims(&["iss", "aud"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LOGOUT_TOKEN_CLOCK_SKEW.as_secs();

        let mut fitting = 0;
        for key in discovered.metadata.jwks().keys() {
            let Some(key) = decoding_key(key, header) else {
                continue;
            };
            fitting += 1;
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(error) => match error.kind() {
                    // This key does not verify it (or cannot): maybe another does.
                    ErrorKind::InvalidSignature
                    | ErrorKind::InvalidEcdsaKey
                    | ErrorKind::InvalidEddsaKey
                    | ErrorKind::InvalidRsaKey(_)
                    | ErrorKind::InvalidKeyFormat => continue,
                    // The signature verified; a claim did not.
                    _ => return Err(validation_error(&error, issuer)),
                },
            }
        }
        Err(if fitting == 0 {
            LogoutTokenError::NoMatchingKey
        } else {
            LogoutTokenError::Signature
        })
    }
}

/// `jsonwebtoken` finds its cryptography through a process-wide provider; ours unless the
/// application installed another first (then that one, which is as good).
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        );
    });
}

/// The provider's asymmetric algorithms (as for ID tokens) that `jsonwebtoken` implements.
fn allowed_algs(metadata: &super::Metadata) -> Vec<Algorithm> {
    asymmetric_algs(metadata)
        .iter()
        .filter_map(|alg| serde_json::to_value(alg).ok())
        .filter_map(|name| name.as_str().and_then(|name| name.parse().ok()))
        .filter(|alg: &Algorithm| alg.family() != AlgorithmFamily::Hmac)
        .collect()
}

/// §2.4: `logout+jwt` is recommended; plain JWTs are accepted too. Media types compare
/// case-insensitively, with or without `application/`.
fn check_type(typ: Option<&str>) -> Result<(), LogoutTokenError> {
    let Some(typ) = typ else {
        return Ok(());
    };
    let lower = typ.to_ascii_lowercase();
    let bare = lower.strip_prefix("application/").unwrap_or(&lower);
    if bare == "jwt" || bare == "logout+jwt" {
        Ok(())
    } else {
        Err(LogoutTokenError::Type(for_log(typ)))
    }
}

/// `key` as `jsonwebtoken` takes it, if it may have signed a token with this header: the
/// token's `kid` (when it has one), a signing key of the algorithm's type and curve, and the
/// key's own `alg` (when it has one) the token's.
fn decoding_key(key: &CoreJsonWebKey, header: &Header) -> Option<DecodingKey> {
    let jwk: Jwk = serde_json::from_value(serde_json::to_value(key).ok()?).ok()?;
    if let Some(kid) = &header.kid
        && jwk.common.key_id.as_ref() != Some(kid)
    {
        return None;
    }
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|usage| *usage != PublicKeyUse::Signature)
    {
        return None;
    }
    if jwk
        .common
        .key_algorithm
        .is_some_and(|alg| alg != KeyAlgorithm::from(header.alg))
    {
        return None;
    }
    let fits = match (&jwk.algorithm, header.alg) {
        (AlgorithmParameters::RSA(_), alg) => alg.family() == AlgorithmFamily::Rsa,
        (AlgorithmParameters::EllipticCurve(params), Algorithm::ES256) => {
            params.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(params), Algorithm::ES384) => {
            params.curve == EllipticCurve::P384
        }
        (AlgorithmParameters::OctetKeyPair(params), Algorithm::EdDSA) => {
            params.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    if !fits {
        return None;
    }
    DecodingKey::from_jwk(&jwk).ok()
}

/// A failure after the signature verified (or a token `jsonwebtoken` could not read).
fn validation_error(error: &jsonwebtoken::errors::Error, issuer: &str) -> LogoutTokenError {
    match error.kind() {
        ErrorKind::InvalidIssuer => LogoutTokenError::Issuer(format!("expected {issuer}")),
        ErrorKind::InvalidAudience => {
            LogoutTokenError::Audience("it does not name this client".to_owned())
        }
        ErrorKind::ExpiredSignature => LogoutTokenError::Expired,
        ErrorKind::ImmatureSignature => LogoutTokenError::NotYetValid,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => {
            LogoutTokenError::MissingClaim("iss")
        }
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => {
            LogoutTokenError::MissingClaim("aud")
        }
        ErrorKind::InvalidClaimFormat(claim) => LogoutTokenError::InvalidClaim {
            claim: known_claim(claim),
            problem: "has the wrong type",
        },
        ErrorKind::InvalidAlgorithm => LogoutTokenError::Algorithm("another algorithm".to_owned()),
        _ => malformed(error),
    }
}

fn known_claim(name: &str) -> &'static str {
    ["iss", "aud", "exp", "nbf", "iat", "sub"]
        .into_iter()
        .find(|known| *known == name)
        .unwrap_or("a registered")
}

/// The checks only a logout token has, on claims whose signature, `iss` and `aud` (as a
/// set), `exp` and `nbf` verified; for a multi-tenant provider (`template`), `iss` against
/// the template with the token's own `tid`. `now` is in seconds since the epoch.
fn check_claims(
    claims: Map<String, Value>,
    issuer: &str,
    template: Option<&IssuerTemplate>,
    client_id: &str,
    now: i64,
) -> Result<LogoutClaims, LogoutTokenError> {
    // `jsonwebtoken` also takes an array of issuers; a logout token's is one string.
    let iss = match (claims.get("iss"), template) {
        (Some(Value::String(iss)), None) if iss == issuer => iss.clone(),
        (Some(Value::String(iss)), Some(template)) => {
            template
                .check(iss, claims.get("tid"))
                .map_err(|refusal| LogoutTokenError::Issuer(refusal.to_string()))?;
            iss.clone()
        }
        (Some(_), _) => return Err(LogoutTokenError::Issuer(format!("expected {issuer}"))),
        (None, _) => return Err(LogoutTokenError::MissingClaim("iss")),
    };
    // As for ID tokens (OpenID Connect Core 3.1.3.7): no audience we do not trust, and we
    // trust none but ourselves.
    match claims.get("aud") {
        Some(Value::String(aud)) if aud == client_id => {}
        Some(Value::Array(auds))
            if !auds.is_empty() && auds.iter().all(|aud| aud.as_str() == Some(client_id)) => {}
        Some(Value::Array(_)) => {
            return Err(LogoutTokenError::Audience(
                "it also names audiences other than this client".to_owned(),
            ));
        }
        Some(_) => {
            return Err(LogoutTokenError::Audience(
                "it does not name this client".to_owned(),
            ));
        }
        None => return Err(LogoutTokenError::MissingClaim("aud")),
    }

    let iat = numeric_date(&claims, "iat")?.ok_or(LogoutTokenError::MissingClaim("iat"))?;
    let skew = secs(LOGOUT_TOKEN_CLOCK_SKEW);
    if iat > now.saturating_add(skew) {
        return Err(LogoutTokenError::IssuedInFuture(iat.saturating_sub(now)));
    }
    if iat < now.saturating_sub(secs(LOGOUT_TOKEN_MAX_AGE)) {
        return Err(LogoutTokenError::IssuedTooLongAgo(now.saturating_sub(iat)));
    }
    // Checked against the clock by `jsonwebtoken` already; read here to report it.
    let exp = numeric_date(&claims, "exp")?;

    let jti = match claims.get("jti") {
        Some(Value::String(jti)) if !jti.is_empty() => jti.clone(),
        Some(_) => {
            return Err(LogoutTokenError::InvalidClaim {
                claim: "jti",
                problem: "is not a non-empty string",
            });
        }
        None => return Err(LogoutTokenError::MissingClaim("jti")),
    };

    match claims.get("events") {
        Some(Value::Object(events)) => match events.get(BACKCHANNEL_LOGOUT_EVENT) {
            Some(Value::Object(_)) => {}
            Some(_) => {
                return Err(LogoutTokenError::InvalidClaim {
                    claim: "events",
                    problem: "has a back-channel logout member that is not a JSON object",
                });
            }
            None => return Err(LogoutTokenError::NoLogoutEvent),
        },
        Some(_) => {
            return Err(LogoutTokenError::InvalidClaim {
                claim: "events",
                problem: "is not a JSON object",
            });
        }
        None => return Err(LogoutTokenError::MissingClaim("events")),
    }

    // Present at all, even `null`: a logout token must not carry one (§2.4).
    if claims.contains_key("nonce") {
        return Err(LogoutTokenError::Nonce);
    }

    let sub = optional_string(&claims, "sub")?;
    let sid = optional_string(&claims, "sid")?;
    if sub.is_none() && sid.is_none() {
        return Err(LogoutTokenError::NoSubject);
    }

    Ok(LogoutClaims {
        iss,
        sub,
        sid,
        jti,
        iat,
        exp,
    })
}

/// A NumericDate claim (seconds since the epoch, fractions allowed and dropped).
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, LogoutTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(number)) => number
            .as_i64()
            .or_else(|| {
                number
                    .as_f64()
                    .filter(|secs| secs.is_finite() && secs.abs() < 1e15)
                    // Truncation is the intent: NumericDate may have fractions.
                    .map(|secs| secs as i64)
            })
            .map(Some)
            .ok_or(LogoutTokenError::InvalidClaim {
                claim: name,
                problem: "is not a plausible time",
            }),
        Some(_) => Err(LogoutTokenError::InvalidClaim {
            claim: name,
            problem: "is not a number",
        }),
    }
}

fn optional_string(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, LogoutTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(value)) if !value.is_empty() => Ok(Some(value.clone())),
        Some(_) => Err(LogoutTokenError::InvalidClaim {
            claim: name,
            problem: "is not a non-empty string",
        }),
    }
}

fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX)
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn provider_error(error: OidcError) -> LogoutTokenError {
    LogoutTokenError::Provider(error.to_string())
}

fn malformed(error: &jsonwebtoken::errors::Error) -> LogoutTokenError {
    LogoutTokenError::Malformed(for_log(&error.to_string()))
}

/// Text from the token (or about it) fit for one log line: escaped, at most 120 characters.
fn for_log(text: &str) -> String {
    const MAX: usize = 120;
    let line = crate::server::log::one_line(text);
    match line.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://op.example";
    const CLIENT: &str = "client";
    const NOW: i64 = 1_700_000_000;

    fn valid() -> Map<String, Value> {
        let Value::Object(claims) = serde_json::json!({
            "iss": ISSUER,
            "aud": CLIENT,
            "iat": NOW,
            "jti": "j-1",
            "sid": "s-1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        }) else {
            unreachable!()
        };
        claims
    }

    fn check(claims: Map<String, Value>) -> Result<LogoutClaims, LogoutTokenError> {
        check_claims(claims, ISSUER, None, CLIENT, NOW)
    }

    fn with(name: &str, value: Value) -> Map<String, Value> {
        let mut claims = valid();
        claims.insert(name.to_owned(), value);
        claims
    }

    /// A multi-tenant provider's logout token: `iss` the template's with its own `tid`.
    #[test]
    fn a_multi_tenant_providers_logout_token_names_its_own_tenant() {
        let tenant = "tenant-a";
        let template = IssuerTemplate::of(
            "https://op.example/common",
            "https://op.example/{tenantid}",
            &crate::server::config::Tenants::Only(vec![tenant.to_owned(), "tenant-b".to_owned()]),
        )
        .expect("a template");
        let claims = |iss: &str, tid: Option<&str>| {
            let mut claims = with("iss", Value::from(iss));
            if let Some(tid) = tid {
                claims.insert("tid".to_owned(), Value::from(tid));
            }
            check_claims(
                claims,
                "https://op.example/{tenantid}",
                Some(&template),
                CLIENT,
                NOW,
            )
        };
        let ok = claims("https://op.example/tenant-a", Some(tenant)).expect("its own tenant");
        assert_eq!(ok.iss, "https://op.example/tenant-a");
        for (iss, tid, reason) in [
            ("https://op.example/tenant-a", None, "no tid"),
            (
                "https://op.example/tenant-a",
                Some("tenant-b"),
                "not the issuer of its own",
            ),
            ("https://op.example/tenant-c", Some("tenant-c"), "not among"),
            (
                "https://op.example/{tenantid}",
                Some(tenant),
                "not the issuer of its own",
            ),
        ] {
            match claims(iss, tid) {
                Err(LogoutTokenError::Issuer(text)) => assert!(text.contains(reason), "{text}"),
                other => panic!("{iss} {tid:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_claim_checks_follow_section_2_6() {
        let ok = check(valid()).expect("valid");
        assert_eq!(
            (ok.sid.as_deref(), ok.sub, ok.jti.as_str()),
            (Some("s-1"), None, "j-1")
        );
        assert!(check(with("aud", serde_json::json!([CLIENT]))).is_ok());
        assert!(check(with("iat", serde_json::json!(NOW as f64 + 0.5))).is_ok());
        assert!(matches!(
            check(with("aud", serde_json::json!([CLIENT, "other"]))),
            Err(LogoutTokenError::Audience(_))
        ));
        assert!(matches!(
            check(with("iss", serde_json::json!([ISSUER]))),
            Err(LogoutTokenError::Issuer(_))
        ));
        assert!(matches!(
            check(with("nonce", Value::Null)),
            Err(LogoutTokenError::Nonce)
        ));
        assert!(matches!(
            check(with("iat", serde_json::json!("1700000000"))),
            Err(LogoutTokenError::InvalidClaim { claim: "iat", .. })
        ));
        assert!(matches!(
            check(with(
                "events",
                serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: true })
            )),
            Err(LogoutTokenError::InvalidClaim {
                claim: "events",
                ..
            })
        ));
        assert!(matches!(
            check(with(
                "events",
                serde_json::json!([BACKCHANNEL_LOGOUT_EVENT])
            )),
            Err(LogoutTokenError::InvalidClaim {
                claim: "events",
                ..
            })
        ));
        assert!(matches!(
            check(with("sid", serde_json::json!(7))),
            Err(LogoutTokenError::InvalidClaim { claim: "sid", .. })
        ));
        assert!(matches!(
            check(with("jti", serde_json::json!(""))),
            Err(LogoutTokenError::InvalidClaim { claim: "jti", .. })
        ));
        let window = secs(LOGOUT_TOKEN_MAX_AGE);
        assert!(check(with("iat", serde_json::json!(NOW - window))).is_ok());
        assert!(matches!(
            check(with("iat", serde_json::json!(NOW - window - 1))),
            Err(LogoutTokenError::IssuedTooLongAgo(_))
        ));
        let skew = secs(LOGOUT_TOKEN_CLOCK_SKEW);
        assert!(check(with("iat", serde_json::json!(NOW + skew))).is_ok());
        assert!(matches!(
            check(with("iat", serde_json::json!(NOW + skew + 1))),
            Err(LogoutTokenError::IssuedInFuture(_))
        ));
    }

    #[test]
    fn typ_logout_jwt_and_jwt_are_accepted_and_others_refused() {
        for typ in [
            None,
            Some("JWT"),
            Some("logout+jwt"),
            Some("application/logout+JWT"),
        ] {
            assert!(check_type(typ).is_ok(), "{typ:?}");
        }
        for typ in ["at+jwt", "secevent+jwt", "JOSE"] {
            assert!(matches!(
                check_type(Some(typ)),
                Err(LogoutTokenError::Type(_))
            ));
        }
    }

    #[test]
    fn quoted_text_stays_on_one_short_line() {
        let quoted = for_log(&format!("a\nb{}", "x".repeat(500)));
        assert!(!quoted.contains('\n'));
        assert!(quoted.chars().count() <= 121);
    }
}
