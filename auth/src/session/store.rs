//! The session stores behind one interface: an embedded SQLite file or Redis. Each operation
//! is bounded by the configured timeout, so a store that hangs costs a request at most that.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use super::{
    outage::{Admission, Outage},
    redis::RedisStore,
    sqlite::SqliteStore,
};
use crate::config::StoreConfig;

/// A probe's lock, should it not be given back.
const PROBE_LOCK_TTL: Duration = Duration::from_secs(10);

/// One session as a store keeps it, under a hash of its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// A hash of the account (issuer and subject): every session of one person shares it.
    pub owner: String,
    /// The user (claims and provider), sealed with the cookie key under the session's key:
    /// a reader of the store learns only sizes and times.
    pub sealed_user: String,
    /// A hash of the provider's session (`iss` and the ID token's `sid`), for back-channel
    /// logout by `sid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_session: Option<String>,
    /// The sign-in's tokens, sealed likewise, when it keeps any (`expose_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_tokens: Option<String>,
    /// Unix seconds: signed in.
    pub created_at: i64,
    /// Unix seconds: last request seen (updated at most once a minute).
    pub seen_at: i64,
    /// Unix seconds: the end set by `session_lifetime`.
    pub expires_at: i64,
    /// Unix seconds: the end, sooner than `expires_at` when idle; the store forgets it then.
    pub until: i64,
}

/// The store could not answer (in time).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no answer within {0:?}")]
    /// It took longer than `session_store_timeout`.
    Timeout(Duration),
    #[error("{0}")]
    /// It answered with an error, or could not be reached.
    Failed(String),
    #[error("not asked: it is down (a probe will tell when it is back)")]
    /// An earlier call failed, and the back-off is not over: it was not asked.
    Down,
}

/// Sessions ended together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Every session of one account ("log out everywhere", back-channel logout by `sub`).
    Owner,
    /// Every session of one provider session (back-channel logout by `sid`).
    ProviderSession,
}

/// A session store: SQLite or Redis, behind the outage rule (`outage.rs`): once a call has failed,
/// calls skip the store at once until a probe finds it back.
#[derive(Clone)]
pub struct Store(Arc<Shared>);

struct Shared {
    backend: Backend,
    outage: Outage,
}

enum Backend {
    /// The embedded SQLite file.
    Sqlite(SqliteStore),
    /// A Redis server shared by several app servers.
    Redis(Box<RedisStore>),
}

impl Store {
    /// Opens the store `config` names (`None` for cookie mode). SQLite opens the file now;
    /// Redis connects on first use, so an app server starts while Redis is down (and says so
    /// once, from a probe sent now).
    pub fn open(config: &StoreConfig, timeout: Duration) -> Result<Option<Self>, String> {
        let backend = match config {
            StoreConfig::Cookie => return Ok(None),
            StoreConfig::Sqlite(path) => {
                Backend::Sqlite(SqliteStore::open(path, timeout).map_err(|error| {
                    format!("cannot open the SQLite file {}: {error}", path.display())
                })?)
            }
            StoreConfig::Redis(url) => {
                Backend::Redis(Box::new(RedisStore::new(url.expose(), timeout)?))
            }
        };
        let store = Self(Arc::new(Shared {
            backend,
            outage: Outage::new(config.describe()),
        }));
        store.check_at_start();
        Ok(Some(store))
    }

    /// Asks the store once, in the background, so that one that cannot be reached is named in
    /// the log at start-up rather than at the first visitor (outside a runtime: not at all).
    fn check_at_start(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let shared = self.0.clone();
        runtime.spawn(async move {
            match shared.backend.probe().await {
                Ok(()) => shared.outage.answered(),
                Err(error) => shared.outage.unreachable_at_start(&error, Instant::now()),
            }
        });
    }

    /// `operation` on the backend, unless the store is down: then [`StoreError::Down`] at once
    /// (and, when the back-off is over, a probe sent in the background).
    async fn call<'a, T, Fut>(
        &'a self,
        operation: impl FnOnce(&'a Backend) -> Fut,
    ) -> Result<T, StoreError>
    where
        Fut: Future<Output = Result<T, StoreError>> + 'a,
    {
        match self.0.outage.admit(Instant::now()) {
            Admission::Ask => {}
            Admission::Skip => return Err(StoreError::Down),
            Admission::SkipAndProbe => {
                let shared = self.0.clone();
                tokio::spawn(async move {
                    match shared.backend.probe().await {
                        Ok(()) => shared.outage.answered(),
                        Err(_) => shared.outage.probe_failed(Instant::now()),
                    }
                });
                return Err(StoreError::Down);
            }
        }
        let result = operation(&self.0.backend).await;
        match &result {
            Ok(_) => self.0.outage.answered(),
            Err(error) => self.0.outage.failed(error, Instant::now()),
        }
        result
    }

    /// The session under `key`, if there is one that has not ended by `now`.
    pub async fn load(&self, key: &str, now: i64) -> Result<Option<Record>, StoreError> {
        let record = self.call(|backend| backend.load(key)).await?;
        Ok(record.filter(|record| now < record.until))
    }

    /// Keeps `record` under `key` until its `until`, replacing what was there.
    pub async fn save(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        self.call(|backend| backend.save(key, record)).await
    }

    /// Replaces the record under `key` only if the session still exists, so that one ended
    /// meanwhile (logout, back-channel) is not brought back; `false` when it was gone.
    pub async fn update(&self, key: &str, record: &Record) -> Result<bool, StoreError> {
        self.call(|backend| backend.update(key, record)).await
    }

    /// Ends the session under `key` (nothing if there is none).
    pub async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.call(|backend| backend.remove(key)).await
    }

    /// Ends every session of `owner`; returns how many there were.
    pub async fn remove_owner(&self, owner: &str) -> Result<u64, StoreError> {
        self.remove_group(Group::Owner, owner).await
    }

    /// Ends every session of a group (an account, a provider session); returns how many.
    pub async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError> {
        self.call(|backend| backend.remove_group(group, id)).await
    }

    /// Takes the lock `name` for `holder` (a random value of the caller's) for `ttl`, unless
    /// someone holds it: `true` if taken. Locks are shared by every server on the store (a
    /// token refresh once, a logout token once).
    pub async fn try_lock(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.call(|backend| backend.try_lock(name, holder, ttl))
            .await
    }

    /// Gives the lock `name` back before its time, if `holder` still holds it.
    pub async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.call(|backend| backend.unlock(name, holder)).await
    }
}

impl Backend {
    /// Whether the store answers a write (a lock of the probe's own, taken and given back):
    /// a store that still reads but cannot write (another process holding SQLite's write
    /// lock) is not back.
    async fn probe(&self) -> Result<(), StoreError> {
        let holder = super::new_session_id();
        let name = format!("probe:{holder}");
        self.try_lock(&name, &holder, PROBE_LOCK_TTL).await?;
        self.unlock(&name, &holder).await
    }

    async fn load(&self, key: &str) -> Result<Option<Record>, StoreError> {
        match self {
            Self::Sqlite(store) => store.load(key).await,
            Self::Redis(store) => store.load(key).await,
        }
    }

    async fn save(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(store) => store.save(key, record).await,
            Self::Redis(store) => store.save(key, record).await,
        }
    }

    async fn update(&self, key: &str, record: &Record) -> Result<bool, StoreError> {
        match self {
            Self::Sqlite(store) => store.update(key, record).await,
            Self::Redis(store) => store.update(key, record).await,
        }
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(store) => store.remove(key).await,
            Self::Redis(store) => store.remove(key).await,
        }
    }

    async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(store) => store.remove_group(group, id).await,
            Self::Redis(store) => store.remove_group(group, id).await,
        }
    }

    async fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        match self {
            Self::Sqlite(store) => store.try_lock(name, holder, ttl).await,
            Self::Redis(store) => store.try_lock(name, holder, ttl).await,
        }
    }

    async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(store) => store.unlock(name, holder).await,
            Self::Redis(store) => store.unlock(name, holder).await,
        }
    }
}

/// `operation`, or [`StoreError::Timeout`] after `limit`.
pub(super) async fn bounded<T>(
    limit: Duration,
    operation: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(limit, operation)
        .await
        .unwrap_or(Err(StoreError::Timeout(limit)))
}
