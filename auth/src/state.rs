//! `Auth`: what one server process knows about sign-in: the configuration, the cookie keys
//! and the providers. Cheap to clone; shared by the callback route and the server functions
//! through the request's extensions.
use std::sync::Arc;

use axum::{Extension, Router};
use cookie::Key;
use time::OffsetDateTime;
use tower_cookies::{CookieManagerLayer, Cookies};
use url::Url;

use crate::{
    AuthError, User,
    config::{self, AuthConfig, ConfigError},
    cookies::{CookieCodec, LoginState},
    oidc::Provider,
    return_to,
};

/// The sign-in service: build it once at start-up, then `auth.install(router)`.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    codec: CookieCodec,
    providers: Vec<Provider>,
    /// The app's own origin, from `redirect_uri`: return paths must stay on it.
    origin: Url,
    callback_path: String,
    configured: bool,
}

/// Why the server cannot start with this sign-in configuration.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error(
        "sign-in is not configured: write an [auth] table (redirect_uri, cookie_secret, \
         client_id, client_secret, server_metadata_url) in {file}, or name another file with \
         {env}; see the README's configuration reference"
    )]
    NotConfigured { file: String, env: &'static str },
    #[error("cannot build the HTTP client for the providers: {0}")]
    Http(String),
}

impl Auth {
    /// Reads the secrets file and the environment. Without any `[auth]` configuration a debug
    /// build starts with sign-in switched off (and says so); a release build refuses.
    pub fn from_env() -> Result<Self, SetupError> {
        match config::load()? {
            Some(config) => Self::new(config),
            None if cfg!(debug_assertions) => {
                tracing::warn!(
                    "sign-in is not configured: add an [auth] table to {} (see the README); \
                     \"Log in\" will explain this until then",
                    config::DEFAULT_SECRETS_FILE
                );
                Ok(Self::unconfigured())
            }
            None => Err(SetupError::NotConfigured {
                file: config::DEFAULT_SECRETS_FILE.to_owned(),
                env: config::SECRETS_FILE_ENV,
            }),
        }
    }

    pub fn new(config: AuthConfig) -> Result<Self, SetupError> {
        let http = Provider::http_client().map_err(|error| SetupError::Http(error.to_string()))?;
        let providers = config
            .providers
            .iter()
            .map(|provider| Provider::new(provider.clone(), &config.redirect_uri, http.clone()))
            .collect();
        Ok(Self(Arc::new(Inner {
            codec: CookieCodec::new(&config.cookie_secret, config.is_https()),
            providers,
            origin: config.redirect_uri.clone(),
            callback_path: config.redirect_uri.path().to_owned(),
            configured: true,
        })))
    }

    /// Sign-in switched off: every visitor is signed out and `login` says why.
    pub fn unconfigured() -> Self {
        let origin = Url::parse("http://localhost/").expect("a constant URL parses");
        Self(Arc::new(Inner {
            codec: CookieCodec::with_key(Key::generate(), false),
            providers: Vec::new(),
            origin,
            callback_path: "/oauth2callback".to_owned(),
            configured: false,
        }))
    }

    /// Adds the callback route and what the sign-in server functions and `use_user()` need
    /// (the cookie layer and this `Auth`) to the app's router.
    pub fn install(&self, router: Router) -> Router {
        router
            .merge(crate::routes::callback_router(&self.0.callback_path))
            .layer(Extension(self.clone()))
            .layer(CookieManagerLayer::new())
    }

    pub(crate) fn codec(&self) -> &CookieCodec {
        &self.0.codec
    }

    /// Who sent this request. A cookie that does not open is removed: the visitor is signed out.
    pub(crate) fn user(&self, cookies: &Cookies) -> User {
        let name = self.0.codec.identity_name();
        let Some(cookie) = cookies.get(&name) else {
            return User::default();
        };
        match self
            .0
            .codec
            .open_identity(&cookie.into_owned(), OffsetDateTime::now_utc())
        {
            Some(user) => user,
            None => {
                tracing::info!(
                    "cleared an identity cookie that did not open (forged, damaged, old key or expired)"
                );
                cookies.add(self.0.codec.removal(&name));
                User::default()
            }
        }
    }

    /// Starts a login with `provider`: seals a login-state cookie and returns where to send
    /// the browser. `next` (else the `Referer`) is where to come back to, if it is on this site.
    pub(crate) async fn start_login(
        &self,
        cookies: &Cookies,
        provider: Option<&str>,
        next: Option<&str>,
        referer: Option<&str>,
    ) -> Result<Url, AuthError> {
        if !self.0.configured {
            return Err(AuthError::NotConfigured);
        }
        let provider = self.provider(provider)?;
        let authorization = provider.authorize().await.map_err(|error| {
            tracing::warn!(provider = %provider.config().label(), "cannot start a login: {error}");
            AuthError::Provider(error.public_message().to_owned())
        })?;
        let return_to = next
            .and_then(|next| return_to::same_site_path(next, &self.0.origin))
            .or_else(|| {
                referer.and_then(|referer| return_to::referer_path(referer, &self.0.origin))
            })
            .unwrap_or_else(|| "/".to_owned());
        let login = LoginState {
            state: authorization.state,
            nonce: authorization.nonce,
            pkce_verifier: authorization.pkce_verifier,
            provider: provider.config().name.clone(),
            return_to,
        };
        let cookie = self
            .0
            .codec
            .login_state_cookie(&login, OffsetDateTime::now_utc())
            .ok_or_else(|| AuthError::Provider("could not start the login".to_owned()))?;
        cookies.add(cookie);
        Ok(authorization.url)
    }

    fn provider(&self, name: Option<&str>) -> Result<&Provider, AuthError> {
        let wanted = name.filter(|name| !name.is_empty());
        if let Some(found) = self
            .0
            .providers
            .iter()
            .find(|p| p.config().name.as_deref() == wanted)
        {
            return Ok(found);
        }
        if let (None, [only]) = (wanted, self.0.providers.as_slice()) {
            return Ok(only);
        }
        let choices = self
            .0
            .providers
            .iter()
            .filter_map(|p| p.config().name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        Err(AuthError::Provider(match wanted {
            Some(name) => format!(
                "There is no sign-in provider called \"{name}\"; the choices are: {choices}."
            ),
            None => format!("Several sign-in providers are configured; choose one of: {choices}."),
        }))
    }

    /// The provider a login-state cookie names, if it is still configured.
    pub(crate) fn provider_named(&self, name: Option<&str>) -> Option<&Provider> {
        self.0
            .providers
            .iter()
            .find(|p| p.config().name.as_deref() == name)
    }
}
