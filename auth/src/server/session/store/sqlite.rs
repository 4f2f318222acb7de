//! The embedded store: one SQLite file, nothing to install or run. Calls run on tokio's
//! blocking threads; ended sessions are swept at start-up and then every few minutes.
use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use rusqlite::{Connection, OptionalExtension, params};

use async_trait::async_trait;

use super::{Group, Record, SessionStore, StoreError};

/// Ended sessions are deleted at most this often (on the next sign-in after it passed).
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    -- WAL's usual pairing: a commit waits for no fsync of its own (a crash loses at most
    -- the last sessions' writes, never the file), so concurrent requests do not queue on
    -- the disk past the store timeout.
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS auth_sessions (
        key TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        until INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS auth_sessions_owner ON auth_sessions (owner);
    CREATE INDEX IF NOT EXISTS auth_sessions_until ON auth_sessions (until);
    CREATE TABLE IF NOT EXISTS auth_locks (
        name TEXT PRIMARY KEY NOT NULL,
        holder TEXT NOT NULL DEFAULT '',
        until_ms INTEGER NOT NULL
    );
";
/// Added after the first release: older files get the column on open.
const PROVIDER_SESSION_COLUMN: &str = "
    ALTER TABLE auth_sessions ADD COLUMN provider_session TEXT;
";
const PROVIDER_SESSION_INDEX: &str = "
    CREATE INDEX IF NOT EXISTS auth_sessions_provider_session
        ON auth_sessions (provider_session);
";

/// How long opening the file may wait for other processes opening it too.
const OPEN_WAIT: Duration = Duration::from_secs(10);

/// The read-only connection of [`SqliteStore::reader`]: its set-up waits for locks (up to
/// `wait`), its reads after never do.
fn open_reader(path: &Path, wait: Duration) -> rusqlite::Result<Connection> {
    let reader = Connection::open(path)?;
    reader.busy_timeout(wait)?;
    // A small page cache of its own: the file's pages are in the OS's cache anyway, and the
    // server's memory stays near flat with the number of sessions.
    reader.execute_batch("PRAGMA query_only = true; PRAGMA cache_size = -512;")?;
    // The schema read now, while waiting is allowed.
    reader.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    reader.busy_timeout(Duration::ZERO)?;
    Ok(reader)
}

/// A SQLite file of sessions; several server processes on one machine may share it.
pub struct SqliteStore {
    /// An async lock, taken before going to a blocking thread: with a hung disk, requests
    /// wait here (bounded by the timeout) instead of each parking a blocking thread.
    db: Arc<tokio::sync::Mutex<Db>>,
    /// A second connection, for the one read every signed-in request makes ([`Self::load`]),
    /// run on the request's own thread whenever it is free: a read by primary key in a WAL
    /// file takes a few µs, the hop to a blocking thread and back ten times that. In WAL mode
    /// a reader does not wait for writers, and this one has no busy timeout: anything but an
    /// answer (busy, an error) sends the read the long way, which reports it. A hung disk
    /// could hold the one thread that has this connection; every other request goes the
    /// long way, bounded by the store timeout. None for a database in memory (`:memory:`, or
    /// a `file:` URI, which may be one), which a second connection would not see.
    reader: Option<std::sync::Mutex<Connection>>,
}

struct Db {
    connection: Connection,
    swept_at: Instant,
}

impl SqliteStore {
    /// Opens (creating if need be) the file at `path`, and sweeps what has ended.
    pub fn open(path: &Path, timeout: Duration) -> Result<Self, String> {
        let connection = Connection::open(path).map_err(|error| error.to_string())?;
        // Opening (the schema, an upgrade, the sweep) may wait for other processes opening
        // the same file longer than a request's call would; calls get `timeout` after.
        connection
            .busy_timeout(timeout.max(OPEN_WAIT))
            .and_then(|()| connection.execute_batch(SCHEMA))
            .map_err(|error| error.to_string())?;
        // Locks are short-lived: a table from before they had holders is simply made anew.
        if connection
            .prepare("SELECT holder FROM auth_locks LIMIT 0")
            .is_err()
        {
            connection
                .execute_batch("DROP TABLE auth_locks;")
                .and_then(|()| connection.execute_batch(SCHEMA))
                .map_err(|error| error.to_string())?;
        }
        let has_column = connection
            .prepare("SELECT provider_session FROM auth_sessions LIMIT 0")
            .is_ok();
        if !has_column {
            // Another process opening the same file at once may have added it meanwhile.
            match connection.execute_batch(PROVIDER_SESSION_COLUMN) {
                Err(error) if error.to_string().contains("duplicate column name") => {}
                other => other.map_err(|error| error.to_string())?,
            }
        }
        connection
            .execute_batch(PROVIDER_SESSION_INDEX)
            .map_err(|error| error.to_string())?;
        let mut db = Db {
            connection,
            swept_at: Instant::now(),
        };
        db.sweep().map_err(|error| error.to_string())?;
        let in_memory = path
            .to_str()
            .is_some_and(|path| path == ":memory:" || path.starts_with("file:"));
        db.connection
            .busy_timeout(timeout)
            .map_err(|error| error.to_string())?;
        // The fast reader is a help, not a need: one that does not open leaves every read
        // the long way.
        let reader = if in_memory {
            None
        } else {
            match open_reader(path, timeout.max(OPEN_WAIT)) {
                Ok(reader) => Some(std::sync::Mutex::new(reader)),
                Err(error) => {
                    tracing::debug!("sessions read on blocking threads only: {error}");
                    None
                }
            }
        };
        Ok(Self {
            db: Arc::new(tokio::sync::Mutex::new(db)),
            reader,
        })
    }

    /// [`Self::load`]'s read on this thread, if the reader is free and answers at once.
    fn read_here(&self, key: &str) -> Option<Option<String>> {
        let reader = self.reader.as_ref()?.try_lock().ok()?;
        let mut statement = reader
            .prepare_cached("SELECT record FROM auth_sessions WHERE key = ?1")
            .ok()?;
        statement
            .query_row([key], |row| row.get::<_, String>(0))
            .optional()
            .ok()
    }

    /// [`Self::load`]'s read the long way: on a blocking thread, after the writer's lock.
    async fn read_on_blocking_thread(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.run(move |db| {
            db.connection
                .query_row(
                    "SELECT record FROM auth_sessions WHERE key = ?1",
                    [key],
                    |row| row.get::<_, String>(0),
                )
                .optional()
        })
        .await
    }

    /// `work` on a blocking thread, after the connection's lock (the caller bounds the time).
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Db) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let mut db = Arc::clone(&self.db).lock_owned().await;
        tokio::task::spawn_blocking(move || work(&mut db))
            .await
            .map_err(|error| StoreError::Failed(error.to_string()))?
            .map_err(|error| StoreError::Failed(error.to_string()))
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn load(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let text = match self.read_here(key) {
            Some(text) => text,
            None => self.read_on_blocking_thread(key).await?,
        };
        // A row this code did not write is no session.
        Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
    }

    async fn save(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        let key = key.to_owned();
        let record = record.clone();
        let text = serde_json::to_string(&record).map_err(|e| StoreError::Failed(e.to_string()))?;
        self.run(move |db| {
            if db.swept_at.elapsed() >= SWEEP_INTERVAL {
                db.sweep()?;
            }
            db.connection
                .execute(
                    "INSERT OR REPLACE INTO auth_sessions \
                     (key, owner, provider_session, until, record) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        key,
                        record.owner,
                        record.provider_session,
                        record.until,
                        text
                    ],
                )
                .map(drop)
        })
        .await
    }

    async fn update(&self, key: &str, record: &Record) -> Result<bool, StoreError> {
        let key = key.to_owned();
        let record = record.clone();
        let text = serde_json::to_string(&record).map_err(|e| StoreError::Failed(e.to_string()))?;
        self.run(move |db| {
            db.connection
                .execute(
                    "UPDATE auth_sessions SET until = ?2, record = ?3 WHERE key = ?1",
                    params![key, record.until, text],
                )
                .map(|updated| updated == 1)
        })
        .await
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |db| {
            db.connection
                .execute("DELETE FROM auth_sessions WHERE key = ?1", [key])
                .map(drop)
        })
        .await
    }

    async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError> {
        let id = id.to_owned();
        let sql = match group {
            Group::Owner => "DELETE FROM auth_sessions WHERE owner = ?1",
            Group::ProviderSession => "DELETE FROM auth_sessions WHERE provider_session = ?1",
        };
        self.run(move |db| db.connection.execute(sql, [id]).map(|count| count as u64))
            .await
    }

    async fn list_group(
        &self,
        group: Group,
        id: &str,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        let id = id.to_owned();
        // Through the same indexes as remove_group; ended rows wait for the sweep, so `until`
        // keeps them out.
        let sql = match group {
            Group::Owner => "SELECT key, record FROM auth_sessions WHERE owner = ?1 AND until > ?2",
            Group::ProviderSession => {
                "SELECT key, record FROM auth_sessions WHERE provider_session = ?1 AND until > ?2"
            }
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let rows = self
            .run(move |db| {
                db.connection
                    .prepare_cached(sql)?
                    .query_map(params![id, now], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        // A row this code did not write is no session.
        Ok(rows
            .into_iter()
            .filter_map(|(key, text)| Some((key, serde_json::from_str(&text).ok()?)))
            .collect())
    }

    async fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.run(move |db| {
            let now_ms = now_ms();
            db.connection.execute(
                "DELETE FROM auth_locks WHERE name = ?1 AND until_ms <= ?2",
                params![name, now_ms],
            )?;
            db.connection
                .execute(
                    "INSERT OR IGNORE INTO auth_locks (name, holder, until_ms) VALUES (?1, ?2, ?3)",
                    params![name, holder, now_ms.saturating_add(ttl_ms)],
                )
                .map(|inserted| inserted == 1)
        })
        .await
    }

    async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.run(move |db| {
            db.connection
                .execute(
                    "DELETE FROM auth_locks WHERE name = ?1 AND holder = ?2",
                    [name, holder],
                )
                .map(drop)
        })
        .await
    }
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

impl Db {
    fn sweep(&mut self) -> rusqlite::Result<()> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.connection
            .execute("DELETE FROM auth_sessions WHERE until <= ?1", [now])?;
        self.connection
            .execute("DELETE FROM auth_locks WHERE until_ms <= ?1", [now_ms()])?;
        self.swept_at = Instant::now();
        Ok(())
    }
}
