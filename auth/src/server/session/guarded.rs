//! The store as the sessions call it ([`Store`]): the backend `session_store` names (or an
//! app's own), every call bounded by `session_store_timeout`, and skipped at once while the
//! store is down (`outage.rs`).
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use super::{
    outage::{Admission, Outage},
    store::{Group, Record, SessionStore, StoreError},
};
use crate::server::config::StoreConfig;

/// A probe's lock, should it not be given back.
const PROBE_LOCK_TTL: Duration = Duration::from_secs(10);

/// A session store as the sessions call it: its [`SessionStore`], each call bounded by the
/// timeout, and skipped at once while the store is down (`outage.rs`).
#[derive(Clone)]
pub struct Store(Arc<Shared>);

struct Shared {
    backend: Arc<dyn SessionStore>,
    timeout: Duration,
    outage: Outage,
}

impl Store {
    /// Opens the store `config` names (`None` for cookie mode). SQLite opens the file now;
    /// Redis and Postgres connect on first use, so an app server starts while its store is
    /// down (and says so once, from a probe sent now). A backend this server was built without is an error
    /// naming the feature to turn on.
    pub fn open(config: &StoreConfig, timeout: Duration) -> Result<Option<Self>, String> {
        let backend: Arc<dyn SessionStore> = match config {
            StoreConfig::Cookie => return Ok(None),
            StoreConfig::Memory => Arc::new(super::store::MemoryStore::new()),
            StoreConfig::Sqlite(path) => sqlite(path, timeout)?,
            StoreConfig::Redis(url) => redis(url, timeout)?,
            StoreConfig::Postgres(url) => postgres(url, timeout)?,
        };
        Ok(Some(Self::new(backend, config.describe(), timeout)))
    }

    /// `backend` behind the timeout and the outage rule; `described` names it in the log
    /// (never with credentials).
    pub fn new(backend: Arc<dyn SessionStore>, described: String, timeout: Duration) -> Self {
        let store = Self(Arc::new(Shared {
            backend,
            timeout,
            outage: Outage::new(described),
        }));
        store.check_at_start();
        store
    }

    /// Asks the store once, in the background, so that one that cannot be reached is named in
    /// the log at start-up rather than at the first visitor (outside a runtime: not at all).
    fn check_at_start(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.probe_in_background(&runtime, |outage, error| {
            outage.unreachable_at_start(error, Instant::now());
        });
    }

    /// Sends one probe on `runtime`: an answer brings the store back, a failure is
    /// `failed`'s to tell.
    fn probe_in_background(
        &self,
        runtime: &tokio::runtime::Handle,
        failed: impl FnOnce(&Outage, &StoreError) + Send + 'static,
    ) {
        let shared = self.0.clone();
        runtime.spawn(async move {
            match shared.probe().await {
                Ok(()) => shared.outage.answered(),
                Err(error) => failed(&shared.outage, &error),
            }
        });
    }

    /// `operation` on the backend within the timeout, unless the store is down: then
    /// [`StoreError::Down`] at once (and, when the back-off is over, a probe in the
    /// background).
    async fn call<'a, T, Fut>(
        &'a self,
        operation: impl FnOnce(&'a dyn SessionStore) -> Fut,
    ) -> Result<T, StoreError>
    where
        Fut: Future<Output = Result<T, StoreError>> + 'a,
    {
        match self.0.outage.admit(Instant::now()) {
            Admission::Ask => {}
            Admission::Skip => return Err(StoreError::Down),
            Admission::SkipAndProbe => {
                // Calls run on tokio (as `tokio::spawn` needs).
                let runtime = tokio::runtime::Handle::current();
                self.probe_in_background(&runtime, |outage, _| {
                    outage.probe_failed(Instant::now());
                });
                return Err(StoreError::Down);
            }
        }
        let result = bounded(self.0.timeout, operation(&*self.0.backend)).await;
        match &result {
            // A store that says it cannot do something has answered: it is not down.
            Ok(_) | Err(StoreError::Unsupported(_)) => self.0.outage.answered(),
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

    /// [`SessionStore::update`].
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

    /// [`SessionStore::remove_group`].
    pub async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError> {
        self.call(|backend| backend.remove_group(group, id)).await
    }

    /// The sessions of a group that have not ended by `now`, with their keys
    /// ([`SessionStore::list_group`]; ended ones the store still holds are left out here too).
    pub async fn list_group(
        &self,
        group: Group,
        id: &str,
        now: i64,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        let mut listed = self.call(|backend| backend.list_group(group, id)).await?;
        listed.retain(|(_, record)| now < record.until && group.id_of(record) == Some(id));
        Ok(listed)
    }

    /// [`SessionStore::try_lock`].
    pub async fn try_lock(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.call(|backend| backend.try_lock(name, holder, ttl))
            .await
    }

    /// [`SessionStore::unlock`].
    pub async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.call(|backend| backend.unlock(name, holder)).await
    }
}

impl Shared {
    /// Whether the store answers a write (a lock of the probe's own, taken and given back):
    /// a store that still reads but cannot write (another process holding SQLite's write
    /// lock) is not back.
    async fn probe(&self) -> Result<(), StoreError> {
        let holder = super::new_session_id();
        let name = format!("probe:{holder}");
        bounded(self.timeout, async {
            self.backend
                .try_lock(&name, &holder, PROBE_LOCK_TTL)
                .await?;
            self.backend.unlock(&name, &holder).await
        })
        .await
    }
}

/// What `session_store` names that this build left out.
#[cfg_attr(
    all(feature = "sqlite", feature = "redis", feature = "postgres"),
    allow(dead_code)
)]
fn missing_feature(feature: &str, written: &str) -> String {
    format!(
        "{written} needs this crate's `{feature}` feature, which this server was built without: \
         add \"{feature}\" to its features in Cargo.toml"
    )
}

#[cfg(feature = "sqlite")]
fn sqlite(path: &std::path::Path, timeout: Duration) -> Result<Arc<dyn SessionStore>, String> {
    match super::store::sqlite::SqliteStore::open(path, timeout) {
        Ok(store) => Ok(Arc::new(store)),
        Err(error) => Err(format!(
            "cannot open the SQLite file {}: {error}",
            path.display()
        )),
    }
}

#[cfg(not(feature = "sqlite"))]
fn sqlite(_: &std::path::Path, _: Duration) -> Result<Arc<dyn SessionStore>, String> {
    Err(missing_feature("sqlite", "\"sqlite:…\""))
}

#[cfg(feature = "redis")]
fn redis(
    url: &crate::server::config::Secret,
    timeout: Duration,
) -> Result<Arc<dyn SessionStore>, String> {
    Ok(Arc::new(super::store::redis::RedisStore::new(
        url.expose(),
        timeout,
    )?))
}

#[cfg(not(feature = "redis"))]
fn redis(_: &crate::server::config::Secret, _: Duration) -> Result<Arc<dyn SessionStore>, String> {
    Err(missing_feature(
        "redis",
        "\"redis://…\" (or rediss://, redis+sentinel://)",
    ))
}

#[cfg(feature = "postgres")]
fn postgres(
    url: &crate::server::config::Secret,
    timeout: Duration,
) -> Result<Arc<dyn SessionStore>, String> {
    Ok(Arc::new(super::store::postgres::PostgresStore::new(
        url.expose(),
        timeout,
    )?))
}

#[cfg(not(feature = "postgres"))]
fn postgres(
    _: &crate::server::config::Secret,
    _: Duration,
) -> Result<Arc<dyn SessionStore>, String> {
    Err(missing_feature("postgres", "\"postgres://…\""))
}

/// `operation`, or [`StoreError::Timeout`] after `limit`.
async fn bounded<T>(
    limit: Duration,
    operation: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(limit, operation)
        .await
        .unwrap_or(Err(StoreError::Timeout(limit)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_backend_left_out_of_the_build_names_the_feature() {
        let text = super::missing_feature("redis", "\"redis://…\"");
        assert!(text.contains("`redis` feature"), "{text}");
        assert!(text.contains("add \"redis\" to its features"), "{text}");
    }
}
