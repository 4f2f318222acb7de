//! What this crate's unit tests share: configurations from TOML, a log to search, the
//! cookies an answer sets.
use std::{
    io::Write,
    sync::{Arc, Mutex, PoisonError},
};

use crate::{server::auth::Auth, server::config::AuthConfig};

/// A provider address where nothing listens: anything that reaches it fails.
pub(crate) const NOWHERE: &str = "http://127.0.0.1:9/.well-known/openid-configuration";

/// The `[auth]` configuration of `toml` (a whole `[auth]` table), as a secrets file gives it.
pub(crate) fn config(toml: &str) -> AuthConfig {
    crate::server::config::from_sources(std::path::Path::new("test.toml"), Some(toml), |_| None)
        .expect("a valid configuration")
        .expect("an [auth] table")
}

/// An `[auth]` table for an app at `origin` with `cookie_secret` and the provider at
/// `metadata_url`, then `more` (further keys, `[auth.NAME]` tables).
pub(crate) fn toml(origin: &str, cookie_secret: &str, metadata_url: &str, more: &str) -> String {
    format!(
        "[auth]\nredirect_uri = \"{origin}/oauth2callback\"\ncookie_secret = \"{cookie_secret}\"\n\
         client_secret = \"secret\"\nserver_metadata_url = \"{metadata_url}\"\n{more}"
    )
}

/// [`Auth`] for [`toml`], with a short limit on calls to the provider.
pub(crate) fn auth(origin: &str, cookie_secret: &str, metadata_url: &str, more: &str) -> Auth {
    let config = config(&toml(origin, cookie_secret, metadata_url, more));
    Auth::with_provider_timeout(config, std::time::Duration::from_secs(2)).expect("auth")
}

/// Alice, signed in at `https://idp.example`.
pub(crate) fn alice() -> crate::User {
    let serde_json::Value::Object(claims) =
        serde_json::json!({"sub": "alice", "iss": "https://idp.example", "name": "Alice"})
    else {
        unreachable!()
    };
    crate::User::signed_in(claims, None)
}

/// The cookie secret of [`auth_with`].
pub(crate) const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// [`Auth`] for an app on `http://localhost:3000` whose provider is [`NOWHERE`], with `more`
/// keys of `[auth]` (a session store, lifetimes).
pub(crate) fn auth_with(more: &str) -> Auth {
    auth(
        "http://localhost:3000",
        SECRET,
        NOWHERE,
        &format!("client_id = \"a\"\n{more}"),
    )
}

/// A clock for sessions that the test moves on: whole seconds pass at once.
#[derive(Clone, Default)]
pub(crate) struct TestWall(Arc<std::sync::atomic::AtomicI64>);

impl TestWall {
    pub(crate) fn clock(&self) -> crate::server::session::WallClock {
        let ahead = self.0.clone();
        crate::server::session::WallClock::new(move || {
            let seconds = ahead.load(std::sync::atomic::Ordering::SeqCst);
            time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds)
        })
    }

    pub(crate) fn advance(&self, seconds: i64) {
        self.0
            .fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The `Set-Cookie` headers of an answer.
pub(crate) fn set_cookies(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect()
}

/// Log lines, collected in memory.
#[derive(Clone, Default)]
pub(crate) struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// A subscriber writing every level, without colours, into this buffer.
    pub(crate) fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let sink = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish()
    }

    /// Collects what this thread logs while the guard lives.
    pub(crate) fn capture_this_thread(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(self.subscriber())
    }
}

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
