//! The authorization endpoint: the sign-in page, and the code it hands back to the app.
use super::*;

/// The authorization request, as the app sends it and as the page posts it back.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct AuthorizeRequest {
    #[serde(default)]
    pub(super) response_type: String,
    #[serde(default)]
    pub(super) client_id: String,
    #[serde(default)]
    pub(super) redirect_uri: String,
    pub(super) state: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) code_challenge: Option<String>,
    pub(super) code_challenge_method: Option<String>,
}

impl DevIdp {
    /// An unknown client or redirect URI gets a page here, never a redirect (RFC 6749 §4.1.2.1);
    /// other problems go back to the app as `error=`.
    fn check(&self, request: &AuthorizeRequest) -> Result<(), Refusal> {
        if request.client_id != CLIENT_ID || !self.is_callback(&request.redirect_uri) {
            Err(Refusal::NotThisApp)
        } else if request.response_type != "code" {
            Err(Refusal::BackToApp(
                "unsupported_response_type",
                "only the code flow is supported",
            ))
        } else if request.code_challenge.is_none()
            || request.code_challenge_method.as_deref() != Some("S256")
        {
            Err(Refusal::BackToApp(
                "invalid_request",
                "PKCE with S256 is required",
            ))
        } else {
            Ok(())
        }
    }

    fn refuse(&self, request: &AuthorizeRequest, refusal: Refusal) -> Response {
        match refusal {
            Refusal::NotThisApp => {
                let page = page::error("This sign-in request does not come from this app.");
                (StatusCode::BAD_REQUEST, Html(page)).into_response()
            }
            Refusal::BackToApp(error, description) => self.back_to_app(
                request,
                &[("error", error), ("error_description", description)],
            ),
        }
    }

    fn back_to_app(&self, request: &AuthorizeRequest, params: &[(&str, &str)]) -> Response {
        let Ok(mut url) = Url::parse(&request.redirect_uri) else {
            return (
                StatusCode::BAD_REQUEST,
                Html(page::error("Invalid redirect URI.")),
            )
                .into_response();
        };
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                query.append_pair(name, value);
            }
            if let Some(state) = &request.state {
                query.append_pair("state", state);
            }
        }
        Redirect::to(url.as_str()).into_response()
    }
}

pub(super) async fn authorize_page(
    State(idp): State<Arc<DevIdp>>,
    Query(request): Query<AuthorizeRequest>,
) -> Response {
    if let Err(refusal) = idp.check(&request) {
        return idp.refuse(&request, refusal);
    }
    let cancel = idp.back_to_app(
        &request,
        &[
            ("error", "access_denied"),
            ("error_description", "cancelled at the development provider"),
        ],
    );
    let cancel_href = cancel
        .headers()
        .get(header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .unwrap_or("/")
        .to_owned();
    Html(page::sign_in(&request, &cancel_href)).into_response()
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(flatten)]
    request: AuthorizeRequest,
    #[serde(flatten)]
    person: Person,
}

pub(super) async fn authorize(
    State(idp): State<Arc<DevIdp>>,
    Form(form): Form<SignInForm>,
) -> Response {
    if let Err(refusal) = idp.check(&form.request) {
        return idp.refuse(&form.request, refusal);
    }
    let person = Person {
        name: form.person.name.trim().to_owned(),
        email: form.person.email.trim().to_owned(),
    };
    if person.name.is_empty() || !person.email.contains('@') {
        let page = page::error("Give a name and an email address to sign in as.");
        return (StatusCode::BAD_REQUEST, Html(page)).into_response();
    }
    let code = idp.issue_code(&form.request, person);
    idp.back_to_app(&form.request, &[("code", &code)])
}
