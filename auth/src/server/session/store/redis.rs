//! The shared store for several app servers: Redis, through the `redis` crate's connection
//! manager (reconnects by itself). Keys expire by Redis's own TTL.
use std::time::Duration;

use redis::{AsyncCommands, aio::ConnectionManager};
use tokio::sync::OnceCell;

use async_trait::async_trait;

use super::{Group, Record, SessionStore, StoreError};

/// Every key this crate writes starts so, to share a Redis database with the app.
const PREFIX: &str = "leptos-auth:";

/// Sessions in Redis: `leptos-auth:session:KEY` holds a record until it ends;
/// `leptos-auth:owner:OWNER` the keys of one person's sessions, for "log out everywhere".
pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    timeout: Duration,
}

impl RedisStore {
    /// Checks the URL; connects on first use.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        // The error may quote the URL, with its password: say only what kind it is.
        let client = redis::Client::open(url)
            .map_err(|error| format!("not a usable Redis URL ({:?})", error.kind()))?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
            timeout,
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2);
        self.connection
            .get_or_try_init(|| async {
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
            .map_err(failed)
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn load(&self, key: &str) -> Result<Option<Record>, StoreError> {
        async {
            let text: Option<String> = self
                .connection()
                .await?
                .get(session_key(key))
                .await
                .map_err(failed)?;
            // A value this code did not write is no session.
            Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
        }
        .await
    }

    async fn save(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        let text = serde_json::to_string(record).map_err(failed)?;
        let owner = group_key(Group::Owner, &record.owner);
        async {
            let mut connection = self.connection().await?;
            let mut pipe = redis::pipe();
            pipe.cmd("SET")
                .arg(session_key(key))
                .arg(text)
                .arg("EXAT")
                .arg(record.until)
                .ignore()
                .sadd(&owner, key)
                .ignore()
                // The set lives as long as its longest session: NX sets a new set's expiry,
                // GT lengthens an old one's.
                .cmd("EXPIREAT")
                .arg(&owner)
                .arg(record.expires_at)
                .arg("NX")
                .ignore()
                .cmd("EXPIREAT")
                .arg(&owner)
                .arg(record.expires_at)
                .arg("GT")
                .ignore();
            if let Some(provider_session) = &record.provider_session {
                let group = group_key(Group::ProviderSession, provider_session);
                pipe.sadd(&group, key)
                    .ignore()
                    .cmd("EXPIREAT")
                    .arg(&group)
                    .arg(record.expires_at)
                    .arg("NX")
                    .ignore()
                    .cmd("EXPIREAT")
                    .arg(&group)
                    .arg(record.expires_at)
                    .arg("GT")
                    .ignore();
            }
            pipe.query_async::<()>(&mut connection)
                .await
                .map_err(failed)
        }
        .await
    }

    /// Replaces the record under `key` only if it is still there (`SET … XX`): a session
    /// ended meanwhile stays ended. `false` when it was gone.
    async fn update(&self, key: &str, record: &Record) -> Result<bool, StoreError> {
        let text = serde_json::to_string(record).map_err(failed)?;
        async {
            let replaced: Option<String> = redis::cmd("SET")
                .arg(session_key(key))
                .arg(text)
                .arg("XX")
                .arg("EXAT")
                .arg(record.until)
                .query_async(&mut self.connection().await?)
                .await
                .map_err(failed)?;
            Ok(replaced.is_some())
        }
        .await
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        async {
            let mut connection = self.connection().await?;
            let text: Option<String> =
                connection.get_del(session_key(key)).await.map_err(failed)?;
            if let Some(record) = text.and_then(|text| serde_json::from_str::<Record>(&text).ok()) {
                let _: () = connection
                    .srem(group_key(Group::Owner, &record.owner), key)
                    .await
                    .map_err(failed)?;
                if let Some(provider_session) = &record.provider_session {
                    let _: () = connection
                        .srem(group_key(Group::ProviderSession, provider_session), key)
                        .await
                        .map_err(failed)?;
                }
            }
            Ok(())
        }
        .await
    }

    async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError> {
        async {
            let mut connection = self.connection().await?;
            let owner = group_key(group, id);
            let keys: Vec<String> = connection.smembers(&owner).await.map_err(failed)?;
            if keys.is_empty() {
                return Ok(0);
            }
            let doomed: Vec<String> = keys.iter().map(|key| session_key(key)).collect();
            let ended: u64 = connection.del(&doomed).await.map_err(failed)?;
            // Only the members read: a session saved meanwhile stays in the group.
            let _: () = connection.srem(&owner, &keys).await.map_err(failed)?;
            Ok(ended)
        }
        .await
    }

    /// The group's set names the keys; a key whose session Redis has expired is still a
    /// member until the group ends or a removal takes it out, and is skipped.
    async fn list_group(
        &self,
        group: Group,
        id: &str,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        async {
            let mut connection = self.connection().await?;
            let keys: Vec<String> = connection
                .smembers(group_key(group, id))
                .await
                .map_err(failed)?;
            if keys.is_empty() {
                // MGET of no keys is an error in Redis.
                return Ok(Vec::new());
            }
            let sessions: Vec<String> = keys.iter().map(|key| session_key(key)).collect();
            let texts: Vec<Option<String>> = connection.mget(&sessions).await.map_err(failed)?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            Ok(keys
                .into_iter()
                .zip(texts)
                .filter_map(|(key, text)| {
                    // A value this code did not write is no session.
                    let record: Record = serde_json::from_str(&text?).ok()?;
                    // Only the group's own, whatever the set says, and only live ones.
                    (group.id_of(&record) == Some(id) && record.until > now)
                        .then_some((key, record))
                })
                .collect())
        }
        .await
    }

    async fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        async {
            let taken: Option<String> = redis::cmd("SET")
                .arg(format!("{PREFIX}lock:{name}"))
                .arg(holder)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut self.connection().await?)
                .await
                .map_err(failed)?;
            Ok(taken.is_some())
        }
        .await
    }

    async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        async {
            // Only the holder's own lock: one that expired and was taken since is another's.
            let _: i64 = redis::cmd("EVAL")
                .arg(UNLOCK_SCRIPT)
                .arg(1)
                .arg(format!("{PREFIX}lock:{name}"))
                .arg(holder)
                .query_async(&mut self.connection().await?)
                .await
                .map_err(failed)?;
            Ok(())
        }
        .await
    }
}

/// Deletes KEYS[1] if it holds ARGV[1].
const UNLOCK_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

fn session_key(key: &str) -> String {
    format!("{PREFIX}session:{key}")
}

fn group_key(group: Group, id: &str) -> String {
    match group {
        Group::Owner => format!("{PREFIX}owner:{id}"),
        Group::ProviderSession => format!("{PREFIX}provider-session:{id}"),
    }
}

/// Redis's errors name the command and kind, never the URL or the values.
fn failed(error: impl std::fmt::Display) -> StoreError {
    StoreError::Failed(error.to_string())
}
