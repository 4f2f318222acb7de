//! The `session_*` keys: where sessions live and how long they last.
use std::{path::PathBuf, time::Duration};

use toml::{Table, Value};

use super::{Reader, Secret};
use crate::server::config::ConfigError;

/// Streamlit's sign-in lasts 30 days; so does ours unless `session_lifetime` says otherwise.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Browsers keep a cookie at most 400 days (RFC 6265bis), so no session can last longer.
pub const MAX_SESSION_LIFETIME: Duration = Duration::from_secs(400 * 24 * 3600);
/// How long a request waits for the session store before treating the visitor as signed out.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// The keys of this table, also settable as `AUTH_SESSION_STORE`, ….
pub(super) const SESSION_KEYS: [&str; 5] = [
    "session_store",
    "session_lifetime",
    "session_idle_timeout",
    "session_store_timeout",
    "token_refresh_margin",
];
/// `leptos_login::tokens()` returns an access token valid at least this long, refreshing it first.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Where sessions live and how long they last.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionConfig {
    /// `session_store`.
    pub store: StoreConfig,
    /// `session_lifetime`: how long after sign-in a session ends, whatever happens.
    pub lifetime: Duration,
    /// `session_idle_timeout`: a session unused this long ends (off when `None`).
    pub idle_timeout: Option<Duration>,
    /// `session_store_timeout`: the longest a request waits for the store.
    pub store_timeout: Duration,
    /// `token_refresh_margin`: an access token closer than this to its expiry is refreshed.
    pub refresh_margin: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            store: StoreConfig::Cookie,
            lifetime: DEFAULT_SESSION_LIFETIME,
            idle_timeout: None,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
        }
    }
}

/// `session_store`: `"cookie"`, `"memory"`, `"sqlite:PATH"`, `"redis://…"` / `"rediss://…"` /
/// `"redis+sentinel://…"` / `"rediss+sentinel://…"` or `"postgres://…"` / `"postgresql://…"`.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreConfig {
    /// The whole session in the sealed identity cookie: nothing on the server.
    Cookie,
    /// This process's memory: tests, one development server (gone when it stops).
    Memory,
    /// An embedded SQLite file (relative paths from the working directory).
    Sqlite(PathBuf),
    /// A Redis server, or the master its Sentinels name; the URL may hold a password, so it
    /// is never printed whole.
    Redis(Secret),
    /// A Postgres database; its URL, likewise, is never printed whole.
    Postgres(Secret),
}

impl StoreConfig {
    /// How logs name the store: no credentials.
    pub fn describe(&self) -> String {
        match self {
            Self::Cookie => "the identity cookie".to_owned(),
            Self::Memory => "this process's memory".to_owned(),
            Self::Sqlite(path) => format!("SQLite file {}", path.display()),
            Self::Redis(url) if is_sentinel_url(url.expose()) => {
                format!(
                    "Redis through the Sentinels at {}",
                    sentinel_place(url.expose())
                )
            }
            Self::Redis(url) => match url::Url::parse(url.expose()) {
                Ok(url) => format!(
                    "Redis at {}://{}:{}{}",
                    url.scheme(),
                    url.host_str().unwrap_or("?"),
                    url.port().unwrap_or(6379),
                    url.path()
                ),
                Err(_) => "Redis".to_owned(),
            },
            Self::Postgres(url) => format!("Postgres at {}", postgres_place(url.expose())),
        }
    }
}

/// `redis+sentinel://…` or `rediss+sentinel://…` (TLS).
fn is_sentinel_url(url: &str) -> bool {
    url.starts_with("redis+sentinel://") || url.starts_with("rediss+sentinel://")
}

/// `HOST:PORT,…/SERVICE/DB` of a Sentinel URL, from what follows its credentials (each host
/// with its port, Sentinel's 26379 unless written; database 0 unless written).
fn sentinel_place(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let hosts = authority
        .rsplit_once('@')
        .map_or(authority, |(_, hosts)| hosts);
    let hosts: Vec<String> = hosts
        .split(',')
        .map(|host| with_port(host, 26379))
        .collect();
    let (service, db) = path.split_once('/').unwrap_or((path, ""));
    let db = if db.is_empty() { "0" } else { db };
    format!("{}, master {service}/{db}", hosts.join(","))
}

/// `host`, with `port` unless it names one (`[IPv6]:PORT` too).
fn with_port(host: &str, port: u16) -> String {
    let has_port = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.contains("]:"),
        None => host.contains(':'),
    };
    if has_port {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    }
}

/// `HOST:PORT/DB` of a Postgres URL, from what follows its credentials (hosts, as libpq allows
/// several, each with its port, 5432 unless written).
fn postgres_place(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    let hosts = authority
        .rsplit_once('@')
        .map_or(authority, |(_, hosts)| hosts);
    let hosts: Vec<String> = hosts
        .split(',')
        .map(|host| with_port(if host.is_empty() { "localhost" } else { host }, 5432))
        .collect();
    format!("{}/{database}", hosts.join(","))
}

impl Reader {
    pub(super) fn sessions(&self, auth: &Table) -> Result<SessionConfig, ConfigError> {
        let defaults = SessionConfig::default();
        let lifetime = self
            .seconds(auth, "session_lifetime")?
            .unwrap_or(defaults.lifetime);
        let idle_timeout = self.seconds(auth, "session_idle_timeout")?;
        let store_timeout = self
            .duration(auth, "session_store_timeout")?
            .unwrap_or(defaults.store_timeout);
        let refresh_margin = self
            .seconds(auth, "token_refresh_margin")?
            .unwrap_or(defaults.refresh_margin);
        Ok(SessionConfig {
            store: self.store(auth)?,
            lifetime,
            idle_timeout,
            store_timeout,
            refresh_margin,
        })
    }

    fn store(&self, auth: &Table) -> Result<StoreConfig, ConfigError> {
        let key = "auth.session_store";
        let Some(text) = self.string(auth, "auth", "session_store")? else {
            return Ok(StoreConfig::Cookie);
        };
        let text = text.trim();
        if text == "cookie" {
            return Ok(StoreConfig::Cookie);
        }
        if text == "memory" {
            return Ok(StoreConfig::Memory);
        }
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(self.error(
                    key,
                    "names no file: write \"sqlite:PATH\", e.g. \"sqlite:sessions.sqlite3\"",
                ));
            }
            return Ok(StoreConfig::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("redis://") || text.starts_with("rediss://") {
            // Checked without echoing the URL, which may carry a password.
            let valid = url::Url::parse(text)
                .ok()
                .is_some_and(|url| url.host_str().is_some_and(|host| !host.is_empty()));
            if !valid {
                return Err(self.error(
                    key,
                    "is not a valid Redis URL: write \"redis://HOST:PORT/DB\" (or rediss:// for TLS)",
                ));
            }
            return Ok(StoreConfig::Redis(Secret::new(text)));
        }
        // Several hosts, which the url crate does not read: the rest is checked (without
        // echoing it) when the store is opened.
        if is_sentinel_url(text) {
            let rest = text.split_once("://").map_or("", |(_, rest)| rest);
            let (hosts, service) = rest.split_once('/').unwrap_or((rest, ""));
            let hosts = hosts.rsplit_once('@').map_or(hosts, |(_, hosts)| hosts);
            if hosts.is_empty()
                || service
                    .split(['/', '?', '#'])
                    .next()
                    .unwrap_or("")
                    .is_empty()
            {
                return Err(self.error(
                    key,
                    "is not a valid Sentinel URL: write \
                     \"redis+sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT…]/SERVICE[/DB]\"",
                ));
            }
            return Ok(StoreConfig::Redis(Secret::new(text)));
        }
        // The rest is checked (without echoing it) when the store is opened: what libpq reads
        // in a URL is more than the url crate does (several hosts, a socket folder).
        if let Some(rest) = text
            .strip_prefix("postgres://")
            .or_else(|| text.strip_prefix("postgresql://"))
        {
            if rest.is_empty() {
                return Err(self.error(
                    key,
                    "names no database: write \"postgres://USER:PASSWORD@HOST:PORT/DB\"",
                ));
            }
            return Ok(StoreConfig::Postgres(Secret::new(text)));
        }
        Err(self.error(
            key,
            "must be \"cookie\", \"memory\", \"sqlite:PATH\", \"redis://HOST:PORT/DB\" \
             (rediss:// for TLS), \"redis+sentinel://HOST:PORT[,HOST:PORT…]/SERVICE[/DB]\" or \"postgres://USER:PASSWORD@HOST:PORT/DB\"",
        ))
    }

    /// A [`Reader::duration`] counted in whole seconds: at least one, at most
    /// [`MAX_SESSION_LIFETIME`] (browsers keep no cookie longer).
    fn seconds(&self, auth: &Table, name: &str) -> Result<Option<Duration>, ConfigError> {
        match self.duration(auth, name)? {
            Some(duration) if duration < Duration::from_secs(1) => Err(self.error(
                format!("auth.{name}"),
                "must be at least one second (\"1s\")",
            )),
            Some(duration) if duration > MAX_SESSION_LIFETIME => Err(self.error(
                format!("auth.{name}"),
                "must be at most 400 days (\"400d\"): browsers keep no cookie longer",
            )),
            other => Ok(other),
        }
    }

    /// Seconds as a number, or a string such as "500ms", "90s", "15m", "12h", "30d".
    fn duration(&self, auth: &Table, name: &str) -> Result<Option<Duration>, ConfigError> {
        let key = format!("auth.{name}");
        let duration = match auth.get(name) {
            None => return Ok(None),
            Some(Value::Integer(seconds)) => u64::try_from(*seconds).ok().map(Duration::from_secs),
            Some(Value::String(text)) => parse_duration(text),
            Some(_) => None,
        };
        match duration {
            Some(duration) if !duration.is_zero() => Ok(Some(duration)),
            _ => Err(self.error(
                key,
                "must be a positive number of seconds, or a string like \"500ms\", \"90s\", \"15m\", \"12h\" or \"30d\"",
            )),
        }
    }
}

pub(super) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let millis = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(millis)
        .map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        let secs = |text| parse_duration(text).map(|d: Duration| d.as_millis());
        assert_eq!(secs("500ms"), Some(500));
        assert_eq!(secs("90"), Some(90_000));
        assert_eq!(secs("90s"), Some(90_000));
        assert_eq!(secs("15m"), Some(900_000));
        assert_eq!(secs("12h"), Some(43_200_000));
        assert_eq!(secs("30d"), Some(2_592_000_000));
        assert_eq!(secs("30 d"), Some(2_592_000_000));
        for bad in ["", "d", "1w", "-5m", "1.5h", "99999999999999999999d"] {
            assert_eq!(secs(bad), None, "{bad}");
        }
    }

    fn read(keys: &str) -> Result<SessionConfig, ConfigError> {
        let text = format!(
            "[auth]\nredirect_uri = \"http://localhost:3000/oauth2callback\"\n\
             cookie_secret = \"0123456789abcdef0123456789abcdef\"\nclient_id = \"a\"\n\
             client_secret = \"s\"\n\
             server_metadata_url = \"https://idp.example/.well-known/openid-configuration\"\n{keys}"
        );
        crate::server::config::from_sources(
            std::path::Path::new("secrets.toml"),
            Some(&text),
            |_| None,
        )
        .map(|config| config.map(|config| config.sessions).unwrap_or_default())
    }

    #[test]
    fn each_store_is_named_as_written() {
        assert_eq!(read("").map(|c| c.store), Ok(StoreConfig::Cookie));
        assert_eq!(
            read("session_store = \"memory\"").map(|c| c.store),
            Ok(StoreConfig::Memory)
        );
        assert_eq!(
            read("session_store = \"sqlite:data/s.sqlite3\"").map(|c| c.store),
            Ok(StoreConfig::Sqlite(PathBuf::from("data/s.sqlite3")))
        );
        let redis = read("session_store = \"rediss://:pw@cache.internal:6380/2\"")
            .map(|c| c.store)
            .expect("valid");
        assert_eq!(
            redis.describe(),
            "Redis at rediss://cache.internal:6380/2",
            "no password"
        );
        for (written, described) in [
            (
                "redis+sentinel://:hunter2@s1:26380,s2/mymaster/3",
                "Redis through the Sentinels at s1:26380,s2:26379, master mymaster/3",
            ),
            (
                "rediss+sentinel://app:hunter2@[::1]/m?sslrootcert=/etc/ca.pem",
                "Redis through the Sentinels at [::1]:26379, master m/0",
            ),
        ] {
            let store = read(&format!("session_store = \"{written}\""))
                .map(|c| c.store)
                .expect("valid");
            assert!(matches!(store, StoreConfig::Redis(_)), "{written}");
            assert_eq!(store.describe(), described, "no password");
        }
        for (written, described) in [
            (
                "postgres://app:hunter2@db.internal:6543/web?sslmode=require",
                "Postgres at db.internal:6543/web",
            ),
            (
                "postgresql://app:hunter2@db.internal/web",
                "Postgres at db.internal:5432/web",
            ),
            (
                "postgres://a:hunter2@[::1]:5433,replica/web",
                "Postgres at [::1]:5433,replica:5432/web",
            ),
        ] {
            let store = read(&format!("session_store = \"{written}\""))
                .map(|c| c.store)
                .expect("valid");
            assert!(matches!(store, StoreConfig::Postgres(_)), "{written}");
            assert_eq!(store.describe(), described, "no password");
            assert!(!format!("{store:?}").contains("hunter2"));
        }
        let lifetimes =
            read("session_lifetime = \"12h\"\nsession_idle_timeout = 900\n").expect("valid");
        assert_eq!(lifetimes.lifetime, Duration::from_secs(43_200));
        assert_eq!(lifetimes.idle_timeout, Some(Duration::from_secs(900)));
        assert_eq!(lifetimes.store_timeout, DEFAULT_STORE_TIMEOUT);
    }

    #[test]
    fn a_wrong_store_or_duration_names_file_and_key_and_never_echoes_a_password() {
        let error = read("session_store = \"mysql://u:hunter2@db/x\"").expect_err("refused");
        assert_eq!(error.file, "secrets.toml");
        assert_eq!(error.key, "auth.session_store");
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let error = read("session_store = \"redis://:hunter2@\"").expect_err("refused");
        assert_eq!(error.key, "auth.session_store");
        assert!(!error.to_string().contains("hunter2"), "{error}");
        for bad in [
            "redis+sentinel://:hunter2@s1:26379",
            "redis+sentinel://:hunter2@/m",
        ] {
            let error = read(&format!("session_store = \"{bad}\"")).expect_err(bad);
            assert_eq!(error.key, "auth.session_store");
            assert!(error.problem.contains("Sentinel URL"), "{error}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
        let error = read("session_store = \"sqlite:\"").expect_err("refused");
        assert!(error.problem.contains("names no file"), "{error}");
        for bad in ["0", "\"1 week\"", "-3", "true"] {
            let error = read(&format!("session_idle_timeout = {bad}")).expect_err(bad);
            assert_eq!(error.key, "auth.session_idle_timeout", "{bad}");
        }
    }

    #[test]
    fn expose_tokens_keeps_sessions_in_sqlite_beside_the_secrets_file_unless_a_store_is_set() {
        let text = |more: &str| {
            format!(
                "[auth]\nredirect_uri = \"http://localhost:3000/oauth2callback\"\n\
                 cookie_secret = \"0123456789abcdef0123456789abcdef\"\nclient_secret = \"s\"\n\
                 server_metadata_url = \"https://idp.example/.well-known/openid-configuration\"\n\
                 {more}"
            )
        };
        let read = |more: &str| {
            crate::server::config::from_sources(
                std::path::Path::new("/srv/app/.streamlit/secrets.toml"),
                Some(&text(more)),
                |_| None,
            )
        };
        let config = read("client_id = \"a\"\nexpose_tokens = [\"id\", \"access\"]\n")
            .expect("valid")
            .expect("configured");
        assert_eq!(
            config.sessions.store,
            StoreConfig::Sqlite(PathBuf::from("/srv/app/.streamlit/auth-sessions.sqlite3"))
        );
        let exposed = config.providers[0].expose_tokens;
        assert!(exposed.id && exposed.access);

        // Per provider, inheriting [auth]'s.
        let config = read(
            "expose_tokens = \"id\"\nsession_store = \"redis://cache:6379/0\"\n\
             [auth.google]\nclient_id = \"g\"\nexpose_tokens = \"access\"\n\
             [auth.okta]\nclient_id = \"o\"\n",
        )
        .expect("valid")
        .expect("configured");
        assert!(matches!(config.sessions.store, StoreConfig::Redis(_)));
        let google = &config.providers[0].expose_tokens;
        let okta = &config.providers[1].expose_tokens;
        assert!(google.access && !google.id, "{google:?}");
        assert!(okta.id && !okta.access, "{okta:?}");

        // Without it, the cookie as before.
        let config = read("client_id = \"a\"\n")
            .expect("valid")
            .expect("configured");
        assert_eq!(config.sessions.store, StoreConfig::Cookie);

        let error = read("client_id = \"a\"\nexpose_tokens = \"refresh\"\n").expect_err("refused");
        assert_eq!(error.key, "auth.expose_tokens");
        let error = read("client_id = \"a\"\nexpose_tokens = \"id\"\nsession_store = \"cookie\"\n")
            .expect_err("refused");
        assert_eq!(error.key, "auth.session_store");
    }

    #[test]
    fn lifetimes_are_whole_seconds_within_what_browsers_keep() {
        for (keys, key) in [
            ("session_lifetime = \"500ms\"", "auth.session_lifetime"),
            ("session_lifetime = \"4000000d\"", "auth.session_lifetime"),
            (
                "session_idle_timeout = \"999ms\"",
                "auth.session_idle_timeout",
            ),
        ] {
            assert_eq!(read(keys).expect_err(keys).key, key);
        }
        let ok = read("session_lifetime = \"400d\"\nsession_store_timeout = \"250ms\"\n")
            .expect("valid");
        assert_eq!(ok.lifetime, MAX_SESSION_LIFETIME);
        assert_eq!(ok.store_timeout, Duration::from_millis(250));
    }
}
