//! The `[auth]` table of the secrets file: read, checked, and explained when wrong.
//!
//! The format is Streamlit's, so a Streamlit app's `secrets.toml` works unchanged.
use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use toml::{Table, Value};
use url::Url;

mod client_auth;
mod session;
mod tenants;
mod userinfo;
pub use client_auth::{AssertionAudience, AuthMethod, ClientAuth, ClientKey};
pub use session::{SessionConfig, StoreConfig};
pub use tenants::{Tenants, is_tenant_id};
pub use userinfo::Userinfo;

/// Where the secrets file is read from unless [`SECRETS_FILE_ENV`] names another.
pub const DEFAULT_SECRETS_FILE: &str = "secrets.toml";
/// The environment variable naming the secrets file.
pub const SECRETS_FILE_ENV: &str = "AUTH_SECRETS_FILE";
/// The cookie key is derived from `cookie_secret`; shorter secrets are too easy to guess.
pub const MIN_COOKIE_SECRET_BYTES: usize = 32;
/// Sent when `client_kwargs` names no `scope`, as Streamlit does.
pub const DEFAULT_SCOPE: &str = "openid email profile";

/// Where providers post back-channel logout tokens unless `backchannel_logout_path` says.
pub const DEFAULT_BACKCHANNEL_LOGOUT_PATH: &str = "/oauth2/backchannel-logout";
/// Where sessions go when tokens must be kept and no `session_store` is set.
pub const IMPLICIT_SESSIONS_FILE: &str = "auth-sessions.sqlite3";
/// Keys a named provider may set besides the client keys.
const PER_PROVIDER: [&str; 10] = [
    "client_kwargs",
    "expose_tokens",
    "login_params",
    "logout_at_provider",
    "userinfo",
    "claims_refresh_interval",
    "client_assertion_audience",
    "tenants",
    "use_par",
    "dpop",
];
const DISCOVERY_SUFFIX: &str = "/.well-known/openid-configuration";
const SHARED_KEYS: [&str; 2] = ["redirect_uri", "cookie_secret"];
/// The client keys: a named provider inherits those it does not set, and each has its
/// environment variable.
const PROVIDER_KEYS: [&str; 7] = [
    "client_id",
    "client_secret",
    "server_metadata_url",
    "token_endpoint_auth_method",
    "client_private_key",
    "client_private_key_file",
    "client_key_id",
];
/// The keys that make a client credential: `[auth]` with one of them besides `client_id` and
/// `server_metadata_url` is a provider of its own even beside named ones.
const CREDENTIAL_KEYS: [&str; 4] = [
    "client_secret",
    "token_endpoint_auth_method",
    "client_private_key",
    "client_private_key_file",
];
/// Authorization parameters the flow itself sets; letting `client_kwargs` change them would
/// break PKCE, state or nonce.
/// `response_mode` (`form_post` would arrive as a cross-site POST, without the Lax login-state
/// cookie) and `request`/`request_uri` (which can replace state or redirect URI) likewise.
const RESERVED_PARAMS: [&str; 11] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "client_secret",
    "response_mode",
    "request",
    "request_uri",
];

/// A value that must never be printed: `Debug` shows only that it is there.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A checked `[auth]` table.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Where providers send the visitor back; its path is where the callback is served.
    pub redirect_uri: Url,
    /// The secret the cookie key is derived from.
    pub cookie_secret: Secret,
    /// Retired cookie secrets: cookies sealed with them still open, and are sealed anew.
    pub previous_cookie_secrets: Vec<Secret>,
    /// Other origins whose pages may sign visitors in and out (`redirect_uri`'s always may).
    pub trusted_origins: Vec<Url>,
    /// The unnamed provider (from `[auth]` itself) first, then `[auth.NAME]` by name.
    pub providers: Vec<ProviderConfig>,
    /// Where sessions live and how long they last (`session_*`).
    pub sessions: SessionConfig,
    /// Where providers post back-channel logout tokens (`backchannel_logout_path`).
    pub backchannel_logout_path: String,
}

/// One OpenID provider: `[auth]` itself or an `[auth.NAME]` table.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `None` for the provider configured in `[auth]` itself.
    pub name: Option<String>,
    pub client_id: String,
    /// `None` for a client that authenticates with a key, or not at all (a public client).
    pub client_secret: Option<Secret>,
    /// How the client authenticates at the token, refresh and revocation requests.
    pub client_auth: ClientAuth,
    pub server_metadata_url: Url,
    /// The issuer the discovery document must name: `server_metadata_url` without
    /// `/.well-known/openid-configuration`, exactly as written (a trailing `/` matters).
    /// With `tenants` set, the document names it with one path segment as `{tenantid}`.
    pub issuer: String,
    /// `tenants`: a multi-tenant provider (a templated issuer), and which tenants may sign
    /// in; `None`: the issuer is exact.
    pub tenants: Option<Tenants>,
    /// Extra authorization parameters (`client_kwargs`), `scope` always among them.
    pub auth_params: BTreeMap<String, String>,
    /// `expose_tokens`: which tokens server code may read (they are then kept in the store).
    pub expose_tokens: ExposedTokens,
    /// `logout_at_provider`: logout also ends the provider's session (RP-Initiated Logout).
    pub logout_at_provider: bool,
    /// `userinfo`: when a sign-in also asks the provider's userinfo endpoint.
    pub userinfo: Userinfo,
    /// `claims_refresh_interval`: a session without a refresh token reads its claims again
    /// from userinfo once they are this old (off when `None`).
    pub claims_refresh_interval: Option<std::time::Duration>,
    /// `login_params`: the authorization parameters one login may add (`LoginParams`).
    pub login_params: Vec<String>,
    /// `use_par`: logins push their parameters to the provider first (RFC 9126) and the
    /// browser carries only a reference to them. Also on, whatever this says, when the
    /// provider's discovery requires it (`require_pushed_authorization_requests`).
    pub use_par: bool,
    /// `dpop`: the provider binds this app's tokens to a key pair each session keeps (DPoP,
    /// RFC 9449); needs `expose_tokens` to list `"access"`.
    pub dpop: bool,
}

impl ProviderConfig {
    /// Whether sign-ins keep their tokens: for server code, as the provider logout's hint, or
    /// to read the claims again with the access token (`claims_refresh_interval`).
    pub fn keeps_tokens(&self) -> bool {
        self.expose_tokens.any()
            || self.logout_at_provider
            || self.claims_refresh_interval.is_some()
    }
}

impl ProviderConfig {
    /// The scopes to ask for, `openid` always first.
    pub fn scopes(&self) -> Vec<String> {
        let requested = self
            .auth_params
            .get("scope")
            .map_or(DEFAULT_SCOPE, String::as_str);
        let mut scopes = vec!["openid".to_owned()];
        scopes.extend(
            requested
                .split_whitespace()
                .filter(|scope| *scope != "openid")
                .map(str::to_owned),
        );
        scopes
    }

    /// How the provider is called in messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("\"{name}\""),
            None => "the default provider".to_owned(),
        }
    }
}

impl AuthConfig {
    /// Whether cookies must be `Secure` (and `__Host-` prefixed): the app is served over https.
    pub fn is_https(&self) -> bool {
        self.redirect_uri.scheme() == "https"
    }
}

/// What is wrong with the configuration: the file, the key and the problem, in one line.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}: {key}: {problem}")]
pub struct ConfigError {
    /// The secrets file (or the environment variable) that holds the mistake.
    pub file: String,
    /// The key, e.g. `auth.cookie_secret`.
    pub key: String,
    /// What is wrong with it, and how to mend it.
    pub problem: String,
}

/// Reads the configuration from the secrets file and the environment.
///
/// `Ok(None)` means there is no `[auth]` configuration at all (no file and no `AUTH_*`
/// variables); a file named by [`SECRETS_FILE_ENV`] must exist.
pub fn load() -> Result<Option<AuthConfig>, ConfigError> {
    let named = std::env::var_os(SECRETS_FILE_ENV)
        .filter(|name| !name.is_empty())
        .map(PathBuf::from);
    let path = named
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SECRETS_FILE));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && named.is_none() => None,
        Err(error) => {
            return Err(ConfigError {
                file: path.display().to_string(),
                key: SECRETS_FILE_ENV.to_owned(),
                problem: format!("cannot read the secrets file: {error}"),
            });
        }
    };
    from_sources(&path, text.as_deref(), |name| std::env::var(name).ok())
}

/// Parses a secrets file's text (if any) with environment overrides from `env`.
pub fn from_sources(
    path: &Path,
    text: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<AuthConfig>, ConfigError> {
    let reader = Reader {
        file: path.display().to_string(),
    };
    let mut auth = match text {
        Some(text) => reader.auth_table(text)?,
        None => Table::new(),
    };
    apply_env_overrides(&mut auth, &env);
    if auth.is_empty() {
        return Ok(None);
    }
    reader.config(&auth).map(Some)
}

/// A path a route can be: `/` and then segments of unreserved characters (letters, digits,
/// `-`, `.`, `_`, `~`), none empty, so nothing in it is read two ways by a router or a proxy.
fn is_plain_path(path: &str) -> bool {
    path.len() > 1
        && path.starts_with('/')
        && path.split('/').skip(1).all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        })
}

/// `AUTH_REDIRECT_URI`, `AUTH_CLIENT_ID`, `AUTH_PREVIOUS_COOKIE_SECRETS`, … override `[auth]`; `AUTH_<NAME>_CLIENT_ID`, …
/// override `[auth.NAME]` (NAME upper-cased, `-` as `_`).
fn apply_env_overrides(auth: &mut Table, env: &impl Fn(&str) -> Option<String>) {
    // An empty variable is an unset one (as `KEY= command` is meant).
    let env = |name: &str| env(name).filter(|value| !value.is_empty());
    for key in SHARED_KEYS
        .iter()
        .chain(&PROVIDER_KEYS)
        .chain(&session::SESSION_KEYS)
    {
        if let Some(value) = env(&env_name(None, key)) {
            auth.insert((*key).to_owned(), Value::String(value));
        }
    }
    // Comma-separated lists (cookie secrets made as advised are base64: no commas).
    for key in ["previous_cookie_secrets", "trusted_origins"] {
        if let Some(list) = env(&env_name(None, key)) {
            let items = list
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect();
            auth.insert(key.to_owned(), Value::Array(items));
        }
    }
    for (name, table) in auth.iter_mut() {
        let Value::Table(table) = table else { continue };
        if name == "client_kwargs" {
            continue;
        }
        for key in PROVIDER_KEYS {
            if let Some(value) = env(&env_name(Some(name), key)) {
                table.insert(key.to_owned(), Value::String(value));
            }
        }
    }
}

/// The environment variable that overrides `key` of provider `name`.
pub fn env_name(provider: Option<&str>, key: &str) -> String {
    match provider {
        Some(name) => format!(
            "AUTH_{}_{}",
            name.to_uppercase().replace('-', "_"),
            key.to_uppercase()
        ),
        None => format!("AUTH_{}", key.to_uppercase()),
    }
}

/// Turns TOML into [`AuthConfig`], naming the file in every error.
struct Reader {
    file: String,
}

impl Reader {
    fn error(&self, key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            key: key.into(),
            problem: problem.into(),
        }
    }

    fn auth_table(&self, text: &str) -> Result<Table, ConfigError> {
        let mut document: Table = text.parse().map_err(|error: toml::de::Error| {
            // The message only: toml's own rendering quotes the offending line, which may hold a secret.
            let line = error
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            let place = line
                .map(|line| format!(" (line {line})"))
                .unwrap_or_default();
            self.error(
                "(file)",
                format!("not valid TOML{place}: {}", error.message()),
            )
        })?;
        match document.remove("auth") {
            None => Ok(Table::new()),
            Some(Value::Table(auth)) => Ok(auth),
            Some(_) => {
                Err(self.error("auth", "must be a table: write [auth] on a line of its own"))
            }
        }
    }

    fn config(&self, auth: &Table) -> Result<AuthConfig, ConfigError> {
        for (key, value) in auth {
            let known = SHARED_KEYS.contains(&key.as_str())
                || key == "previous_cookie_secrets"
                || key == "trusted_origins"
                || PROVIDER_KEYS.contains(&key.as_str())
                || key == "client_kwargs"
                || PER_PROVIDER.contains(&key.as_str())
                || key == "backchannel_logout_path"
                || session::SESSION_KEYS.contains(&key.as_str())
                || value.is_table();
            if !known {
                return Err(self.error(
                    format!("auth.{key}"),
                    "unknown key; [auth] takes redirect_uri, cookie_secret, previous_cookie_secrets, \
                     trusted_origins, client_id, client_secret, server_metadata_url, \
                     token_endpoint_auth_method, client_private_key, client_private_key_file, \
                     client_key_id, client_assertion_audience, client_kwargs, expose_tokens, \
                     login_params, logout_at_provider, userinfo, claims_refresh_interval, tenants, \
                     use_par, dpop, session_store, session_lifetime, \
                     session_idle_timeout, session_store_timeout, token_refresh_margin, \
                     backchannel_logout_path and [auth.NAME] tables",
                ));
            }
        }

        let redirect_uri = self.redirect_uri(auth)?;
        let cookie_secret = self.cookie_secret(auth)?;
        let previous_cookie_secrets = self.previous_cookie_secrets(auth)?;
        let trusted_origins = self.trusted_origins(auth)?;
        let shared_kwargs = self.kwargs(auth, "auth")?;
        let mut sessions = self.sessions(auth)?;

        let mut providers = Vec::new();
        let named: Vec<&str> = auth
            .iter()
            .filter(|(key, value)| value.is_table() && key.as_str() != "client_kwargs")
            .map(|(key, _)| key.as_str())
            .collect();
        let has_own_client = ["client_id", "server_metadata_url"]
            .iter()
            .all(|key| auth.contains_key(*key))
            && CREDENTIAL_KEYS.iter().any(|key| auth.contains_key(*key));
        // Names first: a provider named as a setting would otherwise fail as that setting.
        for name in &named {
            self.check_provider_name(name)?;
        }
        if named.is_empty() || has_own_client {
            providers.push(self.provider(None, auth, &shared_kwargs)?);
        }
        for name in named {
            providers.push(self.provider(Some(name), auth, &shared_kwargs)?);
        }
        if providers.iter().any(ProviderConfig::keeps_tokens) {
            let chose_cookie = auth
                .get("session_store")
                .and_then(Value::as_str)
                .is_some_and(|store| store.trim() == "cookie");
            if chose_cookie {
                return Err(self.error(
                    "auth.session_store",
                    "is \"cookie\", which cannot keep the tokens that expose_tokens (or \
                     logout_at_provider, or claims_refresh_interval) needs: choose \"sqlite:PATH\", \"redis://…\" or \
                     \"postgres://…\", or leave session_store out to keep them in SQLite beside this file",
                ));
            }
            self.keep_tokens_somewhere(&mut sessions);
        }
        let backchannel_logout_path = self.backchannel_logout_path(auth)?;
        Ok(AuthConfig {
            backchannel_logout_path,
            redirect_uri,
            cookie_secret,
            previous_cookie_secrets,
            trusted_origins,
            providers,
            sessions,
        })
    }

    fn string<'a>(
        &self,
        table: &'a Table,
        path: &str,
        key: &str,
    ) -> Result<Option<&'a str>, ConfigError> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(self.error(format!("{path}.{key}"), "must be a string (in quotes)")),
        }
    }

    fn required<'a>(
        &self,
        table: &'a Table,
        path: &str,
        key: &str,
    ) -> Result<&'a str, ConfigError> {
        match self.string(table, path, key)? {
            Some(value) if !value.trim().is_empty() => Ok(value),
            Some(_) => Err(self.error(format!("{path}.{key}"), "is empty")),
            None => Err(self.error(
                format!("{path}.{key}"),
                format!(
                    "is missing; add `{key} = \"…\"` under [{path}] (or set {})",
                    env_name(path.strip_prefix("auth."), key)
                ),
            )),
        }
    }

    fn redirect_uri(&self, auth: &Table) -> Result<Url, ConfigError> {
        let text = self.required(auth, "auth", "redirect_uri")?;
        let url = Url::parse(text).map_err(|error| {
            self.error(
                "auth.redirect_uri",
                format!("is not an absolute URL ({error}); write e.g. \"http://localhost:3000/oauth2callback\""),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(self.error(
                "auth.redirect_uri",
                "must be an http or https URL with a host",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(self.error("auth.redirect_uri", "must not have a query or fragment"));
        }
        // The path becomes the callback's route: it must be a plain one of its own.
        if !is_plain_path(url.path()) {
            return Err(self.error(
                "auth.redirect_uri",
                "needs a path of its own for the callback, like /oauth2callback (letters, digits, \
                 '-', '.', '_', '~' between slashes)",
            ));
        }
        Ok(url)
    }

    fn backchannel_logout_path(&self, auth: &Table) -> Result<String, ConfigError> {
        let Some(path) = self.string(auth, "auth", "backchannel_logout_path")? else {
            return Ok(DEFAULT_BACKCHANNEL_LOGOUT_PATH.to_owned());
        };
        if is_plain_path(path) {
            Ok(path.to_owned())
        } else {
            Err(self.error(
                "auth.backchannel_logout_path",
                "must be a plain path like /oauth2/backchannel-logout",
            ))
        }
    }

    fn cookie_secret(&self, auth: &Table) -> Result<Secret, ConfigError> {
        let secret = self.required(auth, "auth", "cookie_secret")?;
        self.long_enough("auth.cookie_secret", secret)
    }

    fn previous_cookie_secrets(&self, auth: &Table) -> Result<Vec<Secret>, ConfigError> {
        let key = "auth.previous_cookie_secrets";
        let Some(value) = auth.get("previous_cookie_secrets") else {
            return Ok(Vec::new());
        };
        let Value::Array(secrets) = value else {
            return Err(self.error(key, "must be a list of strings, e.g. [\"old secret\"]"));
        };
        secrets
            .iter()
            .enumerate()
            .map(|(index, secret)| match secret {
                Value::String(secret) => self.long_enough(&format!("{key}[{index}]"), secret),
                _ => Err(self.error(format!("{key}[{index}]"), "must be a string (in quotes)")),
            })
            .collect()
    }

    fn trusted_origins(&self, auth: &Table) -> Result<Vec<Url>, ConfigError> {
        let key = "auth.trusted_origins";
        let Some(value) = auth.get("trusted_origins") else {
            return Ok(Vec::new());
        };
        let Value::Array(origins) = value else {
            return Err(self.error(
                key,
                "must be a list of origins, e.g. [\"https://admin.example.com\"]",
            ));
        };
        origins
            .iter()
            .enumerate()
            .map(|(index, origin)| {
                let key = format!("{key}[{index}]");
                let Value::String(text) = origin else {
                    return Err(self.error(key, "must be a string (in quotes)"));
                };
                let url = Url::parse(text)
                    .ok()
                    .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
                    .filter(|url| url.path() == "/" && url.query().is_none());
                url.ok_or_else(|| {
                    self.error(
                        key,
                        "must be an origin: scheme, host and port only, like \"https://admin.example.com\"",
                    )
                })
            })
            .collect()
    }

    fn long_enough(&self, key: &str, secret: &str) -> Result<Secret, ConfigError> {
        if secret.len() < MIN_COOKIE_SECRET_BYTES {
            return Err(self.error(
                key,
                format!(
                    "is {} bytes; it must be at least {MIN_COOKIE_SECRET_BYTES} \
                     (make one with `openssl rand -base64 32`)",
                    secret.len()
                ),
            ));
        }
        Ok(Secret::new(secret))
    }

    fn check_provider_name(&self, name: &str) -> Result<(), ConfigError> {
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        // `[auth.dpop]` (or `userinfo`, `tenants`) would be read as that setting of `[auth]`
        // too, which every other provider inherits: refused by name, not as a wrong value.
        let a_setting = PER_PROVIDER.contains(&name) || PROVIDER_KEYS.contains(&name);
        if a_setting {
            Err(self.error(
                format!("auth.{name}"),
                "is the name of a setting; name the provider otherwise (e.g. [auth.NAME-idp])",
            ))
        } else if valid {
            Ok(())
        } else {
            Err(self.error(
                format!("auth.{name}"),
                "provider names may hold only letters, digits and '-'",
            ))
        }
    }

    /// `[auth.NAME]`, or `[auth]` itself when `name` is `None`. A named provider inherits
    /// the client keys it does not set from `[auth]`.
    fn provider(
        &self,
        name: Option<&str>,
        auth: &Table,
        shared_kwargs: &BTreeMap<String, String>,
    ) -> Result<ProviderConfig, ConfigError> {
        let (path, own) = match name {
            None => ("auth".to_owned(), auth),
            Some(name) => {
                let own = auth
                    .get(name)
                    .and_then(Value::as_table)
                    .ok_or_else(|| self.error(format!("auth.{name}"), "must be a table"))?;
                (format!("auth.{name}"), own)
            }
        };
        if name.is_some()
            && let Some(key) = own.keys().find(|key| {
                !PROVIDER_KEYS.contains(&key.as_str()) && !PER_PROVIDER.contains(&key.as_str())
            })
        {
            return Err(self.error(
                format!("{path}.{key}"),
                "unknown key; a provider takes client_id, client_secret, \
                     server_metadata_url, token_endpoint_auth_method, client_private_key, \
                     client_private_key_file, client_key_id, client_assertion_audience, \
                     client_kwargs, expose_tokens, login_params, logout_at_provider, userinfo, \
                     claims_refresh_interval, tenants, use_par and dpop",
            ));
        }
        // Which table a key comes from, so an error names the line to fix.
        let source = |key: &str| {
            if own.contains_key(key) || name.is_none() || !auth.contains_key(key) {
                (own, path.as_str())
            } else {
                (auth, "auth")
            }
        };
        let pick = |key: &str| {
            let (table, at) = source(key);
            self.required(table, at, key)
        };
        let client_id = pick("client_id")?.to_owned();
        // Optional: which keys a provider needs depends on its client authentication.
        let optional = |key: &str| {
            let (table, at) = source(key);
            match self.string(table, at, key)? {
                Some(value) if value.trim().is_empty() => {
                    Err(self.error(format!("{at}.{key}"), "is empty"))
                }
                found => Ok(found.map(|value| (value, at))),
            }
        };
        let client_secret = optional("client_secret")?.map(|(secret, _)| Secret::new(secret));
        let client_auth = self.client_auth(
            &path,
            optional("token_endpoint_auth_method")?,
            optional("client_private_key")?,
            optional("client_private_key_file")?,
            optional("client_key_id")?,
            client_secret.is_some(),
        )?;
        let (server_metadata_url, issuer) = {
            let (_, at) = source("server_metadata_url");
            self.metadata_url(
                &format!("{at}.server_metadata_url"),
                pick("server_metadata_url")?,
            )?
        };

        // Where a per-provider key comes from: the provider's table, else `[auth]`.
        let inherited = |key: &str| match own.get(key) {
            Some(_) => (own, path.as_str()),
            None => (auth, "auth"),
        };
        let expose_tokens = {
            let (table, at) = inherited("expose_tokens");
            self.expose_tokens(table, at)?
        };
        let flag = |key: &str| {
            let (table, at) = inherited(key);
            match table.get(key) {
                None => Ok(false),
                Some(Value::Boolean(on)) => Ok(*on),
                Some(_) => {
                    Err(self.error(format!("{at}.{key}"), "must be true or false (no quotes)"))
                }
            }
        };
        let logout_at_provider = flag("logout_at_provider")?;
        let use_par = flag("use_par")?;
        let dpop = flag("dpop")?;
        // A bound access token is for server code to send with proofs (`Tokens::dpop_proof`):
        // without `"access"` exposed, nothing could use it.
        if dpop && !expose_tokens.access {
            let (_, at) = inherited("dpop");
            return Err(self.error(
                format!("{at}.dpop"),
                "binds the access token to the session's key, which server code uses through \
                 tokens(): add \"access\" to expose_tokens (e.g. expose_tokens = [\"access\"])",
            ));
        }
        let userinfo = {
            let (table, at) = inherited("userinfo");
            self.userinfo(table, at)?
        };
        let claims_refresh_interval = {
            let (table, at) = inherited("claims_refresh_interval");
            self.claims_refresh_interval(table, at)?
        };
        let login_params = {
            let (table, at) = inherited("login_params");
            self.login_params(table, at)?
        };
        let tenants = {
            let (table, at) = inherited("tenants");
            self.tenants(table, at, &issuer)?
        };
        let client_auth = {
            let (table, at) = inherited("client_assertion_audience");
            ClientAuth {
                assertion_audience: self.assertion_audience(table, at)?,
                ..client_auth
            }
        };
        let mut auth_params = shared_kwargs.clone();
        if name.is_some() {
            auth_params.extend(self.kwargs(own, &path)?);
        }
        {
            let own_claims = name.is_some()
                && own
                    .get("client_kwargs")
                    .and_then(Value::as_table)
                    .is_some_and(|kwargs| kwargs.contains_key("claims"));
            let at = if own_claims { path.as_str() } else { "auth" };
            self.claims_request(&auth_params, at)?;
        }
        Ok(ProviderConfig {
            name: name.map(str::to_owned),
            client_id,
            client_secret,
            client_auth,
            server_metadata_url,
            issuer,
            tenants,
            auth_params,
            expose_tokens,
            logout_at_provider,
            userinfo,
            claims_refresh_interval,
            login_params,
            use_par,
            dpop,
        })
    }

    /// `login_params`: parameter names, none of those the flow sets itself; the defaults
    /// (`DEFAULT_LOGIN_PARAMS`) when absent.
    fn login_params(&self, table: &Table, path: &str) -> Result<Vec<String>, ConfigError> {
        let key = format!("{path}.login_params");
        let Some(value) = table.get("login_params") else {
            return Ok(crate::login_params::default_allowed());
        };
        let Value::Array(names) = value else {
            return Err(self.error(
                key,
                "must be a list of parameter names, e.g. [\"prompt\", \"login_hint\"]",
            ));
        };
        names
            .iter()
            .map(|name| match name.as_str() {
                Some(name) if RESERVED_PARAMS.contains(&name) => Err(self.error(
                    &key,
                    format!("names \"{name}\", which the sign-in flow sets itself"),
                )),
                Some(name)
                    if !name.is_empty()
                        && name.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
                        }) =>
                {
                    Ok(name.to_owned())
                }
                _ => Err(self.error(
                    &key,
                    "must hold parameter names (strings of letters, digits, _, - and .)",
                )),
            })
            .collect()
    }

    /// `expose_tokens`: `"id"`, `"access"`, or a list of them (Streamlit's values).
    fn expose_tokens(&self, table: &Table, path: &str) -> Result<ExposedTokens, ConfigError> {
        let key = format!("{path}.expose_tokens");
        let names: Vec<&Value> = match table.get("expose_tokens") {
            None => Vec::new(),
            Some(Value::Array(names)) => names.iter().collect(),
            Some(name) => vec![name],
        };
        let mut exposed = ExposedTokens::default();
        for name in names {
            match name.as_str() {
                Some("id") => exposed.id = true,
                Some("access") => exposed.access = true,
                _ => {
                    return Err(self.error(
                        key,
                        "must be \"id\", \"access\" or a list of them, e.g. [\"id\", \"access\"]",
                    ));
                }
            }
        }
        Ok(exposed)
    }

    /// Tokens live only in a session store: without one, the embedded SQLite file beside
    /// the secrets file, so a Streamlit secrets file with `expose_tokens` works unchanged.
    fn keep_tokens_somewhere(&self, sessions: &mut SessionConfig) {
        if sessions.store != StoreConfig::Cookie {
            return;
        }
        let beside = Path::new(&self.file)
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(IMPLICIT_SESSIONS_FILE);
        crate::server::log::tell_developer!(
            info,
            "expose_tokens (or logout_at_provider) keeps tokens on the server, so sessions are \
             kept in the SQLite file {}; for several servers set session_store = \
             \"redis://HOST:PORT/DB\" or \"postgres://USER:PASSWORD@HOST:PORT/DB\" in [auth]",
            beside.display()
        );
        sessions.store = StoreConfig::Sqlite(beside);
    }

    fn metadata_url(&self, key: &str, text: &str) -> Result<(Url, String), ConfigError> {
        let url = Url::parse(text)
            .map_err(|error| self.error(key, format!("is not an absolute URL ({error})")))?;
        if !is_https_or_loopback(&url) {
            return Err(self.error(
                key,
                "must be an https URL (http is allowed only on localhost)",
            ));
        }
        let issuer = text
            .strip_suffix(DISCOVERY_SUFFIX)
            .filter(|_| url.query().is_none() && url.fragment().is_none())
            .map(str::to_owned)
            .ok_or_else(|| {
                self.error(
                    key,
                    format!("must end with {DISCOVERY_SUFFIX} (the provider's discovery document)"),
                )
            })?;
        Ok((url, issuer))
    }

    fn kwargs(&self, table: &Table, path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
        let Some(value) = table.get("client_kwargs") else {
            return Ok(BTreeMap::new());
        };
        let Value::Table(kwargs) = value else {
            return Err(self.error(
                format!("{path}.client_kwargs"),
                "must be a table of strings",
            ));
        };
        kwargs
            .iter()
            .map(|(key, value)| {
                let full = format!("{path}.client_kwargs.{key}");
                if RESERVED_PARAMS.contains(&key.as_str()) {
                    return Err(self.error(
                        full,
                        "is set by the sign-in flow itself and cannot be changed",
                    ));
                }
                match value {
                    Value::String(value) => Ok((key.clone(), value.clone())),
                    _ => Err(self.error(full, "must be a string (in quotes)")),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

/// Whether `url` is `https`, or `http` on this machine (`localhost`, a loopback address): what
/// a provider's addresses must be (development and test providers run on loopback).
pub(crate) fn is_https_or_loopback(url: &Url) -> bool {
    let loopback = url.host().is_some_and(|host| match host {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    });
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

/// Which tokens `expose_tokens` gives server code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExposedTokens {
    /// `"id"`: the ID token.
    pub id: bool,
    /// `"access"`: the access token.
    pub access: bool,
}

impl ExposedTokens {
    /// Whether any token is to be kept.
    pub fn any(&self) -> bool {
        self.id || self.access
    }
}
