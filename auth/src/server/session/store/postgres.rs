//! The shared store for apps that already run Postgres: tokio-postgres through deadpool's pool
//! and its cache of prepared statements. The tables live in a schema of their own
//! (`leptos_login`, or the URL's `schema`), made on first use and upgraded in place from the
//! version `meta` holds; ended sessions are swept by one server at a time.
use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio::sync::OnceCell;
use tokio_postgres::types::ToSql;

use super::{Group, Record, SessionStore, StoreError};

/// The tables' schema unless the URL's `schema` names another.
pub const DEFAULT_SCHEMA: &str = "leptos_login";
/// Connections per server: enough for a burst of requests, a small share of Postgres's
/// default `max_connections` (100) even with several servers.
const POOL_SIZE: usize = 16;
/// How long sent data may go unacknowledged before a connection counts as dead.
const DEAD_PEER: Duration = Duration::from_secs(10);
/// Ended sessions are deleted about this often, by whichever server comes first.
const SWEEP_INTERVAL_SECS: i64 = 600;
/// A sweep no request waits for, bounded all the same so that it cannot hold a connection
/// through an outage.
const SWEEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Each step brings the tables one version up; `meta`'s `schema_version` says how many have
/// run. A later release appends steps and never edits one, so every server upgrades in place.
/// `{s}` is the schema.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE IF NOT EXISTS {s}.sessions (
        key text PRIMARY KEY,
        owner text NOT NULL,
        provider_session text,
        until bigint NOT NULL,
        record text NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sessions_owner ON {s}.sessions (owner);
    CREATE INDEX IF NOT EXISTS sessions_provider_session ON {s}.sessions (provider_session)
        WHERE provider_session IS NOT NULL;
    CREATE INDEX IF NOT EXISTS sessions_until ON {s}.sessions (until);
    CREATE TABLE IF NOT EXISTS {s}.locks (
        name text PRIMARY KEY,
        holder text NOT NULL,
        until timestamptz NOT NULL
    );
    INSERT INTO {s}.meta (name, value) VALUES ('swept_at', 0) ON CONFLICT (name) DO NOTHING;
"];

/// Sessions in Postgres: `sessions` holds each record (JSON, its secrets sealed) under its
/// key, `locks` the locks with their expiry, `meta` the schema version and the last sweep.
pub struct PostgresStore {
    pool: Pool,
    schema: String,
    sql: Arc<Sql>,
    /// The tables are there (made or upgraded by this server or another).
    ready: OnceCell<()>,
    /// Unix seconds: when this server last started a sweep.
    swept_at: AtomicI64,
}

impl PostgresStore {
    /// Reads the URL and makes the pool; connects (and makes the tables) on first use.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let Settings {
            mut config,
            schema,
            root_certificates,
        } = settings(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        // A server gone without a word (a failover, a host lost) leaves pooled connections
        // that look open: sent data nobody acknowledges closes them after this, and the pool
        // makes new ones. A hung but living server still acknowledges, and is waited out.
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(DEAD_PEER);
        }
        if config.get_application_name().is_none() {
            config.application_name("leptos-login");
        }
        let manager = Manager::from_config(
            config,
            tls(root_certificates)?,
            ManagerConfig {
                // A closed connection is replaced; an open one is trusted without a query of
                // its own, which would cost every request a round trip.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // No wait for a connection, its making or its recycling is longer than a call may
        // take: a store that does not answer fails the call instead of holding the pool.
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            // The connection given back last goes out first: a lookup meets a server process
            // that is awake (round robin wakes each in turn, slower on a quiet server), and
            // the connections a burst opened fall idle together.
            .queue_mode(deadpool_postgres::QueueMode::Lifo)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(|error| error.to_string())?;
        Ok(Self {
            pool,
            sql: Arc::new(Sql::new(&quoted(&schema))),
            schema,
            ready: OnceCell::new(),
            swept_at: AtomicI64::new(0),
        })
    }

    /// A connection, once the tables are there; starts a sweep when one is due.
    async fn client(&self) -> Result<Object, StoreError> {
        let mut client = self.pool.get().await.map_err(failed)?;
        self.ready
            .get_or_try_init(|| migrate(&mut client, &self.schema))
            .await?;
        self.sweep_if_due();
        Ok(client)
    }

    /// `sql` with `params` on a connection of the pool: the rows it returned.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(failed)?;
        client.query(&statement, params).await.map_err(failed)
    }

    /// `sql` with `params`: how many rows it changed.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(failed)?;
        client.execute(&statement, params).await.map_err(failed)
    }

    /// Starts a sweep in the background when this server has not tried one for an interval.
    fn sweep_if_due(&self) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let last = self.swept_at.load(Ordering::Relaxed);
        if now - last < SWEEP_INTERVAL_SECS
            || self
                .swept_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (pool, sql, key) = (
            self.pool.clone(),
            Arc::clone(&self.sql),
            lock_key("sweep", &self.schema),
        );
        runtime.spawn(async move {
            let swept = tokio::time::timeout(SWEEP_TIMEOUT, sweep(&pool, &sql, key)).await;
            match swept {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::debug!("ended sessions not swept: {error}"),
                Err(_) => tracing::debug!("ended sessions not swept in time"),
            }
        });
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn load(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let rows = self.query(&self.sql.load, &[&key]).await?;
        // A row this code did not write is no session.
        Ok(rows
            .first()
            .and_then(|row| row.try_get::<_, String>(0).ok())
            .and_then(|text| serde_json::from_str(&text).ok()))
    }

    async fn save(&self, key: &str, record: &Record) -> Result<(), StoreError> {
        let text = serde_json::to_string(record).map_err(failed)?;
        self.execute(
            &self.sql.save,
            &[
                &key,
                &record.owner,
                &record.provider_session,
                &record.until,
                &text,
            ],
        )
        .await
        .map(drop)
    }

    async fn update(&self, key: &str, record: &Record) -> Result<bool, StoreError> {
        let text = serde_json::to_string(record).map_err(failed)?;
        let updated = self
            .execute(
                &self.sql.update,
                &[
                    &key,
                    &record.owner,
                    &record.provider_session,
                    &record.until,
                    &text,
                ],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.execute(&self.sql.remove, &[&key]).await.map(drop)
    }

    async fn remove_group(&self, group: Group, id: &str) -> Result<u64, StoreError> {
        let sql = match group {
            Group::Owner => &self.sql.remove_owner,
            Group::ProviderSession => &self.sql.remove_provider_session,
        };
        self.execute(sql, &[&id]).await
    }

    async fn list_group(
        &self,
        group: Group,
        id: &str,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        let sql = match group {
            Group::Owner => &self.sql.list_owner,
            Group::ProviderSession => &self.sql.list_provider_session,
        };
        let rows = self.query(sql, &[&id]).await?;
        // A row this code did not write is no session.
        Ok(rows
            .iter()
            .filter_map(|row| {
                let key = row.try_get::<_, String>(0).ok()?;
                let text = row.try_get::<_, String>(1).ok()?;
                Some((key, serde_json::from_str(&text).ok()?))
            })
            .collect())
    }

    /// Taken when there is no row for `name`, or its time is over: one statement, so two
    /// servers asking at once cannot both get it.
    async fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let rows = self
            .query(&self.sql.try_lock, &[&name, &holder, &ttl_ms])
            .await?;
        Ok(!rows.is_empty())
    }

    async fn unlock(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.execute(&self.sql.unlock, &[&name, &holder])
            .await
            .map(drop)
    }
}

/// The statements, with the schema written in (prepared once per connection).
struct Sql {
    load: String,
    save: String,
    update: String,
    remove: String,
    remove_owner: String,
    remove_provider_session: String,
    list_owner: String,
    list_provider_session: String,
    try_lock: String,
    unlock: String,
    claim_sweep: String,
    sweep_sessions: String,
    sweep_locks: String,
}

impl Sql {
    fn new(s: &str) -> Self {
        Self {
            load: format!("SELECT record FROM {s}.sessions WHERE key = $1"),
            save: format!(
                "INSERT INTO {s}.sessions (key, owner, provider_session, until, record) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET \
                 owner = excluded.owner, provider_session = excluded.provider_session, \
                 until = excluded.until, record = excluded.record"
            ),
            update: format!(
                "UPDATE {s}.sessions SET owner = $2, provider_session = $3, until = $4, \
                 record = $5 WHERE key = $1"
            ),
            remove: format!("DELETE FROM {s}.sessions WHERE key = $1"),
            remove_owner: format!("DELETE FROM {s}.sessions WHERE owner = $1"),
            remove_provider_session: format!(
                "DELETE FROM {s}.sessions WHERE provider_session = $1"
            ),
            // Ended rows wait for the sweep: the database's clock (as the sweep's) keeps them
            // out of the list.
            list_owner: format!(
                "SELECT key, record FROM {s}.sessions WHERE owner = $1 \
                 AND until > extract(epoch FROM now())::bigint"
            ),
            list_provider_session: format!(
                "SELECT key, record FROM {s}.sessions WHERE provider_session = $1 \
                 AND until > extract(epoch FROM now())::bigint"
            ),
            // The database's clock, the same for every server.
            try_lock: format!(
                "INSERT INTO {s}.locks (name, holder, until) \
                 VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond') \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 until = excluded.until WHERE {s}.locks.until <= now() RETURNING 1"
            ),
            unlock: format!("DELETE FROM {s}.locks WHERE name = $1 AND holder = $2"),
            claim_sweep: format!(
                "UPDATE {s}.meta SET value = extract(epoch FROM now())::bigint \
                 WHERE name = 'swept_at' AND value <= extract(epoch FROM now())::bigint - $1"
            ),
            sweep_sessions: format!(
                "DELETE FROM {s}.sessions WHERE until <= extract(epoch FROM now())::bigint"
            ),
            sweep_locks: format!("DELETE FROM {s}.locks WHERE until <= now()"),
        }
    }
}

/// Makes the schema and tables, or brings them up to this version, under an advisory lock so
/// that servers starting together take turns (and the later ones find the work done).
async fn migrate(client: &mut Object, schema: &str) -> Result<(), StoreError> {
    let s = quoted(schema);
    let transaction = client.transaction().await.map_err(failed)?;
    transaction
        .execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&lock_key("migrate", schema)],
        )
        .await
        .map_err(failed)?;
    // Asked first: a role without CREATE on the database can use a schema made for it.
    let exists = transaction
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await
        .map_err(failed)?
        .is_some();
    if !exists {
        transaction
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
            .await
            .map_err(failed)?;
    }
    // Likewise: once the tables are there, the role needs no CREATE on the schema.
    let has_meta: bool = transaction
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&format!("{s}.meta")],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(failed)?;
    if !has_meta {
        transaction
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {s}.meta (name text PRIMARY KEY, value bigint NOT NULL)"
            ))
            .await
            .map_err(failed)?;
    }
    let version = transaction
        .query_opt(
            &format!("SELECT value FROM {s}.meta WHERE name = 'schema_version'"),
            &[],
        )
        .await
        .map_err(failed)?
        .map(|row| row.try_get::<_, i64>(0))
        .transpose()
        .map_err(failed)?
        .unwrap_or(0);
    let done = usize::try_from(version).unwrap_or(usize::MAX);
    let Some(steps) = MIGRATIONS.get(done..) else {
        return Err(StoreError::Failed(format!(
            "the tables in schema {schema} are of a newer leptos-login (schema version \
             {version}; this one knows up to {}): upgrade this server",
            MIGRATIONS.len()
        )));
    };
    for step in steps {
        transaction
            .batch_execute(&step.replace("{s}", &s))
            .await
            .map_err(failed)?;
    }
    if !steps.is_empty() {
        let current = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        transaction
            .execute(
                &format!(
                    "INSERT INTO {s}.meta (name, value) VALUES ('schema_version', $1) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value"
                ),
                &[&current],
            )
            .await
            .map_err(failed)?;
    }
    transaction.commit().await.map_err(failed)
}

/// Deletes what has ended, unless another server is sweeping (the advisory lock) or swept
/// within the interval (`meta`'s `swept_at`): one sweep an interval, whatever the replicas.
async fn sweep(pool: &Pool, sql: &Sql, key: i64) -> Result<(), StoreError> {
    let mut client = pool.get().await.map_err(failed)?;
    let transaction = client.transaction().await.map_err(failed)?;
    // A transaction's lock, not a session's: it cannot outlive the sweep on a pooled
    // connection.
    let ours: bool = transaction
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&key])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(failed)?;
    if !ours {
        return Ok(());
    }
    let claim = transaction
        .prepare_cached(&sql.claim_sweep)
        .await
        .map_err(failed)?;
    if transaction
        .execute(&claim, &[&SWEEP_INTERVAL_SECS])
        .await
        .map_err(failed)?
        == 0
    {
        return Ok(());
    }
    for delete in [&sql.sweep_sessions, &sql.sweep_locks] {
        let statement = transaction.prepare_cached(delete).await.map_err(failed)?;
        transaction.execute(&statement, &[]).await.map_err(failed)?;
    }
    transaction.commit().await.map_err(failed)
}

/// An advisory lock's key of its own for `purpose` on `schema`: servers on one schema share
/// it, and another schema's (another app's) is another key.
fn lock_key(purpose: &str, schema: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("leptos-login:{purpose}:{schema}"));
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

fn quoted(schema: &str) -> String {
    format!("\"{schema}\"")
}

/// What the URL says, read apart: tokio-postgres's settings, and those of this crate's own.
struct Settings {
    config: tokio_postgres::Config,
    schema: String,
    /// The certificate authorities to trust instead of Mozilla's (`sslrootcert`).
    root_certificates: Option<PathBuf>,
}

/// Reads `url` as libpq would (`postgres://` or `postgresql://`), except for what this crate
/// takes out before tokio-postgres reads the rest: `schema`, `sslrootcert`, and libpq's
/// `sslmode=verify-ca` and `verify-full`, which tokio-postgres does not know and which are
/// `require` here (a certificate is always checked against the roots and the host name).
fn settings(url: &str) -> Result<Settings, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut schema = DEFAULT_SCHEMA.to_owned();
    let mut root_certificates = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        // The raw pair goes on as written (tokio-postgres decodes it its own way).
        let (key, value) = url::form_urlencoded::parse(pair.as_bytes())
            .next()
            .unwrap_or_default();
        match (&*key, &*value) {
            ("schema", name) => schema = checked_schema(name)?,
            ("sslrootcert", path) => root_certificates = Some(PathBuf::from(path)),
            ("sslmode", "verify-ca" | "verify-full") => rest.push("sslmode=require"),
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    // tokio-postgres's errors name the option at fault, never a value.
    let config = url
        .parse::<tokio_postgres::Config>()
        .map_err(|error| format!("not a usable Postgres URL ({})", explained(&error)))?;
    Ok(Settings {
        config,
        schema,
        root_certificates,
    })
}

/// A schema name written into the statements: a plain lowercase SQL name, so it needs no
/// escaping and means the same quoted or not.
fn checked_schema(name: &str) -> Result<String, String> {
    let plain = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with("pg_");
    if plain {
        Ok(name.to_owned())
    } else {
        Err(
            "the URL's schema must be a lowercase SQL name (a-z, 0-9, _; at most 63, not \
             starting with pg_)"
                .to_owned(),
        )
    }
}

/// TLS through rustls (ring), trusting Mozilla's roots, or only the authorities of the
/// `sslrootcert` file; used unless `sslmode=disable`, and a certificate that does not check
/// out fails the connection, whatever the `sslmode`.
fn tls(
    root_certificates: Option<PathBuf>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    match root_certificates {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let unreadable =
                |error: &dyn std::fmt::Display| format!("sslrootcert {}: {error}", path.display());
            for certificate in CertificateDer::pem_file_iter(&path).map_err(|e| unreadable(&e))? {
                roots
                    .add(certificate.map_err(|e| unreadable(&e))?)
                    .map_err(|e| unreadable(&e))?;
            }
            if roots.is_empty() {
                return Err(unreadable(&"no certificate in the file"));
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| error.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Errors say what failed (the server's message, a refused connection, a timeout), never the
/// URL: tokio-postgres and deadpool quote no setting. With their causes, which tokio-postgres
/// keeps out of its own text; one line, as a server's DETAIL may quote a row.
fn failed(error: impl std::error::Error) -> StoreError {
    StoreError::Failed(explained(&error))
}

/// `error` and each of its causes that it does not already say.
fn explained(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let said = error.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = error.source();
    }
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_s_own_settings_are_taken_out_and_the_rest_goes_to_tokio_postgres() {
        let read = settings(
            "postgresql://u:p%40ss@db.internal:6543/app?sslmode=verify-full&schema=auth_2\
             &sslrootcert=/etc/ca.pem&application_name=web",
        )
        .map_err(|error| error.to_string())
        .expect("valid");
        assert_eq!(read.schema, "auth_2");
        assert_eq!(read.root_certificates, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(
            read.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        assert_eq!(read.config.get_password(), Some(&b"p@ss"[..]));
        assert_eq!(read.config.get_dbname(), Some("app"));
        assert_eq!(read.config.get_application_name(), Some("web"));

        let plain = settings("postgres://u@localhost/app").map_err(|e| e.to_string());
        let plain = plain.expect("valid");
        assert_eq!(plain.schema, DEFAULT_SCHEMA);
        assert_eq!(
            plain.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Prefer
        );
    }

    #[test]
    fn a_bad_setting_is_named_and_the_password_is_not() {
        for (url, named) in [
            ("postgres://u:hunter2@db/app?sslmode=sometimes", "sslmode"),
            ("postgres://u:hunter2@db/app?colour=blue", "colour"),
            (
                "postgres://u:hunter2@db/app?schema=Robert'); DROP",
                "schema",
            ),
            ("postgres://u:hunter2@db/app?schema=pg_catalog", "schema"),
        ] {
            let Err(error) = settings(url) else {
                panic!("{url} accepted")
            };
            assert!(error.contains(named), "{url}: {error}");
            assert!(!error.contains("hunter2"), "{url}: {error}");
        }
    }

    #[test]
    fn servers_on_one_schema_share_a_lock_and_other_schemas_do_not() {
        assert_eq!(
            lock_key("sweep", DEFAULT_SCHEMA),
            lock_key("sweep", DEFAULT_SCHEMA)
        );
        assert_ne!(
            lock_key("sweep", DEFAULT_SCHEMA),
            lock_key("sweep", "other")
        );
        assert_ne!(
            lock_key("sweep", DEFAULT_SCHEMA),
            lock_key("migrate", DEFAULT_SCHEMA)
        );
    }

    #[test]
    fn a_missing_root_certificate_file_is_named() {
        let Err(error) = tls(Some(PathBuf::from("/nonexistent/ca.pem"))) else {
            panic!("accepted")
        };
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    }
}
