//! Sessions: who is signed in, kept the way `session_store` says.
//! - cookie mode: the sealed identity cookie is the whole session (stateless; the server
//!   cannot end it before it expires);
//! - with a store (SQLite, Redis or Postgres): the cookie holds only a random session id,
//!   sealed; the store holds the session under a hash of that id, so logout ends it for every
//!   copy of the cookie, and "log out everywhere" ends all of one person's sessions.
//!
//! Each request's visitor is found once, by `middleware::find_visitor` before the app runs (a
//! page renders synchronously and cannot wait for the store), and kept in the request's
//! extensions (`visitor.rs`).
use std::sync::Arc;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};
use tower_cookies::Cookies;

use crate::{
    AuthError, User,
    server::config::SessionConfig,
    server::protocol::TokenSet,
    server::sealing::{CookieCodec, SealError},
};

mod device;
mod guarded;
mod opened;
mod outage;
mod store;
pub use device::device_of;
pub use guarded::Store;
#[cfg(feature = "conformance")]
pub use store::conformance::conformance;
pub use store::{Group, MemoryStore, Record, SessionStore, StoreError};

/// With an idle timeout, a session's last-seen time is written at most this often (seconds).
const TOUCH_INTERVAL: i64 = 60;
/// Without one, only the list of where one is signed in reads it: written at most this often
/// (seconds), so that an active session costs the store one write in five minutes.
const LAST_SEEN_INTERVAL: i64 = 300;
/// A session id's random bytes (256 bits).
const SESSION_ID_BYTES: usize = 32;

/// What the identity cookie holds with a store: the session's id, nothing about the person.
#[derive(Serialize, Deserialize)]
struct SessionRef {
    sid: String,
}

/// The session mode of one server, with its lifetimes.
pub struct Sessions {
    store: Option<Store>,
    lifetime: Duration,
    idle: Option<Duration>,
    refresh_margin: i64,
    /// One token refresh at a time per session in this process (sessions share a gate by
    /// their key's first byte, [`gate_of`]); the store's lock does the same across servers.
    refresh_gates: [tokio::sync::Mutex<()>; REFRESH_GATES],
    /// Whether the log has said that tokens live shorter than the refresh margin.
    margin_told: std::sync::atomic::AtomicBool,
    clock: WallClock,
    /// `session_store_timeout`, for a store the app brings later ([`Sessions::set_store`]).
    store_timeout: std::time::Duration,
    /// Stored sessions' users as opened before, by their sealed text.
    opened: opened::OpenedUsers,
}

/// What time it is for sessions: the system's, or a test's (hours pass at once).
#[derive(Clone)]
pub struct WallClock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl WallClock {
    /// The system's clock.
    pub fn system() -> Self {
        Self(Arc::new(OffsetDateTime::now_utc))
    }

    /// A clock reading `now`.
    pub fn new(now: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        (self.0)()
    }

    /// Unix seconds.
    pub(crate) fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

const REFRESH_GATES: usize = 64;

/// The refresh gate of the session stored under `key` (base64url of a SHA-256): its first
/// byte, decoded, so that every gate is used alike.
fn gate_of(key: &str) -> usize {
    let first = URL_SAFE_NO_PAD
        .decode(key)
        .ok()
        .and_then(|bytes| bytes.first().copied())
        .unwrap_or_default();
    usize::from(first) % REFRESH_GATES
}
/// A refresh holds the store's lock at most this long: longer than the worst refresh (a
/// discovery, the token call and a JWKS refetch, each bounded by the provider timeout).
const REFRESH_LOCK_TTL: std::time::Duration = std::time::Duration::from_secs(35);
/// While another server refreshes, this one looks again this often…
const REFRESH_POLL: std::time::Duration = std::time::Duration::from_millis(100);
/// …for at most this long (past the lock's life, should its holder have died).
const REFRESH_WAIT: std::time::Duration = std::time::Duration::from_secs(37);

/// Who sent a request, as sign-in knows it.
#[derive(Clone, Debug, Default)]
pub struct Found {
    /// Signed out when nobody (or the store did not answer).
    pub user: User,
    /// With a store: the session's key and its owner.
    stored: Option<Stored>,
    /// The cookie named a session, but the store did not answer: nothing is known.
    unanswered: bool,
}

impl Found {
    /// The same session, with the claims it holds from now on.
    pub(crate) fn with_user(self, user: User) -> Self {
        Self { user, ..self }
    }
}

/// What a token refresh leaves a session: the tokens, and the user with fresh claims when
/// the refresh brought any (`None`: the claims stay).
pub struct Refreshed {
    pub tokens: TokenSet,
    pub user: Option<User>,
}

impl From<TokenSet> for Refreshed {
    fn from(tokens: TokenSet) -> Self {
        Self { tokens, user: None }
    }
}

#[derive(Clone, Debug)]
struct Stored {
    key: String,
    owner: String,
    /// The sign-in's tokens, sealed, when it kept any.
    sealed_tokens: Option<String>,
}

/// What [`Sessions::end_one`] did.
pub enum Ended {
    /// Nothing: the session named is this browser's own, which a logout ends.
    ThisBrowser,
    /// Ended the session of another browser; its provider and tokens (to revoke), as far as
    /// they still open.
    Other {
        provider: Option<String>,
        tokens: Option<Box<TokenSet>>,
    },
}

/// Why a session could not begin.
#[derive(Debug, thiserror::Error)]
pub enum BeginError {
    #[error(transparent)]
    /// The cookie or the record could not be sealed (in cookie mode: the claims do not fit).
    Seal(#[from] SealError),
    #[error("the session store failed: {0}")]
    /// The store did not keep the session.
    Store(#[from] StoreError),
}

impl Sessions {
    /// The mode `config` names; a SQLite file that does not open is an error naming it.
    pub fn new(config: &SessionConfig) -> Result<Self, String> {
        let store = Store::open(&config.store, config.store_timeout)?;
        if store.is_some() {
            crate::server::log::tell_developer!(
                info,
                "sessions are kept in {}",
                config.store.describe()
            );
        }
        Ok(Self {
            store,
            lifetime: to_time(config.lifetime),
            idle: config.idle_timeout.map(to_time),
            refresh_margin: i64::try_from(config.refresh_margin.as_secs()).unwrap_or(i64::MAX),
            refresh_gates: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            margin_told: Default::default(),
            clock: WallClock::system(),
            store_timeout: config.store_timeout,
            opened: opened::OpenedUsers::default(),
        })
    }

    /// Sessions kept in `backend` from now on, behind the same timeout and outage rule as
    /// the stores configuration names.
    pub(crate) fn set_store(&mut self, backend: Arc<dyn SessionStore>, described: String) {
        tracing::info!("sessions are kept in {described}");
        self.store = Some(Store::new(backend, described, self.store_timeout));
    }

    /// Cookie mode with the default lifetimes (sign-in switched off).
    pub fn cookie_only() -> Self {
        Self::new(&SessionConfig::default()).unwrap_or_else(|_| unreachable!("cookie mode opens"))
    }

    /// These sessions on `clock` (tests).
    pub fn with_clock(mut self, clock: WallClock) -> Self {
        self.set_clock(clock);
        self
    }

    /// These sessions on `clock` from now on (tests).
    pub(crate) fn set_clock(&mut self, clock: WallClock) {
        self.clock = clock;
    }

    /// The store, if sessions live in one.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Who the request's identity cookie names. A cookie that does not open, or names a
    /// session that ended, is removed; a store that does not answer leaves the cookie be
    /// (the visitor is signed out for this request only).
    pub async fn identify(&self, codec: &CookieCodec, cookies: &Cookies) -> Found {
        let name = codec.identity_name();
        let Some(cookie) = cookies.get(&name) else {
            return Found::default();
        };
        let now = self.clock.now();
        let found = match &self.store {
            None => self.identify_by_cookie(codec, cookies, &cookie, now),
            // On the heap: its store calls (and their timeouts) would make every request's
            // future larger, cookie mode's too (`acts::claims`' test keeps it small).
            Some(store) => {
                Box::pin(self.identify_in_store(store, codec, cookies, &cookie, now)).await
            }
        };
        match found {
            Some(found) => found,
            None => {
                tracing::info!(
                    "cleared an identity cookie that did not open (forged, damaged, old key, \
                     expired or ended)"
                );
                cookies.add(codec.removal(&name));
                Found::default()
            }
        }
    }

    fn identify_by_cookie(
        &self,
        codec: &CookieCodec,
        cookies: &Cookies,
        cookie: &cookie::Cookie<'_>,
        now: OffsetDateTime,
    ) -> Option<Found> {
        let opened = codec
            .open_identity_as::<User>(cookie, now)
            .filter(|opened| opened.content.is_logged_in())?;
        let now_s = now.unix_timestamp();
        // Cookies from before the idle timeout was switched on count as seen now.
        let seen_at = opened.seen_at.unwrap_or(now_s);
        if self.is_idle(seen_at, now_s) {
            return None;
        }
        let touch = self.idle.is_some() && (opened.seen_at.is_none() || self.due(seen_at, now_s));
        if touch || !opened.with_current_key {
            let seen = self.idle.map(|_| if touch { now_s } else { seen_at });
            // Failing, the visitor keeps the cookie they have (the failure is logged).
            if let Ok(cookie) = codec.reseal_identity(&opened, now, seen) {
                cookies.add(cookie);
            }
        }
        Some(Found {
            user: opened.content,
            stored: None,
            unanswered: false,
        })
    }

    async fn identify_in_store(
        &self,
        store: &Store,
        codec: &CookieCodec,
        cookies: &Cookies,
        cookie: &cookie::Cookie<'_>,
        now: OffsetDateTime,
    ) -> Option<Found> {
        let opened = codec.open_identity_as::<SessionRef>(cookie, now)?;
        let key = key_of(&opened.content.sid);
        let now_s = now.unix_timestamp();
        let mut record = match store.load(&key, now_s).await {
            Ok(record) => record?,
            Err(error) => {
                self.store_failed("read", &error);
                return Some(Found {
                    unanswered: true,
                    ..Found::default()
                });
            }
        };
        let user = self.opened.open(&key, &record.sealed_user, || {
            codec
                .open_value::<User>(&key, &record.sealed_user)
                .filter(User::is_logged_in)
        })?;
        if self.is_idle(record.seen_at, now_s) {
            self.forget(store, &key).await;
            return None;
        }
        if !opened.with_current_key
            && let Ok(cookie) = codec.reseal_identity(&opened, now, None)
        {
            cookies.add(cookie);
        }
        if self.idle.is_some() && self.due(record.seen_at, now_s) {
            record.seen_at = now_s;
            record.until = self.until(record.expires_at, now_s);
            // Only if it still exists: a logout meanwhile stays a logout.
            if let Err(error) = store.update(&key, &record).await {
                self.store_failed("update", &error);
            }
        } else if self.idle.is_none() && now_s - record.seen_at >= LAST_SEEN_INTERVAL {
            self.note_seen(store, &key, now_s).await;
        }
        Some(Found {
            user,
            stored: Some(Stored {
                key,
                owner: record.owner,
                sealed_tokens: record.sealed_tokens,
            }),
            unanswered: false,
        })
    }

    /// Writes down that the session under `key` was seen at `now`, for the list of where one
    /// is signed in (without an idle timeout, where nothing else needs it). Under the
    /// session's refresh lock and from the record as it is now: a refresh finishing meanwhile
    /// keeps its new tokens. Busy or failing, it waits for the next request.
    async fn note_seen(&self, store: &Store, key: &str, now: i64) {
        let lock = format!("refresh:{key}");
        let holder = new_session_id();
        match store.try_lock(&lock, &holder, REFRESH_LOCK_TTL).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => return self.store_failed("lock", &error),
        }
        match store.load(key, now).await {
            Ok(Some(mut record)) => {
                record.seen_at = now;
                // Only if it still exists: a logout meanwhile stays a logout.
                if let Err(error) = store.update(key, &record).await {
                    self.store_failed("update", &error);
                }
            }
            Ok(None) => {}
            Err(error) => self.store_failed("read", &error),
        }
        self.unlock(store, &lock, &holder).await;
    }

    /// Signs `user` of `account` in: the identity cookie, and with a store the session behind
    /// it, with `tokens` if given (without a store they are dropped: never in a cookie).
    pub async fn begin(
        &self,
        codec: &CookieCodec,
        cookies: &Cookies,
        user: &User,
        account: &Account,
        tokens: Option<&TokenSet>,
    ) -> Result<(), BeginError> {
        self.begin_on(codec, cookies, user, account, tokens, None)
            .await
    }

    /// [`Sessions::begin`] in the browser `device` names ([`device_of`] its User-Agent), for
    /// the list of where one is signed in (with a store; the cookie alone keeps no list).
    pub async fn begin_on(
        &self,
        codec: &CookieCodec,
        cookies: &Cookies,
        user: &User,
        account: &Account,
        tokens: Option<&TokenSet>,
        device: Option<&str>,
    ) -> Result<(), BeginError> {
        let now = self.clock.now();
        let now_s = now.unix_timestamp();
        let expires_at = now + self.lifetime;
        let seen_at = self.idle.map(|_| now_s);
        // The claims were read from the provider now.
        let tokens = tokens.map(|tokens| TokenSet {
            claims_at: Some(now_s),
            ..tokens.clone()
        });
        let tokens = tokens.as_ref();
        if let Some(tokens) = tokens {
            self.tell_of_short_tokens(tokens);
        }
        let Some(store) = &self.store else {
            let cookie = codec.identity_cookie_until(user, now, expires_at, seen_at)?;
            cookies.add(cookie);
            return Ok(());
        };
        // A sign-in over another (a second person at a shared computer): the first session
        // ends, so no copy of its cookie outlives it.
        if let Some(previous) = cookies
            .get(&codec.identity_name())
            .and_then(|cookie| codec.open_identity_as::<SessionRef>(&cookie, now))
            && let Err(error) = store.remove(&key_of(&previous.content.sid)).await
        {
            self.store_failed("end the previous session in", &error);
        }
        let sid = new_session_id();
        let key = key_of(&sid);
        let record = Record {
            owner: account.owner.clone(),
            provider_session: account.provider_session.clone(),
            sealed_user: codec.seal_value(&key, user)?,
            sealed_tokens: tokens
                .map(|tokens| codec.seal_value(&tokens_label(&key), tokens))
                .transpose()?,
            created_at: now_s,
            seen_at: now_s,
            expires_at: expires_at.unix_timestamp(),
            until: self.until(expires_at.unix_timestamp(), now_s),
            sealed_device: device
                .map(|device| codec.seal_value(&device_label(&key), &device))
                .transpose()?,
        };
        // Sealed before it is saved: no session in the store without a cookie to name it.
        let cookie = codec.seal_identity(&SessionRef { sid }, now, expires_at, None)?;
        store.save(&key, &record).await?;
        cookies.add(cookie);
        Ok(())
    }

    /// The tokens the visitor's session keeps, if any.
    pub fn tokens(&self, codec: &CookieCodec, found: &Found) -> Option<TokenSet> {
        let stored = found.stored.as_ref()?;
        codec.open_value(&tokens_label(&stored.key), stored.sealed_tokens.as_ref()?)
    }

    /// The session's tokens with an access token valid for at least `token_refresh_margin`:
    /// refreshed first through `refresh` when needed, once per session however many requests
    /// (and servers) ask at the same time. A refresh the provider refuses ends the session.
    /// When `refresh` brings a user (fresh claims), the session keeps them too, for the
    /// requests after this one.
    pub async fn fresh_tokens<F, Fut, R>(
        &self,
        codec: &CookieCodec,
        found: &Found,
        refresh: F,
    ) -> Result<TokenSet, AuthError>
    where
        F: FnOnce(TokenSet) -> Fut,
        Fut: Future<Output = Result<R, crate::server::protocol::RefreshError>>,
        R: Into<Refreshed>,
    {
        let tokens = self.tokens(codec, found).ok_or_else(no_tokens)?;
        self.tell_of_short_tokens(&tokens);
        let now = self.clock.unix();
        let (Some(store), Some(stored)) = (&self.store, &found.stored) else {
            return Ok(tokens);
        };
        if !tokens.needs_refresh(now, self.refresh_margin) {
            return Ok(tokens);
        }
        let gate = gate_of(&stored.key);
        let _gate = tokio::time::timeout(REFRESH_WAIT, self.refresh_gates[gate].lock())
            .await
            .map_err(|_| AuthError::StoreUnavailable)?;
        let lock = format!("refresh:{}", stored.key);
        let holder = new_session_id();
        let waited = std::time::Instant::now();
        // Another request (here or on another server) may have refreshed meanwhile: read the
        // session again until it is fresh or this request holds the lock, and once more under
        // the lock (another server may have saved and unlocked in between) before spending
        // the refresh token.
        let (mut record, current) = loop {
            let (_, current) = self.stored_tokens(store, codec, &stored.key).await?;
            if !current.needs_refresh(self.clock.unix(), self.refresh_margin) {
                return Ok(current);
            }
            let locked = store
                .try_lock(&lock, &holder, REFRESH_LOCK_TTL)
                .await
                .map_err(|_| AuthError::StoreUnavailable)?;
            if locked {
                let again = self.stored_tokens(store, codec, &stored.key).await;
                match again {
                    Ok((record, tokens))
                        if tokens.needs_refresh(self.clock.unix(), self.refresh_margin) =>
                    {
                        break (record, tokens);
                    }
                    other => {
                        self.unlock(store, &lock, &holder).await;
                        return other.map(|(_, tokens)| tokens);
                    }
                }
            }
            if waited.elapsed() > REFRESH_WAIT {
                return Err(AuthError::StoreUnavailable);
            }
            tokio::time::sleep(REFRESH_POLL).await;
        };
        let result = match refresh(current.clone()).await.map(Into::into) {
            Ok(Refreshed {
                tokens: mut fresh,
                user,
            }) => {
                if user.is_some() {
                    fresh.claims_at = Some(self.clock.unix());
                }
                let sealed_user = user.map(|user| codec.seal_value(&stored.key, &user));
                let (Ok(sealed), Ok(sealed_user)) = (
                    codec.seal_value(&tokens_label(&stored.key), &fresh),
                    sealed_user.transpose(),
                ) else {
                    self.unlock(store, &lock, &holder).await;
                    return Err(AuthError::Internal);
                };
                record.sealed_tokens = Some(sealed);
                if let Some(sealed_user) = sealed_user {
                    record.sealed_user = sealed_user;
                }
                // Only if the session still exists: a logout meanwhile stays a logout.
                match store.update(&stored.key, &record).await {
                    Ok(true) => Ok(fresh),
                    Ok(false) => Err(AuthError::LoginEnded),
                    Err(_) => Err(AuthError::StoreUnavailable),
                }
            }
            Err(crate::server::protocol::RefreshError::Provider(error)) => {
                tracing::warn!("could not refresh a session's tokens: {error}");
                // The old access token may still serve until it expires.
                match current.expires_at {
                    Some(at) if at > self.clock.unix() => Ok(current),
                    _ => Err(AuthError::ProviderUnavailable(
                        "The sign-in provider cannot be reached right now. Please try again \
                         later."
                            .to_owned(),
                    )),
                }
            }
            Err(refused) => {
                tracing::info!(
                    "signed out a session whose tokens could not be refreshed: {refused}"
                );
                self.forget(store, &stored.key).await;
                Err(AuthError::LoginEnded)
            }
        };
        self.unlock(store, &lock, &holder).await;
        result
    }

    /// Claims read again for a session without a refresh token (`claims_refresh_interval`):
    /// once they are `interval` old, `read` makes the user from the session's tokens, and the
    /// session keeps it. One server reads at a time (the refresh lock; the others keep the
    /// claims they have meanwhile). A read the provider refuses (the access token is dead,
    /// another subject, the app's `map_claims`) ends the session: [`AuthError::LoginEnded`];
    /// a passing failure keeps the old claims, until the next interval. `Ok(None)`: nothing
    /// read (not due, a refresh token keeps the claims fresh, no tokens, another server reads).
    pub async fn reread_claims<F, Fut>(
        &self,
        codec: &CookieCodec,
        found: &Found,
        interval: std::time::Duration,
        read: F,
    ) -> Result<Option<User>, AuthError>
    where
        F: FnOnce(TokenSet) -> Fut,
        Fut: Future<Output = Result<User, crate::server::protocol::RefreshError>>,
    {
        let interval = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
        let (Some(store), Some(stored)) = (&self.store, &found.stored) else {
            return Ok(None);
        };
        let due = |tokens: &TokenSet| {
            tokens.refresh_token.is_none() && tokens.claims_due(self.clock.unix(), interval)
        };
        if !self.tokens(codec, found).is_some_and(|tokens| due(&tokens)) {
            return Ok(None);
        }
        let lock = format!("refresh:{}", stored.key);
        let holder = new_session_id();
        let locked = store
            .try_lock(&lock, &holder, REFRESH_LOCK_TTL)
            .await
            .map_err(|_| AuthError::StoreUnavailable)?;
        if !locked {
            return Ok(None);
        }
        let result = async {
            // Under the lock, as the store has it now: another server may have read them.
            let (mut record, mut tokens) = self.stored_tokens(store, codec, &stored.key).await?;
            if !due(&tokens) {
                return Ok(None);
            }
            let user = match read(tokens.clone()).await {
                Ok(user) => Some(user),
                Err(crate::server::protocol::RefreshError::Provider(error)) => {
                    tracing::warn!("could not read a session's claims again: {error}");
                    None
                }
                Err(refused) => {
                    tracing::info!(
                        "signed out a session whose claims could not be read again: {refused}"
                    );
                    self.forget(store, &stored.key).await;
                    return Err(AuthError::LoginEnded);
                }
            };
            // Read or tried: not again before the next interval.
            tokens.claims_at = Some(self.clock.unix());
            record.sealed_tokens = Some(
                codec
                    .seal_value(&tokens_label(&stored.key), &tokens)
                    .map_err(|_| AuthError::Internal)?,
            );
            if let Some(user) = &user {
                record.sealed_user = codec
                    .seal_value(&stored.key, user)
                    .map_err(|_| AuthError::Internal)?;
            }
            match store.update(&stored.key, &record).await {
                Ok(true) => Ok(user),
                Ok(false) => Err(AuthError::LoginEnded),
                Err(_) => Err(AuthError::StoreUnavailable),
            }
        }
        .await;
        self.unlock(store, &lock, &holder).await;
        result
    }

    /// The session under `key` and its tokens, as the store has them now.
    async fn stored_tokens(
        &self,
        store: &Store,
        codec: &CookieCodec,
        key: &str,
    ) -> Result<(Record, TokenSet), AuthError> {
        let now = self.clock.unix();
        let record = store
            .load(key, now)
            .await
            .map_err(|_| AuthError::StoreUnavailable)?
            .ok_or(AuthError::LoginEnded)?;
        let tokens = record
            .sealed_tokens
            .as_ref()
            .and_then(|sealed| codec.open_value(&tokens_label(key), sealed))
            .ok_or_else(no_tokens)?;
        Ok((record, tokens))
    }

    /// Says once per server when the provider's access tokens live no longer than
    /// `token_refresh_margin`: they are then refreshed when half their life is left.
    fn tell_of_short_tokens(&self, tokens: &TokenSet) {
        use std::sync::atomic::Ordering;
        let Some(lifetime) = tokens.lifetime else {
            return;
        };
        if lifetime <= self.refresh_margin && !self.margin_told.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "token_refresh_margin ({} s) is longer than the provider's access tokens live \
                 ({lifetime} s): they are refreshed when {} s of their life are left instead",
                self.refresh_margin,
                tokens.margin(self.refresh_margin)
            );
        }
    }

    async fn unlock(&self, store: &Store, lock: &str, holder: &str) {
        if let Err(error) = store.unlock(lock, holder).await {
            self.store_failed("unlock", &error);
        }
    }

    /// Signs the visitor out: the cookie goes, and with a store the session ends for every
    /// copy of the cookie.
    ///
    /// When the store cannot end the session, the cookie stays and the answer is
    /// [`AuthError::StoreUnavailable`]: the visitor can try again, rather than believe a
    /// session over whose copies still work.
    pub async fn end(
        &self,
        codec: &CookieCodec,
        cookies: &Cookies,
        found: &Found,
    ) -> Result<(), AuthError> {
        if found.unanswered {
            return Err(AuthError::StoreUnavailable);
        }
        if let (Some(store), Some(stored)) = (&self.store, &found.stored)
            && let Err(error) = store.remove(&stored.key).await
        {
            self.store_failed("end a session in", &error);
            return Err(AuthError::StoreUnavailable);
        }
        cookies.add(codec.removal(&codec.identity_name()));
        Ok(())
    }

    /// Ends every session of the visitor's account, in every browser; returns how many.
    pub async fn end_everywhere(
        &self,
        codec: &CookieCodec,
        cookies: &Cookies,
        found: &Found,
    ) -> Result<u64, AuthError> {
        let Some(store) = &self.store else {
            return Err(AuthError::NeedsSessionStore);
        };
        let stored = found.stored.as_ref().ok_or(AuthError::NotLoggedIn)?;
        let ended = store.remove_owner(&stored.owner).await.map_err(|error| {
            self.store_failed("end sessions in", &error);
            AuthError::StoreUnavailable
        })?;
        cookies.add(codec.removal(&codec.identity_name()));
        Ok(ended)
    }

    /// The live sessions of the visitor's account, this browser's first, then the most
    /// recently seen. Needs a store ([`AuthError::NeedsSessionStore`]).
    pub async fn list(
        &self,
        codec: &CookieCodec,
        found: &Found,
    ) -> Result<Vec<crate::session_info::SessionInfo>, AuthError> {
        let (store, stored) = self.signed_in_with_store(found)?;
        let mut listed: Vec<_> = self
            .sessions_of(store, &stored.owner)
            .await?
            .into_iter()
            .map(|(key, record)| {
                let user: Option<User> = codec.open_value(&key, &record.sealed_user);
                crate::session_info::SessionInfo {
                    id: codec.handle_of(&key),
                    began_at: record.created_at,
                    last_seen_at: record.seen_at,
                    provider: user.and_then(|user| user.provider().map(str::to_owned)),
                    device: record
                        .sealed_device
                        .as_ref()
                        .and_then(|sealed| codec.open_value(&device_label(&key), sealed)),
                    this_browser: key == stored.key,
                }
            })
            .collect();
        listed.sort_by_key(|session| {
            (
                !session.this_browser,
                std::cmp::Reverse(session.last_seen_at),
            )
        });
        Ok(listed)
    }

    /// Ends the session of the visitor's account that `id` ([`crate::session_info::SessionInfo::id`])
    /// names, in whichever browser it is: the key is looked up among the account's own
    /// sessions, so an id of another account's, made up or of a session over is
    /// [`AuthError::NoSuchSession`], the same answer for each. This browser's own session is
    /// not ended here ([`Ended::ThisBrowser`]: the caller signs out, as a logout).
    pub async fn end_one(
        &self,
        codec: &CookieCodec,
        found: &Found,
        id: &str,
    ) -> Result<Ended, AuthError> {
        let (store, stored) = self.signed_in_with_store(found)?;
        let (key, record) = self
            .sessions_of(store, &stored.owner)
            .await?
            .into_iter()
            .find(|(key, _)| codec.handle_of(key) == id)
            .ok_or(AuthError::NoSuchSession)?;
        if key == stored.key {
            return Ok(Ended::ThisBrowser);
        }
        let tokens = record
            .sealed_tokens
            .as_ref()
            .and_then(|sealed| codec.open_value(&tokens_label(&key), sealed));
        let user: Option<User> = codec.open_value(&key, &record.sealed_user);
        let provider = user.and_then(|user| user.provider().map(str::to_owned));
        store.remove(&key).await.map_err(|error| {
            self.store_failed("end a session in", &error);
            AuthError::StoreUnavailable
        })?;
        Ok(Ended::Other {
            provider,
            tokens: tokens.map(Box::new),
        })
    }

    /// The store and the visitor's stored session, or why there are none.
    fn signed_in_with_store<'a>(
        &'a self,
        found: &'a Found,
    ) -> Result<(&'a Store, &'a Stored), AuthError> {
        let store = self.store.as_ref().ok_or(AuthError::NeedsSessionStore)?;
        if found.unanswered {
            return Err(AuthError::StoreUnavailable);
        }
        let stored = found.stored.as_ref().ok_or(AuthError::NotLoggedIn)?;
        Ok((store, stored))
    }

    /// The live sessions of `owner`, with their keys.
    async fn sessions_of(
        &self,
        store: &Store,
        owner: &str,
    ) -> Result<Vec<(String, Record)>, AuthError> {
        store
            .list_group(Group::Owner, owner, self.clock.unix())
            .await
            .map_err(|error| match error {
                StoreError::Unsupported(_) => {
                    tracing::error!(
                        "{error}: implement SessionStore::list_group to list and end sessions"
                    );
                    AuthError::Internal
                }
                error => {
                    self.store_failed("list sessions in", &error);
                    AuthError::StoreUnavailable
                }
            })
    }

    /// Times are whole seconds: idle means more than the timeout has passed.
    fn is_idle(&self, seen_at: i64, now: i64) -> bool {
        self.idle
            .is_some_and(|idle| now - seen_at > idle.whole_seconds())
    }

    /// Whether a session last seen at `seen_at` should be marked seen again: once a minute,
    /// or more often for an idle timeout under two minutes, so activity always keeps it.
    fn due(&self, seen_at: i64, now: i64) -> bool {
        let interval = self.idle.map_or(TOUCH_INTERVAL, |idle| {
            TOUCH_INTERVAL.min(idle.whole_seconds() / 2)
        });
        now - seen_at >= interval
    }

    /// When a session last seen at `seen_at` ends: at `expires_at`, or sooner if idle.
    fn until(&self, expires_at: i64, seen_at: i64) -> i64 {
        match self.idle {
            Some(idle) => expires_at.min(seen_at + idle.whole_seconds() + 1),
            None => expires_at,
        }
    }

    /// Ends the session under `key`, as far as the store answers (a failure is only logged).
    async fn forget(&self, store: &Store, key: &str) {
        self.opened.forget(key);
        if let Err(error) = store.remove(key).await {
            self.store_failed("end a session in", &error);
        }
    }

    /// The store's going down and coming back are logged where calls meet it (`outage.rs`),
    /// once each; here only what this call could not do.
    fn store_failed(&self, doing: &str, error: &StoreError) {
        tracing::debug!("could not {doing} the session store: {error}");
    }
}

/// Who a session belongs to, as the store files it: hashes, so the store never holds who
/// someone is in the clear.
#[derive(Clone, Debug)]
pub struct Account {
    /// The account (issuer and subject): "log out everywhere", back-channel logout by `sub`.
    pub owner: String,
    /// The provider's session (issuer and the ID token's `sid`): back-channel logout by `sid`.
    pub provider_session: Option<String>,
}

impl Account {
    /// The account of an ID token's `claims` from the provider `issuer`; `None` when they
    /// name no subject (`sub` missing or empty): such sign-ins would all share one account,
    /// and one's "log out everywhere" would end them all.
    pub fn of(issuer: &str, claims: &serde_json::Map<String, serde_json::Value>) -> Option<Self> {
        let text = |name: &str| claims.get(name).and_then(|value| value.as_str());
        let subject = text("sub").filter(|sub| !sub.trim().is_empty())?;
        Some(Self {
            owner: owner_of(issuer, subject),
            provider_session: text("sid").map(|sid| provider_session_of(issuer, sid)),
        })
    }
}

/// Names an account across its sessions: a hash of the issuer and subject.
pub fn owner_of(issuer: &str, subject: &str) -> String {
    hash(&format!("{issuer}\n{subject}"))
}

/// Names a provider's session (its `sid`) across the sessions it began.
pub fn provider_session_of(issuer: &str, sid: &str) -> String {
    hash(&format!("{issuer}\nsid\n{sid}"))
}

/// The store's key for session id `sid`: a dump of the store cannot be replayed as cookies.
fn key_of(sid: &str) -> String {
    hash(sid)
}

fn no_tokens() -> AuthError {
    AuthError::NoTokens(
        "This sign-in holds no tokens (it began before expose_tokens was set): sign in again."
            .to_owned(),
    )
}

/// What the device of session `key` is sealed under.
fn device_label(key: &str) -> String {
    format!("{key}.device")
}

/// What the tokens of session `key` are sealed under: they open nowhere else.
fn tokens_label(key: &str) -> String {
    format!("{key}.tokens")
}

fn hash(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

fn new_session_id() -> String {
    let mut bytes = [0u8; SESSION_ID_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn to_time(duration: std::time::Duration) -> Duration {
    Duration::try_from(duration).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests;
