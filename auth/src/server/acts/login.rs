//! A login from start to finish, between the two requests that make it:
//! - start (`login`): pick the provider, make PKCE, `state` and `nonce`, seal them into a
//!   login-state cookie, and hand back the provider's authorization URL;
//! - finish (`/oauth2callback`): open that cookie, check `state`, exchange the code, check the
//!   ID token, and write the identity cookie.
//!
//! Read with `server_fns.rs` (the button's server function) and `routes.rs` (the callback's
//! HTTP side): button → server function → this module → cookie.
use axum::{
    extract::{Query, rejection::QueryRejection},
    http::{StatusCode, header},
};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_cookies::Cookies;
use url::Url;

use crate::{
    Auth, AuthError, User,
    login_params::LoginParams,
    server::log::{clip, outside_field, tell_developer},
    server::protocol::{Completion, OidcError},
    server::sealing::{LoginState, SealError, TooLarge},
    server::session::{BeginError, StoreError},
};

/// At most this much of a provider's `error_description` is shown to the visitor.
const MAX_DESCRIPTION_CHARS: usize = 300;

impl Auth {
    /// Starts a login with `provider`, which the browser sent to `began_at` (an origin, see
    /// [`began_at`]): seals a login-state cookie and returns where to send the browser.
    pub(crate) async fn start_login(
        &self,
        cookies: &Cookies,
        provider: Option<&str>,
        params: &LoginParams,
        return_to: String,
        began_at: Option<&Url>,
    ) -> Result<Url, AuthError> {
        if !self.is_configured() {
            return Err(AuthError::NotConfigured);
        }
        let provider = self.provider(provider)?;
        let params = params
            .checked(&provider.config().login_params)
            .map_err(AuthError::BadRequest)?;
        let redirect_uri = self.redirect_uri_for(began_at)?;
        let authorization = provider
            .authorize_to(redirect_uri.as_ref(), params)
            .await
            .map_err(|error| {
                tell_developer!(
                    warn,
                    "cannot start a login with {}: {}",
                    provider.config().label(),
                    crate::server::log::one_line(&error.to_string())
                );
                AuthError::ProviderUnavailable(error.public_message())
            })?;
        let login = LoginState {
            state: authorization.state,
            nonce: authorization.nonce,
            pkce_verifier: authorization.pkce_verifier,
            provider: provider.config().name.clone(),
            return_to,
            redirect_uri,
            max_age: params
                .get("max_age")
                .or(provider
                    .config()
                    .auth_params
                    .get("max_age")
                    .map(String::as_str))
                .and_then(|max_age| max_age.parse().ok()),
            // Only a login's own: `client_kwargs`' acr_values stay the hint the standard
            // makes them, so a provider that answers with another class keeps working.
            acr_values: params.get("acr_values").map(str::to_owned),
        };
        let now = OffsetDateTime::now_utc();
        let cookie = self
            .codec()
            .login_state_cookie(&login, now)
            .map_err(|_| AuthError::Internal)?;
        // However many logins this browser started and abandoned, only a few stay.
        let present = cookies.list();
        for name in self.codec().login_states_to_drop(&present, &cookie, now) {
            cookies.add(self.codec().removal(&name));
        }
        cookies.add(cookie);
        Ok(authorization.url)
    }

    /// Where the provider is to send back a login begun at `began_at`: `None` for the
    /// configured `redirect_uri`, or with the development provider the same server under the
    /// loopback name the visitor used. Any other host is refused, saying why: the browser
    /// keeps the login-state cookie for the host it began at, so the callback would find no
    /// login there and say only that it expired.
    fn redirect_uri_for(&self, began_at: Option<&Url>) -> Result<Option<Url>, AuthError> {
        let home = self.home();
        let Some(began_at) = began_at.filter(|began_at| began_at.host() != home.host()) else {
            return Ok(None);
        };
        if let Some(callback) = self.dev_slot().callback_at(began_at) {
            return Ok(Some(callback));
        }
        let began = outside_field(began_at.authority());
        let returns = home.authority();
        tell_developer!(
            warn,
            "sign-in refused: this sign-in began at {began} but the provider returns to \
             {returns} (redirect_uri), and the browser keeps the login's cookie for {began} \
             only; open the site at {returns}, or set redirect_uri to the address it is \
             opened at"
        );
        Err(AuthError::WrongAddress(format!(
            "This sign-in began at {began} but the provider returns to {returns}. \
             Open the site at {home} and sign in there."
        )))
    }
}

/// The origin a browser sent this request to, and so the host its cookies are kept for:
/// known when the page's own origin (`Origin`, else `Referer`) names the host the request
/// came to. A proxy that rewrites `Host` leaves it unknown, never wrong, and a mismatch of
/// the two says nothing either (a trusted origin's page posting here).
pub(crate) fn began_at(request: &http::request::Parts) -> Option<Url> {
    let header = |name| {
        request
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let page = header(header::ORIGIN)
        .or_else(|| header(header::REFERER))
        .and_then(|text| Url::parse(text).ok())?;
    let sent_to = match request.uri.authority() {
        Some(authority) => authority.clone(),
        None => header(header::HOST)?.parse::<http::uri::Authority>().ok()?,
    };
    // Both write an IPv6 address in brackets.
    let same_host = page
        .host_str()
        .is_some_and(|host| host.eq_ignore_ascii_case(sent_to.host()));
    same_host.then(|| Url::parse(&page.origin().ascii_serialization()).ok())?
}

/// What a provider may put on the redirect back (RFC 6749 §4.1.2).
#[derive(Deserialize)]
pub(crate) struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// RFC 9207: which provider sent the visitor back, against mix-up attacks.
    iss: Option<String>,
}

/// Why a callback did not sign anyone in. `Display` is for the log; the page says less.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallbackFailure {
    #[error("malformed callback query: {0}")]
    BadQuery(String),
    #[error(
        "the provider returned error={} error_description={}",
        outside_field(error),
        description.as_deref().map(outside_field).unwrap_or_default()
    )]
    ProviderSaidNo {
        error: String,
        description: Option<String>,
    },
    #[error("no state in the callback")]
    MissingState,
    #[error("no login under way for this state (no login-state cookie, or it did not open)")]
    UnknownState,
    #[error("no code in the callback")]
    MissingCode,
    #[error("the provider of this login is no longer configured")]
    ProviderGone,
    /// The app's `map_claims` hook refused this account; the reason is the app's words.
    #[error("the app refused this account: {}", outside_field(.0))]
    RefusedByApp(String),
    #[error("the callback names issuer {}, not the provider this login went to", outside_field(.0))]
    WrongIssuer(String),
    #[error("the callback names no issuer (iss), which this login's provider always sends")]
    MissingIssuer,
    #[error("{0}")]
    Oidc(#[from] OidcError),
    #[error("{0}")]
    TooLarge(#[from] TooLarge),
    #[error("{0}")]
    StoreUnavailable(StoreError),
    #[error("the ID token's subject (sub) is empty: it names no account")]
    NoSubject,
    #[error("cannot seal {0}")]
    Sealing(String),
}

impl From<BeginError> for CallbackFailure {
    fn from(error: BeginError) -> Self {
        match error {
            BeginError::Seal(SealError::TooLarge(error)) => Self::TooLarge(error),
            BeginError::Seal(SealError::Failed(what)) => Self::Sealing(what),
            BeginError::Store(error) => Self::StoreUnavailable(error),
        }
    }
}

impl CallbackFailure {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Oidc(error) => error.status(),
            Self::TooLarge(_) | Self::Sealing(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::NoSubject => StatusCode::BAD_GATEWAY,
            Self::RefusedByApp(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether this browser's own login failed (its login-state cookie matched), rather than
    /// a request nobody here started: those are always logged, the rest rate-limited.
    pub(crate) fn own_login(&self) -> bool {
        !matches!(
            self,
            Self::BadQuery(_) | Self::MissingState | Self::UnknownState
        )
    }

    /// The kind, for rate-limiting the log lines of requests nobody here started.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::BadQuery(_) => "malformed callback",
            Self::MissingState => "callback without state",
            Self::UnknownState => "callback for no login under way",
            _ => "failed login",
        }
    }

    pub(crate) fn public_message(&self) -> String {
        match self {
            Self::ProviderSaidNo { error, description } => {
                let said = |text: &str| {
                    clip(text, MAX_DESCRIPTION_CHARS)
                        .map(|start| format!("{start}…"))
                        .unwrap_or_else(|| text.to_owned())
                };
                match description {
                    Some(description) => format!(
                        "The sign-in provider said: {}: {}",
                        said(error),
                        said(description)
                    ),
                    None => format!("The sign-in provider said: {}", said(error)),
                }
            }
            Self::BadQuery(_)
            | Self::MissingState
            | Self::MissingCode
            | Self::WrongIssuer(_)
            | Self::MissingIssuer => {
                "This is not a valid sign-in response. Please start again.".to_owned()
            }
            Self::UnknownState => {
                "This sign-in has expired or was already used. Please start again.".to_owned()
            }
            Self::ProviderGone => "This sign-in provider is no longer available.".to_owned(),
            Self::RefusedByApp(reason) => reason.clone(),
            Self::Oidc(error) => error.public_message(),
            Self::TooLarge(_) => {
                "Your account's profile is too large for this app's sign-in cookie.".to_owned()
            }
            Self::StoreUnavailable(_) => crate::AuthError::StoreUnavailable.to_string(),
            Self::Sealing(_) => crate::AuthError::Internal.to_string(),
            Self::NoSubject => {
                "The sign-in provider did not say which account this is. Please start again."
                    .to_owned()
            }
        }
    }
}

/// Checks the callback against the login-state cookie, finishes the login with the provider
/// and writes the identity cookie. Returns the path to send the visitor back to. Of the
/// browser's `user_agent` only a coarse name is kept ("Chrome on Linux"), for the list of
/// where one is signed in.
pub(crate) async fn finish_login(
    auth: &Auth,
    cookies: &Cookies,
    params: Result<Query<CallbackParams>, QueryRejection>,
    user_agent: Option<&str>,
) -> Result<String, CallbackFailure> {
    let Query(params) =
        params.map_err(|rejection| CallbackFailure::BadQuery(rejection.body_text()))?;
    let state = params.state.ok_or(CallbackFailure::MissingState)?;
    // One use only: whatever happens next, this login is over.
    let login = take_login_state(auth, cookies, &state);
    // The provider's words are shown only for a login this browser started: otherwise any
    // link could put text of its choosing on a page of this site.
    if let (Some(error), Some(_)) = (&params.error, &login) {
        return Err(CallbackFailure::ProviderSaidNo {
            error: error.clone(),
            description: params.error_description,
        });
    }
    let login = login.ok_or(CallbackFailure::UnknownState)?;
    let code = params.code.ok_or(CallbackFailure::MissingCode)?;
    let provider = auth
        .provider_named(login.provider.as_deref())
        .ok_or(CallbackFailure::ProviderGone)?;
    // RFC 9207 against mix-up: a present `iss` names this login's provider (for a
    // multi-tenant one, the issuer of a tenant it accepts); an absent one is refused where the
    // provider promised to always send it. (Where it did not, the code goes only to this
    // login's provider, whose ID token must name it as issuer.)
    match &params.iss {
        Some(iss) if !provider.names_issuer(iss).await? => {
            return Err(CallbackFailure::WrongIssuer(iss.clone()));
        }
        None if provider.promises_iss().await? => return Err(CallbackFailure::MissingIssuer),
        _ => {}
    }
    let (mut claims, mut tokens) = provider
        .complete_at(
            Completion {
                code,
                pkce_verifier: login.pkce_verifier,
                nonce: &login.nonce,
                max_age: login.max_age,
            },
            login.redirect_uri.as_ref(),
        )
        .await?;
    if let Some(acr_values) = &login.acr_values {
        crate::server::protocol::strong_enough(&claims, acr_values)?;
    }
    let verified_iss = claims.get("iss").and_then(serde_json::Value::as_str);
    // The redirect and the ID token name the same issuer: for a multi-tenant provider, the
    // same tenant. (For any other, both are its one issuer already.)
    if let Some(iss) = &params.iss
        && verified_iss != Some(iss.as_str())
    {
        return Err(CallbackFailure::Oidc(OidcError::IdToken(
            "the ID token's issuer is not the one the redirect named (iss)".to_owned(),
        )));
    }
    // The account, named before the app's hook may change the claims.
    let account =
        crate::server::session::Account::of(provider.account_issuer(verified_iss), &claims)
            .ok_or(CallbackFailure::NoSubject)?;
    auth.hooks()
        .map_claims(&mut claims, login.provider.as_deref())
        .map_err(CallbackFailure::RefusedByApp)?;
    if tokens.scopes.is_empty() {
        tokens.scopes = provider.config().scopes();
    }
    let keep_tokens = provider.config().keeps_tokens();
    let user = User::signed_in(claims, login.provider);
    let device = user_agent.and_then(crate::server::session::device_of);
    auth.sessions()
        .begin_on(
            auth.codec(),
            cookies,
            &user,
            &account,
            keep_tokens.then_some(&tokens),
            device.as_deref(),
        )
        .await?;
    tracing::info!(provider = %provider.config().label(), "signed in");
    auth.hooks().signed_in(&user);
    Ok(login.return_to)
}

/// Opens the login-state cookie for `state` and tells the browser to drop it.
fn take_login_state(auth: &Auth, cookies: &Cookies, state: &str) -> Option<LoginState> {
    let codec = auth.codec();
    let name = codec.login_state_name(state)?;
    let cookie = cookies.get(&name)?.into_owned();
    cookies.add(codec.removal(&name));
    codec.open_login_state(&cookie, state, OffsetDateTime::now_utc())
}

#[cfg(all(test, feature = "dev-idp"))]
mod tests;
