//! The `session_*` keys: where sessions live and how long they last.
use std::{path::PathBuf, time::Duration};

use toml::{Table, Value};

use super::{Reader, Secret};
use crate::config::ConfigError;

/// Streamlit's sign-in lasts 30 days; so does ours unless `session_lifetime` says otherwise.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long a request waits for the session store before treating the visitor as signed out.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// The keys of this table, also settable as `AUTH_SESSION_STORE`, ….
pub(super) const SESSION_KEYS: [&str; 4] = [
    "session_store",
    "session_lifetime",
    "session_idle_timeout",
    "session_store_timeout",
];

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
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            store: StoreConfig::Cookie,
            lifetime: DEFAULT_SESSION_LIFETIME,
            idle_timeout: None,
            store_timeout: DEFAULT_STORE_TIMEOUT,
        }
    }
}

/// `session_store`: `"cookie"`, `"sqlite:PATH"` or `"redis://…"` / `"rediss://…"`.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreConfig {
    /// The whole session in the sealed identity cookie: nothing on the server.
    Cookie,
    /// An embedded SQLite file (relative paths from the working directory).
    Sqlite(PathBuf),
    /// A Redis server; the URL may hold a password, so it is never printed whole.
    Redis(Secret),
}

impl StoreConfig {
    /// How logs name the store: no credentials.
    pub fn describe(&self) -> String {
        match self {
            Self::Cookie => "the identity cookie".to_owned(),
            Self::Sqlite(path) => format!("SQLite file {}", path.display()),
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
        }
    }
}

impl Reader {
    pub(super) fn sessions(&self, auth: &Table) -> Result<SessionConfig, ConfigError> {
        let defaults = SessionConfig::default();
        let lifetime = self
            .duration(auth, "session_lifetime")?
            .unwrap_or(defaults.lifetime);
        let idle_timeout = self.duration(auth, "session_idle_timeout")?;
        let store_timeout = self
            .duration(auth, "session_store_timeout")?
            .unwrap_or(defaults.store_timeout);
        Ok(SessionConfig {
            store: self.store(auth)?,
            lifetime,
            idle_timeout,
            store_timeout,
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
        Err(self.error(
            key,
            "must be \"cookie\", \"sqlite:PATH\" or \"redis://HOST:PORT/DB\" (rediss:// for TLS)",
        ))
    }

    /// Seconds as a number, or a string such as "90s", "15m", "12h", "30d" (or digits alone).
    fn duration(&self, auth: &Table, name: &str) -> Result<Option<Duration>, ConfigError> {
        let key = format!("auth.{name}");
        let seconds = match auth.get(name) {
            None => return Ok(None),
            Some(Value::Integer(seconds)) => u64::try_from(*seconds).ok(),
            Some(Value::String(text)) => parse_duration(text),
            Some(_) => None,
        };
        match seconds {
            Some(seconds) if seconds > 0 => Ok(Some(Duration::from_secs(seconds))),
            _ => Err(self.error(
                key,
                "must be a positive number of seconds, or a string like \"90s\", \"15m\", \"12h\" or \"30d\"",
            )),
        }
    }
}

fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("12h"), Some(43_200));
        assert_eq!(parse_duration("30d"), Some(2_592_000));
        assert_eq!(parse_duration("30 d"), Some(2_592_000));
        for bad in ["", "d", "1w", "-5m", "1.5h", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
