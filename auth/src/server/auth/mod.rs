//! `Auth`: what one server process knows about sign-in: the configuration, the cookie keys
//! and the providers. Cheap to clone; shared by the callback route and the server functions
//! through the request's extensions.
pub(crate) mod dev_slot;
pub(crate) mod hooks;

use std::{net::SocketAddr, sync::Arc};

use cookie::Key;
use url::Url;

use crate::{
    AuthError, return_to,
    server::auth::dev_slot::DevSlot,
    server::config::{self, AuthConfig, ConfigError},
    server::protocol::Provider,
    server::sealing::CookieCodec,
};

/// The sign-in service: build it once at start-up, then `auth.install(router)`.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    codec: CookieCodec,
    providers: Vec<Provider>,
    /// The app's own origin, from `redirect_uri`: return paths must stay on it.
    origin: Url,
    /// Whose pages may sign a visitor in or out: `origin`'s and `trusted_origins`.
    own_origins: Vec<url::Origin>,
    callback_path: String,
    /// Where providers post back-channel logout tokens.
    backchannel_path: String,
    /// Rate-limits the log lines of callbacks nobody here started.
    log_throttle: crate::server::log::Throttle,
    hooks: crate::server::auth::hooks::HookSet,
    configured: bool,
    dev: DevSlot,
    sessions: crate::server::session::Sessions,
}

impl Inner {
    fn configured(config: AuthConfig, timeout: std::time::Duration) -> Result<Self, SetupError> {
        let http =
            Provider::http_client(timeout).map_err(|error| SetupError::Http(error.to_string()))?;
        let providers = config
            .providers
            .iter()
            .map(|provider| Provider::new(provider.clone(), &config.redirect_uri, http.clone()))
            .collect();
        let sessions = crate::server::session::Sessions::new(&config.sessions)
            .map_err(SetupError::SessionStore)?;
        let own_origins = std::iter::once(config.redirect_uri.origin())
            .chain(config.trusted_origins.iter().map(Url::origin))
            .collect();
        Ok(Self {
            codec: CookieCodec::new(&config.cookie_secret, config.is_https())
                .with_previous_secrets(&config.previous_cookie_secrets),
            providers,
            origin: config.redirect_uri.clone(),
            own_origins,
            callback_path: config.redirect_uri.path().to_owned(),
            backchannel_path: config.backchannel_logout_path.clone(),
            log_throttle: crate::server::log::Throttle::new(LOG_INTERVAL),
            hooks: Default::default(),
            configured: true,
            dev: DevSlot::default(),
            sessions,
        })
    }
}

/// Refusals of requests nobody here started are logged at most this often, per kind.
const LOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// A longer return path is dropped for `/`.
const MAX_RETURN_PATH_BYTES: usize = 1024;

/// Set to exactly this value, allows the development provider in a release build: for demos
/// only, since anyone can then sign in as anyone.
pub(crate) const DEV_PROVIDER_IN_RELEASE_ENV: &str = "AUTH_DEV_PROVIDER_IN_RELEASE";
pub(crate) const DEV_PROVIDER_IN_RELEASE_VALUE: &str = "anyone-can-sign-in-as-anyone";

/// How the server signs people in, decided once at start-up.
#[derive(Debug, PartialEq, Eq)]
enum Startup {
    /// With the `[auth]` configuration.
    Configured,
    /// With the embedded development provider.
    DevProvider,
    /// Not at all (a debug build whose app compiled the development provider out).
    SignInOff,
}

/// Without configuration only a debug build (or an explicit opt-in) may start.
fn startup(
    configured: bool,
    debug_build: bool,
    release_opt_in: bool,
) -> Result<Startup, SetupError> {
    let dev_idp_compiled = cfg!(feature = "dev-idp");
    match (configured, debug_build || release_opt_in) {
        (true, _) => Ok(Startup::Configured),
        (false, true) if dev_idp_compiled => Ok(Startup::DevProvider),
        (false, _) if debug_build => Ok(Startup::SignInOff),
        (false, _) => Err(SetupError::NotConfigured {
            file: config::DEFAULT_SECRETS_FILE.to_owned(),
            env: config::SECRETS_FILE_ENV,
        }),
    }
}

/// Why the server cannot start with this sign-in configuration.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    /// The `[auth]` table (or an `AUTH_*` variable) is wrong; the error names file and key.
    Config(#[from] ConfigError),
    #[error(
        "sign-in is not configured: write an [auth] table (redirect_uri, cookie_secret, \
         client_id, client_secret, server_metadata_url) in {file}, or name another file with \
         {env}; see the README's configuration reference"
    )]
    /// A release build without configuration.
    NotConfigured {
        /// The secrets file looked for.
        file: String,
        /// The variable that names another.
        env: &'static str,
    },
    #[error("cannot build the HTTP client for the providers: {0}")]
    /// The HTTP client for the providers could not be built.
    Http(String),
    #[error("{0}")]
    /// The development provider could not start.
    DevProvider(String),
    #[error("auth.session_store: {0}")]
    /// The session store named by `session_store` cannot be used (a SQLite file that does not
    /// open); the text names the file.
    SessionStore(String),
}

impl Auth {
    /// Reads the secrets file and the environment. Without any `[auth]` configuration a
    /// debug build signs in through the development provider (feature `dev-idp`), served on
    /// the address Leptos's configuration names (`LEPTOS_SITE_ADDR` or the Cargo.toml
    /// metadata); a release build refuses to start.
    pub fn from_env() -> Result<Self, SetupError> {
        let config = config::load()?;
        let opt_in = std::env::var(DEV_PROVIDER_IN_RELEASE_ENV).ok();
        let opt_in = opt_in.as_deref() == Some(DEV_PROVIDER_IN_RELEASE_VALUE);
        match (
            startup(config.is_some(), cfg!(debug_assertions), opt_in)?,
            config,
        ) {
            (Startup::Configured, Some(config)) => Self::new(config),
            (Startup::DevProvider, _) => {
                let leptos = leptos::config::get_configuration(None)
                    .map_err(|error| SetupError::DevProvider(error.to_string()))?;
                Self::with_dev_provider(leptos.leptos_options.site_addr)
            }
            _ => {
                crate::server::log::tell_developer!(
                    warn,
                    "sign-in is switched off: add an [auth] table to {} (see the README)",
                    config::DEFAULT_SECRETS_FILE
                );
                Ok(Self::unconfigured())
            }
        }
    }

    /// Signs in through the development provider, started for an app on `site_addr`.
    pub(crate) fn with_dev_provider(site_addr: SocketAddr) -> Result<Self, SetupError> {
        match DevSlot::start(site_addr).map_err(SetupError::DevProvider)? {
            Some((dev, config)) => {
                let mut inner =
                    Inner::configured(config, crate::server::protocol::PROVIDER_TIMEOUT)?;
                inner.dev = dev;
                Ok(Self(Arc::new(inner)))
            }
            None => Ok(Self::unconfigured()),
        }
    }

    #[cfg(all(test, feature = "dev-idp"))]
    pub(crate) fn dev_provider(&self) -> Option<&Arc<crate::server::dev_idp::DevIdp>> {
        self.0.dev.idp()
    }

    /// Whether sign-in goes through the development provider (pages show a banner).
    pub fn dev_provider_active(&self) -> bool {
        self.0.dev.active()
    }

    /// The service for a configuration built in code (tests); apps use [`Auth::from_env`].
    #[doc(hidden)]
    pub fn new(config: AuthConfig) -> Result<Self, SetupError> {
        Self::with_provider_timeout(config, crate::server::protocol::PROVIDER_TIMEOUT)
    }

    /// As [`Auth::new`], with another limit on each call to a provider (tests use a short one).
    #[doc(hidden)]
    pub fn with_provider_timeout(
        config: AuthConfig,
        timeout: std::time::Duration,
    ) -> Result<Self, SetupError> {
        Ok(Self(Arc::new(Inner::configured(config, timeout)?)))
    }

    /// Sign-in switched off: every visitor is signed out and `login` says why.
    #[doc(hidden)]
    pub fn unconfigured() -> Self {
        let origin = Url::parse("http://localhost/").expect("a constant URL parses");
        Self(Arc::new(Inner {
            codec: CookieCodec::with_key(Key::generate(), false),
            providers: Vec::new(),
            own_origins: vec![origin.origin()],
            origin,
            callback_path: "/oauth2callback".to_owned(),
            backchannel_path: config::DEFAULT_BACKCHANNEL_LOGOUT_PATH.to_owned(),
            log_throttle: crate::server::log::Throttle::new(LOG_INTERVAL),
            hooks: Default::default(),
            configured: false,
            dev: DevSlot::default(),
            sessions: crate::server::session::Sessions::cookie_only(),
        }))
    }

    /// Calls `hook` after each sign-in, with who, which provider and when: for audit logs.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), leptos_login::server::SetupError> {
    /// let auth = leptos_login::Auth::from_env()?.on_login(|event| {
    ///     tracing::info!(user = ?event.user.id(), "signed in");
    /// });
    /// # Ok(()) }
    /// ```
    pub fn on_login(
        self,
        hook: impl Fn(&crate::server::auth::hooks::AuthEvent) + Send + Sync + 'static,
    ) -> Self {
        self.0.hooks.add(|hooks| hooks.on_login(hook));
        self
    }

    /// Calls `hook` after each logout of someone signed in.
    pub fn on_logout(
        self,
        hook: impl Fn(&crate::server::auth::hooks::AuthEvent) + Send + Sync + 'static,
    ) -> Self {
        self.0.hooks.add(|hooks| hooks.on_logout(hook));
        self
    }

    /// Lets `hook` change the claims (and the provider name, `None` for the unnamed one) of
    /// each sign-in before they are kept: drop what the app does not need, rename, or refuse
    /// the sign-in with `Err(reason)`, which the visitor reads on the error page (403).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), leptos_login::server::SetupError> {
    /// let auth = leptos_login::Auth::from_env()?.map_claims(|claims, _provider| {
    ///     claims.remove("picture");
    ///     match claims.get("email").and_then(|email| email.as_str()) {
    ///         Some(email) if email.ends_with("@example.com") => Ok(()),
    ///         _ => Err("Only example.com accounts may sign in here.".to_owned()),
    ///     }
    /// });
    /// # Ok(()) }
    /// ```
    pub fn map_claims(
        self,
        hook: impl Fn(&mut crate::user::Claims, Option<&str>) -> Result<(), String>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.0.hooks.add(|hooks| hooks.map_claims(hook));
        self
    }

    /// Keeps sessions in `store`, the app's own [`SessionStore`](crate::store::SessionStore)
    /// (a table in the app's database, through the pool it already has), whatever
    /// `session_store` says. Call it at start-up, before `install` or any clone of this
    /// `Auth`: it panics on one already shared, as a router panics on a route given twice.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), leptos_login::server::SetupError> {
    /// let auth = leptos_login::Auth::from_env()?.with_store(leptos_login::store::MemoryStore::new());
    /// # Ok(()) }
    /// ```
    pub fn with_store(mut self, store: impl crate::server::session::SessionStore) -> Self {
        let described = format!("the app's store ({})", std::any::type_name_of_val(&store));
        match Arc::get_mut(&mut self.0) {
            Some(inner) => inner.sessions.set_store(Arc::new(store), described),
            None => panic!("Auth::with_store on an Auth already cloned: call it first"),
        }
        self
    }

    pub(crate) fn hooks(&self) -> &crate::server::auth::hooks::HookSet {
        &self.0.hooks
    }

    pub(crate) fn log_throttle(&self) -> &crate::server::log::Throttle {
        &self.0.log_throttle
    }

    pub(crate) fn own_origins(&self) -> &[url::Origin] {
        &self.0.own_origins
    }

    pub(crate) fn dev_slot(&self) -> &DevSlot {
        &self.0.dev
    }

    pub(crate) fn callback_path(&self) -> &str {
        &self.0.callback_path
    }

    pub(crate) fn backchannel_path(&self) -> &str {
        &self.0.backchannel_path
    }

    pub(crate) fn is_callback(&self, path: &str) -> bool {
        path == self.0.callback_path
    }

    pub(crate) fn is_configured(&self) -> bool {
        self.0.configured
    }

    pub(crate) fn codec(&self) -> &CookieCodec {
        &self.0.codec
    }

    /// The configured providers.
    pub(crate) fn providers(&self) -> &[Provider] {
        &self.0.providers
    }

    /// The app's home page: `redirect_uri`'s origin.
    pub(crate) fn home(&self) -> Url {
        let mut home = self.0.origin.clone();
        home.set_path("/");
        home.set_query(None);
        home
    }

    /// This `Auth`'s sessions on `clock` (tests: time passes at once).
    #[doc(hidden)]
    pub fn with_session_clock(mut self, clock: crate::server::session::WallClock) -> Self {
        match std::sync::Arc::get_mut(&mut self.0) {
            Some(inner) => inner.sessions.set_clock(clock),
            None => panic!("with_session_clock before the Auth is shared"),
        }
        self
    }

    pub(crate) fn sessions(&self) -> &crate::server::session::Sessions {
        &self.0.sessions
    }

    /// Where to come back to after a login: `next`, else the `Referer`, if it is a path on
    /// this site and short enough for the login-state cookie; else `/`. The site is
    /// `began_at` when the request's own origin is known (`localhost` for `127.0.0.1`).
    pub(crate) fn return_path(
        &self,
        next: Option<&str>,
        referer: Option<&str>,
        began_at: Option<&Url>,
    ) -> String {
        let site = began_at.unwrap_or(&self.0.origin);
        next.and_then(|next| return_to::same_site_path(next, &self.0.origin))
            .or_else(|| referer.and_then(|referer| return_to::referer_path(referer, site)))
            .filter(|path| path.len() <= MAX_RETURN_PATH_BYTES)
            .unwrap_or_else(|| "/".to_owned())
    }

    pub(crate) fn provider(&self, name: Option<&str>) -> Result<&Provider, AuthError> {
        let wanted = name.filter(|name| !name.is_empty());
        if let Some(found) = self.provider_named(wanted) {
            return Ok(found);
        }
        if let (None, [only]) = (wanted, self.0.providers.as_slice()) {
            return Ok(only);
        }
        let named: Vec<&str> = self
            .0
            .providers
            .iter()
            .filter_map(|p| p.config().name.as_deref())
            .collect();
        let choices = named.join(", ");
        let has_default = self.0.providers.iter().any(|p| p.config().name.is_none());
        Err(AuthError::UnknownProvider(
            match (wanted, named.is_empty()) {
                (Some(name), true) => format!(
                    "There is no sign-in provider called \"{}\": this site has only its default \
                 provider, so name none.",
                    crate::server::log::outside_field(name)
                ),
                (Some(name), false) => format!(
                    "There is no sign-in provider called \"{}\"; the choices are: {choices}{}.",
                    crate::server::log::outside_field(name),
                    if has_default {
                        ", or none for the default"
                    } else {
                        ""
                    }
                ),
                (None, _) => {
                    format!("Several sign-in providers are configured; choose one of: {choices}.")
                }
            },
        ))
    }

    /// The provider a login-state cookie names, if it is still configured.
    pub(crate) fn provider_named(&self, name: Option<&str>) -> Option<&Provider> {
        self.0
            .providers
            .iter()
            .find(|p| p.config().name.as_deref() == name)
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;

    use super::*;
    use crate::User;

    pub(super) fn auth(providers: &str) -> Auth {
        crate::server::test_support::auth(
            "http://localhost:3000",
            "0123456789abcdef0123456789abcdef",
            "https://idp.example/.well-known/openid-configuration",
            providers,
        )
    }

    fn chosen(auth: &Auth, name: Option<&str>) -> Result<Option<String>, AuthError> {
        auth.provider(name).map(|p| p.config().name.clone())
    }

    #[test]
    fn the_unnamed_provider_is_the_default() {
        let auth = auth("client_id = \"a\"\n[auth.google]\nclient_id = \"g\"\n");
        assert_eq!(chosen(&auth, None), Ok(None));
        assert_eq!(chosen(&auth, Some("")), Ok(None));
        assert_eq!(chosen(&auth, Some("google")), Ok(Some("google".to_owned())));
    }

    #[test]
    fn a_single_named_provider_needs_no_name() {
        let auth = auth("[auth.google]\nclient_id = \"g\"\n");
        assert_eq!(chosen(&auth, None), Ok(Some("google".to_owned())));
    }

    #[test]
    fn ambiguous_or_unknown_names_list_the_choices() {
        let auth = auth("[auth.google]\nclient_id = \"g\"\n[auth.microsoft]\nclient_id = \"m\"\n");
        assert_eq!(
            chosen(&auth, None),
            Err(AuthError::UnknownProvider(
                "Several sign-in providers are configured; choose one of: google, microsoft."
                    .to_owned()
            ))
        );
        assert_eq!(
            chosen(&auth, Some("github")),
            Err(AuthError::UnknownProvider(
                "There is no sign-in provider called \"github\"; the choices are: google, microsoft."
                    .to_owned()
            ))
        );
    }

    #[test]
    fn an_unknown_name_beside_only_the_default_says_to_name_none() {
        let default_only = auth("client_id = \"a\"\n");
        assert_eq!(
            chosen(&default_only, Some("github")),
            Err(AuthError::UnknownProvider(
                "There is no sign-in provider called \"github\": this site has only its default \
                 provider, so name none."
                    .to_owned()
            ))
        );
        let both = auth("client_id = \"a\"\n[auth.google]\nclient_id = \"g\"\n");
        assert_eq!(
            chosen(&both, Some("github")),
            Err(AuthError::UnknownProvider(
                "There is no sign-in provider called \"github\"; the choices are: google, or \
                 none for the default."
                    .to_owned()
            ))
        );
    }

    #[test]
    fn a_release_build_without_configuration_refuses_to_start() {
        let Err(error) = startup(false, false, false) else {
            panic!("a release build must not start without configuration")
        };
        let message = error.to_string();
        assert!(message.contains("write an [auth] table"), "{message}");
        assert!(message.contains("secrets.toml"), "{message}");
        assert!(message.contains("AUTH_SECRETS_FILE"), "{message}");
    }

    #[test]
    fn configuration_always_wins() {
        for (debug, opt_in) in [(false, false), (true, false), (false, true)] {
            assert_eq!(startup(true, debug, opt_in).ok(), Some(Startup::Configured));
        }
    }

    #[test]
    fn the_development_provider_runs_in_debug_or_by_opt_in() {
        let expected = if cfg!(feature = "dev-idp") {
            Startup::DevProvider
        } else {
            Startup::SignInOff
        };
        assert_eq!(startup(false, true, false).ok(), Some(expected));
        if cfg!(feature = "dev-idp") {
            assert_eq!(startup(false, false, true).ok(), Some(Startup::DevProvider));
        }
    }

    /// The identity cookie as an app route sees it: `Auth::user` behind `Auth::install`.
    async fn visit(auth: &Auth, cookie: &str) -> (String, Vec<String>) {
        use axum::{body::Body, http::Request, routing::get};
        use tower::ServiceExt;
        let route = get(|user: Option<User>| async move {
            user.and_then(|user| user.name().map(str::to_owned))
                .unwrap_or_else(|| "nobody".to_owned())
        });
        let response = auth
            .install(Router::new().route("/who", route))
            .oneshot(
                Request::get("/who")
                    .header("cookie", cookie)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        let set_cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned))
            .collect();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        (String::from_utf8_lossy(&body).into_owned(), set_cookies)
    }

    pub(super) fn alice_cookie(secret: &str) -> String {
        use time::OffsetDateTime;
        let serde_json::Value::Object(claims) = serde_json::json!({"sub": "a", "name": "Alice"})
        else {
            unreachable!()
        };
        let cookie = CookieCodec::new(&config::Secret::new(secret), false)
            .identity_cookie(&User::signed_in(claims, None), OffsetDateTime::now_utc())
            .expect("fits");
        format!("{}={}", cookie.name(), cookie.value())
    }

    #[tokio::test]
    async fn rotating_cookie_secret_keeps_people_signed_in_and_reseals() {
        let old = "the cookie secret of last year, 32+ bytes";
        let auth = auth(&format!(
            "client_id = \"a\"\nprevious_cookie_secrets = [\"{old}\"]\n"
        ));
        let (who, set_cookies) = visit(&auth, &alice_cookie(old)).await;
        assert_eq!(who, "Alice");
        let [fresh] = set_cookies.as_slice() else {
            panic!("expected one re-sealed cookie, got {set_cookies:?}")
        };
        assert!(
            fresh.starts_with("auth_user=") && fresh.contains("HttpOnly"),
            "{fresh}"
        );
        let fresh_value = fresh
            .trim_start_matches("auth_user=")
            .split(';')
            .next()
            .expect("a value");
        let (who, set_cookies) = visit(&auth, &format!("auth_user={fresh_value}")).await;
        assert_eq!(who, "Alice");
        assert!(
            set_cookies.is_empty(),
            "a current cookie is left alone: {set_cookies:?}"
        );
    }

    #[tokio::test]
    async fn a_cookie_no_secret_opens_signs_out_and_is_cleared() {
        let auth = auth("client_id = \"a\"\n");
        let (who, set_cookies) = visit(
            &auth,
            &alice_cookie("some stranger's secret, 32+ bytes long"),
        )
        .await;
        assert_eq!(who, "nobody");
        assert!(
            set_cookies
                .iter()
                .any(|c| c.starts_with("auth_user=;") && c.contains("Max-Age=0")),
            "{set_cookies:?}"
        );
    }
}

#[cfg(test)]
mod extractor_tests {
    use axum::{Router, body::Body, http::Request, routing::get};

    use crate::User;
    use tower::ServiceExt;

    use super::*;

    fn app(auth: &Auth) -> Router {
        auth.install(
            Router::new()
                .route(
                    "/me",
                    get(|user: User| async move { user.name().unwrap_or("?").to_owned() }),
                )
                .route(
                    "/maybe",
                    get(|user: Option<User>| async move {
                        user.map_or("nobody".to_owned(), |user| {
                            user.name().unwrap_or("?").to_owned()
                        })
                    }),
                ),
        )
    }

    async fn call(auth: &Auth, path: &str, cookie: Option<&str>) -> (http::StatusCode, String) {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = app(auth)
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_handler_is_protected_by_its_user_argument() {
        let auth = tests::auth("client_id = \"a\"\n");
        let secret = "0123456789abcdef0123456789abcdef";
        let alice = tests::alice_cookie(secret);
        assert_eq!(
            call(&auth, "/me", Some(&alice)).await,
            (http::StatusCode::OK, "Alice".into())
        );
        let (status, body) = call(&auth, "/me", None).await;
        assert_eq!(status, http::StatusCode::UNAUTHORIZED);
        assert_eq!(body, "You are not signed in.");
        let (status, _) = call(&auth, "/me", Some("auth_user=forged")).await;
        assert_eq!(status, http::StatusCode::UNAUTHORIZED);

        assert_eq!(call(&auth, "/maybe", Some(&alice)).await.1, "Alice");
        assert_eq!(
            call(&auth, "/maybe", None).await,
            (http::StatusCode::OK, "nobody".into())
        );
    }
}
