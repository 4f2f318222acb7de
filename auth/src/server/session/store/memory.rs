//! Sessions in this process's memory (`session_store = "memory"`): for tests, and for a single
//! development server. They are gone when the process stops, and no other process sees them:
//! never the store of a deployment.
use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use async_trait::async_trait;

use super::{Group, Record, SessionStore, StoreError};

/// A [`SessionStore`] in a map behind a lock.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    sessions: HashMap<String, Record>,
    /// Each lock's holder and end.
    locks: HashMap<String, (String, Instant)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, work: impl FnOnce(&mut State) -> T) -> Result<T, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(work(&mut state))
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<Record>, StoreError> {
        self.with(|state| state.sessions.get(key).cloned())
    }

    async fn save(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        self.with(|state| {
            // Ended sessions go as new ones come, so the map holds what is live.
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            state.sessions.retain(|_, record| record.until > now);
            state.sessions.insert(key.to_owned(), record.clone());
        })
    }

    async fn update(&self, key: &str, record: &Record) -> Result<bool, StoreError> {
        self.with(|state| match state.sessions.get_mut(key) {
            Some(stored) => {
                *stored = record.clone();
                true
            }
            None => false,
        })
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.with(|state| {
            state.sessions.remove(key);
        })
    }

    async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError> {
        self.with(|state| {
            let before = state.sessions.len();
            state
                .sessions
                .retain(|_, record| group.id_of(record) != Some(id));
            (before - state.sessions.len()) as u64
        })
    }

    async fn list_group(
        &self,
        group: Group,
        id: &str,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        self.with(|state| {
            // Ended ones may still be in the map (they go at the next save): not listed.
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            state
                .sessions
                .iter()
                .filter(|(_, record)| group.id_of(record) == Some(id) && record.until > now)
                .map(|(key, record)| (key.clone(), record.clone()))
                .collect()
        })
    }

    async fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.with(|state| {
            let now = Instant::now();
            state.locks.retain(|_, (_, until)| *until > now);
            if state.locks.contains_key(name) {
                return false;
            }
            state
                .locks
                .insert(name.to_owned(), (holder.to_owned(), now + ttl));
            true
        })
    }

    async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.with(|state| {
            if state
                .locks
                .get(name)
                .is_some_and(|(held_by, _)| held_by == holder)
            {
                state.locks.remove(name);
            }
        })
    }
}
