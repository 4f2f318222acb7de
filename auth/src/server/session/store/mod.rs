//! The session store's interface: the [`SessionStore`] trait every backend implements
//! (SQLite, Redis, Postgres, memory, or an app's own), and what it keeps ([`Record`]).
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod memory;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
pub use memory::MemoryStore;

/// Where sessions are kept, by their key (a hash of the session id the cookie holds). An app
/// may bring its own (a table in its database, through its pool); `conformance` (feature
/// `conformance`) checks one does what this crate relies on.
///
/// Calls need not bound their own time: each is given up after `session_store_timeout`,
/// and once one has failed, calls are not made until a probe finds the store back.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The session under `key`, if there is one (it may have ended: the caller checks
    /// [`Record::until`]).
    async fn load(&self, key: &str) -> Result<Option<Record>, StoreError>;

    /// Keeps `record` under `key`, replacing what was there, at least until its `until`;
    /// after that the store should forget it (a TTL, a sweep).
    async fn save(&self, key: &str, record: &Record) -> Result<(), StoreError>;

    /// Replaces the record under `key` only if there is one, so that a session ended
    /// meanwhile (logout, back-channel) is not brought back; `false` when there was none.
    async fn update(&self, key: &str, record: &Record) -> Result<bool, StoreError>;

    /// Ends the session under `key` (nothing if there is none).
    async fn remove(&self, key: &str) -> Result<(), StoreError>;

    /// Ends every session of a group ([`Record::owner`] or [`Record::provider_session`]
    /// equal to `id`); returns how many there were.
    async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError>;

    /// The sessions of a group (as [`SessionStore::remove_group`] picks them) that have not
    /// ended (`until` still ahead by the store's clock), each with its key, in any order: what
    /// "Where you're signed in" lists, from the same index "log out everywhere" uses. Never a
    /// session of another group.
    ///
    /// Added after the others: a store written before it keeps compiling with this default,
    /// which answers [`StoreError::Unsupported`] (the list then says the store cannot list,
    /// and the store is not counted as down).
    async fn list_group(
        &self,
        group: Group,
        id: &str,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        let _ = (group, id);
        Err(StoreError::Unsupported("list the sessions of an account"))
    }

    /// Takes the lock `name` for `holder` (a random value of the caller's) for `ttl`, unless
    /// someone holds it: `true` if taken. Shared by every server on the store: a token
    /// refresh once, a logout token once.
    async fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives the lock `name` back before its time, if `holder` still holds it.
    async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}

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
    /// The browser it began in, coarsely ("Firefox on Windows", from the User-Agent at
    /// sign-in), sealed like the user: for the list of where one is signed in. Absent in
    /// records written before it was kept, and where the browser sent no User-Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_device: Option<String>,
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
    #[error("this session store cannot {0} (its SessionStore implementation does not)")]
    /// The store does not do this (a method its implementation left at the trait's
    /// default). An answer, not an outage.
    Unsupported(&'static str),
}

/// Sessions ended together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Every session of one account ("log out everywhere", back-channel logout by `sub`).
    Owner,
    /// Every session of one provider session (back-channel logout by `sid`).
    ProviderSession,
}

impl Group {
    /// Which group of this kind `record` is in, if any.
    pub fn id_of(self, record: &Record) -> Option<&str> {
        match self {
            Self::Owner => Some(&record.owner),
            Self::ProviderSession => record.provider_session.as_deref(),
        }
    }
}
