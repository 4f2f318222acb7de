//! The token endpoint (PKCE and the client checked, an ES256 ID token signed) and userinfo.
use super::*;

#[derive(Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    code_verifier: String,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": error, "error_description": description });
    (status, Json(body)).into_response()
}

pub(super) async fn token(
    State(idp): State<Arc<DevIdp>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if !idp.client_authenticated(&headers, &form) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    if form.grant_type != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    // A code is good once, and only for a minute.
    let grant = lock(&idp.grants).remove(&form.code);
    let Some(grant) = grant.filter(|grant| grant.issued.elapsed() < CODE_LIFETIME) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown, used or expired code",
        );
    };
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(form.code_verifier));
    if grant.redirect_uri != form.redirect_uri || challenge.as_str() != grant.code_challenge {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri or code_verifier does not match",
        );
    }
    match idp.tokens_for(&grant, &form.code) {
        Ok(response) => ([(header::CACHE_CONTROL, "no-store")], Json(response)).into_response(),
        Err(error) => oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &error.to_string(),
        ),
    }
}

impl DevIdp {
    /// `client_secret_basic` (what openidconnect sends) or `client_secret_post`.
    fn client_authenticated(&self, headers: &HeaderMap, form: &TokenForm) -> bool {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Basic "))
            .and_then(|encoded| {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()
            })
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .and_then(|pair| {
                let (id, secret) = pair.split_once(':')?;
                let decode = |text: &str| {
                    url::form_urlencoded::parse(format!("v={text}").as_bytes())
                        .next()
                        .map(|(_, value)| value.into_owned())
                };
                Some((decode(id)?, decode(secret)?))
            });
        let (id, secret) = match basic {
            Some(pair) => pair,
            None => match (&form.client_id, &form.client_secret) {
                (Some(id), Some(secret)) => (id.clone(), secret.clone()),
                _ => return false,
            },
        };
        id == CLIENT_ID && secret == self.client_secret
    }

    fn tokens_for(&self, grant: &Grant, code: &str) -> Result<CoreTokenResponse, DevIdpError> {
        let access_token = AccessToken::new(CsrfToken::new_random().into_secret());
        let now = chrono::Utc::now();
        let lifetime = chrono::Duration::from_std(TOKEN_LIFETIME)
            .map_err(|error| DevIdpError(error.to_string()))?;
        let claims = IdTokenClaims::new(
            IssuerUrl::new(self.issuer.clone()).map_err(|error| DevIdpError(error.to_string()))?,
            vec![Audience::new(CLIENT_ID.to_owned())],
            now + lifetime,
            now,
            self.claims_of(&grant.person),
            EmptyAdditionalClaims {},
        )
        .set_nonce(grant.nonce.clone().map(Nonce::new))
        .set_auth_time(Some(grant.signed_in_at));
        let id_token = IdToken::new(
            claims,
            &self.key,
            SIGNING_ALG,
            Some(&access_token),
            Some(&AuthorizationCode::new(code.to_owned())),
        )
        .map_err(|error| DevIdpError(error.to_string()))?;
        {
            let mut tokens = lock(&self.tokens);
            tokens.retain(|_, (_, issued)| issued.elapsed() < TOKEN_LIFETIME);
            tokens.insert(
                access_token.secret().clone(),
                (grant.person.clone(), Instant::now()),
            );
        }
        let mut response = CoreTokenResponse::new(
            access_token,
            CoreTokenType::Bearer,
            CoreIdTokenFields::new(Some(id_token), EmptyExtraTokenFields {}),
        );
        response.set_expires_in(Some(&TOKEN_LIFETIME));
        Ok(response)
    }
}

pub(super) async fn userinfo(State(idp): State<Arc<DevIdp>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let person = token.and_then(|token| {
        lock(&idp.tokens)
            .get(token)
            .filter(|(_, issued)| issued.elapsed() < TOKEN_LIFETIME)
            .map(|(person, _)| person.clone())
    });
    match person {
        Some(person) => {
            let claims: UserInfoClaims<EmptyAdditionalClaims, _> =
                UserInfoClaims::new(idp.claims_of(&person), EmptyAdditionalClaims {});
            Json(claims).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response(),
    }
}
