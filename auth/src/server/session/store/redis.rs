//! The shared store for several app servers: Redis. One server (`redis://`, or `rediss://`
//! with TLS, optionally with an authority and a client certificate of the URL's own) through
//! the `redis` crate's connection manager, which reconnects by itself; or the master that a
//! set of Sentinels names (`redis+sentinel://`), looked up again after a failover. Keys expire
//! by Redis's own TTL.
use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use redis::{
    AsyncCommands, Cmd, ErrorKind, RedisFuture, ServerErrorKind, Value,
    aio::{ConnectionLike, ConnectionManager, MultiplexedConnection},
    sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType},
};
use tokio::sync::OnceCell;

use async_trait::async_trait;

use super::{Group, Record, SessionStore, StoreError};

/// Every key this crate writes starts so, to share a Redis database with the app.
const PREFIX: &str = "leptos-auth:";

/// Sentinel's own port, when a Sentinel URL's host names none.
const SENTINEL_PORT: u16 = 26379;

/// Sessions in Redis: `leptos-auth:session:KEY` holds a record until it ends;
/// `leptos-auth:owner:OWNER` the keys of one person's sessions, for "log out everywhere".
pub struct RedisStore {
    target: Target,
    timeout: Duration,
}

/// Where the commands go.
// One per store, made once and never moved: the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Target {
    /// One server at a fixed address: the connection manager reconnects to it by itself.
    Direct {
        client: redis::Client,
        connection: OnceCell<ConnectionManager>,
    },
    /// Whichever server the Sentinels name master.
    Sentinel(Arc<SentinelTarget>),
}

impl RedisStore {
    /// Checks the URL and reads the certificate files it names (a missing or malformed one is
    /// an error naming its setting and path); connects on first use.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let (url, own) = own_settings(url)?;
        let target = match sentinel_url(&url)? {
            Some(sentinel) => {
                let certificates = own.certificates(sentinel.tls)?;
                Target::Sentinel(Arc::new(SentinelTarget::new(
                    &sentinel,
                    &own,
                    certificates,
                    timeout,
                )?))
            }
            None => {
                let certificates = own.certificates(url.starts_with("rediss://"))?;
                if own.sentinel_username.is_some() || own.sentinel_password.is_some() {
                    return Err(
                        "sentinel_username and sentinel_password are for a Sentinel URL \
                         (redis+sentinel://…)"
                            .to_owned(),
                    );
                }
                // The error may quote the URL, with its password: say only what kind it is.
                let client = match certificates {
                    Some(certificates) => redis::Client::build_with_tls(url.as_str(), certificates),
                    None => redis::Client::open(url.as_str()),
                }
                .map_err(|error| format!("not a usable Redis URL ({:?})", error.kind()))?;
                Target::Direct {
                    client,
                    connection: OnceCell::new(),
                }
            }
        };
        Ok(Self { target, timeout })
    }

    async fn connection(&self) -> Result<Connection, StoreError> {
        match &self.target {
            Target::Direct { client, connection } => {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(2);
                connection
                    .get_or_try_init(|| async {
                        ConnectionManager::new_lazy_with_config(client.clone(), config)
                    })
                    .await
                    .cloned()
                    .map(Connection::Direct)
                    .map_err(failed)
            }
            Target::Sentinel(target) => target.connection().await,
        }
    }
}

/// The master named by Sentinels, and one multiplexed connection to it while it answers.
///
/// Not the connection manager: it reconnects to the address it was given, which after a
/// failover is a replica (refusing writes, `READONLY`) or nothing at all. Here a call that
/// fails in a way a failover explains (the connection dropped, timed out or was refused, the
/// server says `READONLY` or `MASTERDOWN`), or that is given up half-way (the store's timeout
/// drops it), forgets the connection, and the next call asks the Sentinels again: from the
/// first failure on, the outage rule (`guarded.rs`) holds calls back and its probe is the
/// call that finds the new master.
struct SentinelTarget {
    /// Asks the Sentinels (and checks that the server they name calls itself master); one
    /// lookup at a time, so that a burst of calls after a failover makes one connection.
    sentinels: tokio::sync::Mutex<SentinelClient>,
    current: std::sync::Mutex<Option<(u64, MultiplexedConnection)>>,
    /// Tells one connection from the next, so that a late failure of an old one does not
    /// forget its successor.
    generations: AtomicU64,
    config: redis::AsyncConnectionConfig,
}

impl SentinelTarget {
    fn new(
        url: &SentinelUrl,
        own: &OwnSettings,
        certificates: Option<redis::TlsCertificates>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let sentinels = url.sentinels.iter().map(|(host, port)| {
            if url.tls {
                redis::ConnectionAddr::TcpTls {
                    host: host.clone(),
                    port: *port,
                    insecure: false,
                    tls_params: None,
                }
            } else {
                redis::ConnectionAddr::Tcp(host.clone(), *port)
            }
        });
        // The builder's errors name a setting, never a value.
        let refused = |error: redis::RedisError| format!("not a usable Sentinel URL ({error})");
        let mut builder =
            SentinelClientBuilder::new(sentinels, &url.service, SentinelServerType::Master)
                .map_err(refused)?
                .set_client_to_redis_db(url.db);
        if let Some(username) = &url.username {
            builder = builder.set_client_to_redis_username(username);
        }
        if let Some(password) = &url.password {
            builder = builder.set_client_to_redis_password(password);
        }
        if let Some(username) = &own.sentinel_username {
            builder = builder.set_client_to_sentinel_username(username);
        }
        if let Some(password) = &own.sentinel_password {
            builder = builder.set_client_to_sentinel_password(password);
        }
        if url.tls {
            builder = builder
                .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
                .set_client_to_sentinel_tls_mode(redis::TlsMode::Secure);
            // Sentinels and data servers of one deployment share an authority (and a client
            // certificate, where they ask for one).
            if let Some(certificates) = certificates {
                builder = builder
                    .set_client_to_redis_certificates(certificates.clone())
                    .set_client_to_sentinel_certificates(certificates);
            }
        }
        Ok(Self {
            sentinels: tokio::sync::Mutex::new(builder.build().map_err(refused)?),
            current: std::sync::Mutex::new(None),
            generations: AtomicU64::new(0),
            config: redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout)),
        })
    }

    fn current(self: &Arc<Self>) -> Option<Connection> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .map(|(generation, connection)| Connection::Sentinel {
                connection: connection.clone(),
                target: self.clone(),
                generation: *generation,
            })
    }

    async fn connection(self: &Arc<Self>) -> Result<Connection, StoreError> {
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let mut sentinels = self.sentinels.lock().await;
        // Another call may have found the master while this one waited for the lock.
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let master = sentinels.async_get_client().await.map_err(failed)?;
        let connection = master
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
            .map_err(failed)?;
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((generation, connection));
        drop(sentinels);
        self.current()
            .ok_or_else(|| StoreError::Failed("the master's connection was dropped".to_owned()))
    }

    /// Forgets connection `generation` (not a newer one), so the next call asks the Sentinels.
    fn forget(&self, generation: u64) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current
            .as_ref()
            .is_some_and(|(held, _)| *held == generation)
        {
            *current = None;
        }
    }
}

/// A connection as the store's calls use it.
enum Connection {
    Direct(ConnectionManager),
    Sentinel {
        connection: MultiplexedConnection,
        target: Arc<SentinelTarget>,
        generation: u64,
    },
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Direct(connection) => connection.req_packed_command(cmd),
            Self::Sentinel {
                connection,
                target,
                generation,
            } => Box::pin(async move {
                let mut watch = Watch::new(target, *generation);
                let result = connection.req_packed_command(cmd).await;
                watch.settled(&result);
                result
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Direct(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Sentinel {
                connection,
                target,
                generation,
            } => Box::pin(async move {
                let mut watch = Watch::new(target, *generation);
                let result = connection
                    .req_packed_commands(pipeline, offset, count)
                    .await;
                watch.settled(&result);
                result
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Direct(connection) => connection.get_db(),
            Self::Sentinel { connection, .. } => connection.get_db(),
        }
    }
}

/// Forgets the master's connection when dropped before a call on it settled well: a call the
/// store's timeout gave up on (a hung master) counts as failed.
struct Watch<'a> {
    target: &'a SentinelTarget,
    generation: u64,
    answered: bool,
}

impl<'a> Watch<'a> {
    fn new(target: &'a SentinelTarget, generation: u64) -> Self {
        Self {
            target,
            generation,
            answered: false,
        }
    }

    /// An answer, or an error of the command's own (not the master's), keeps the connection.
    fn settled<T>(&mut self, result: &redis::RedisResult<T>) {
        self.answered = match result {
            Ok(_) => true,
            Err(error) => match error.kind() {
                ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown) => false,
                ErrorKind::Server(_) | ErrorKind::Extension => true,
                _ => false,
            },
        };
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.target.forget(self.generation);
        }
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

/// The settings of a Redis URL's query that are this crate's, not the redis crate's.
#[derive(Debug, Default, PartialEq)]
struct OwnSettings {
    /// `sslrootcert`: the authorities to trust instead of the Web PKI's (as the Postgres
    /// store's setting of that name).
    root_certificates: Option<PathBuf>,
    /// `sslcert`: the client certificate (chain) shown to a server that asks for one.
    certificate: Option<PathBuf>,
    /// `sslkey`: its private key.
    key: Option<PathBuf>,
    /// `sentinel_username`, `sentinel_password`: the Sentinels' own credentials, where they
    /// ask for any (the URL's user and password are the data servers').
    sentinel_username: Option<String>,
    sentinel_password: Option<String>,
}

/// `url` without this crate's settings, and those settings.
fn own_settings(url: &str) -> Result<(String, OwnSettings), String> {
    let (url, fragment) = match url.split_once('#') {
        Some((url, fragment)) => (url, Some(fragment)),
        None => (url, None),
    };
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut own = OwnSettings::default();
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = url::form_urlencoded::parse(pair.as_bytes())
            .next()
            .unwrap_or_default();
        let slot = match &*key {
            "sslrootcert" => &mut own.root_certificates,
            "sslcert" => &mut own.certificate,
            "sslkey" => &mut own.key,
            "sentinel_username" => {
                own.sentinel_username = Some(value.into_owned());
                continue;
            }
            "sentinel_password" => {
                own.sentinel_password = Some(value.into_owned());
                continue;
            }
            _ => {
                rest.push(pair);
                continue;
            }
        };
        if value.is_empty() {
            return Err(format!("the URL's {key} names no file"));
        }
        *slot = Some(PathBuf::from(&*value));
    }
    let mut url = base.to_owned();
    if !rest.is_empty() {
        url = format!("{url}?{}", rest.join("&"));
    }
    if let Some(fragment) = fragment {
        url = format!("{url}#{fragment}");
    }
    Ok((url, own))
}

impl OwnSettings {
    /// The certificate files read and checked now, so that a missing or malformed one stops
    /// the server at start-up, named, rather than failing every connection later.
    fn certificates(&self, tls: bool) -> Result<Option<redis::TlsCertificates>, String> {
        if self.root_certificates.is_none() && self.certificate.is_none() && self.key.is_none() {
            return Ok(None);
        }
        if !tls {
            return Err(
                "sslrootcert, sslcert and sslkey are for TLS: write rediss:// \
                 (or rediss+sentinel://)"
                    .to_owned(),
            );
        }
        let root_cert = match &self.root_certificates {
            Some(path) => Some(certificate_file("sslrootcert", path)?),
            None => None,
        };
        let client_tls = match (&self.certificate, &self.key) {
            (Some(certificate), Some(key)) => Some(redis::ClientTlsConfig {
                client_cert: certificate_file("sslcert", certificate)?,
                client_key: key_file(key)?,
            }),
            (None, None) => None,
            _ => {
                return Err(
                    "sslcert and sslkey go together: the client certificate and its private key"
                        .to_owned(),
                );
            }
        };
        Ok(Some(redis::TlsCertificates {
            client_tls,
            root_cert,
        }))
    }
}

/// The PEM file at `path`, holding at least one certificate.
fn certificate_file(setting: &str, path: &Path) -> Result<Vec<u8>, String> {
    use rustls_pki_types::{CertificateDer, pem::PemObject};
    let unusable = |problem: &dyn std::fmt::Display| {
        format!("the URL's {setting} {}: {problem}", path.display())
    };
    let bytes = std::fs::read(path).map_err(|error| unusable(&error))?;
    let mut found = 0;
    for certificate in CertificateDer::pem_slice_iter(&bytes) {
        certificate.map_err(|error| unusable(&format!("not a PEM certificate file ({error})")))?;
        found += 1;
    }
    if found == 0 {
        return Err(unusable(
            &"holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(bytes)
}

/// The PEM private key at `path` (PKCS#8, PKCS#1 or SEC1). Its parser's errors are not passed
/// on: they may quote a line of the file.
fn key_file(path: &Path) -> Result<Vec<u8>, String> {
    use rustls_pki_types::{PrivateKeyDer, pem::PemObject};
    let bytes = std::fs::read(path)
        .map_err(|error| format!("the URL's sslkey {}: {error}", path.display()))?;
    if PrivateKeyDer::from_pem_slice(&bytes).is_err() {
        return Err(format!(
            "the URL's sslkey {}: holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
            path.display()
        ));
    }
    Ok(bytes)
}

/// A Sentinel URL read apart:
/// `redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]…]/SERVICE[/DB]`, or
/// `rediss+sentinel://…` for TLS to the Sentinels and the data servers.
#[derive(Debug, PartialEq)]
struct SentinelUrl {
    tls: bool,
    username: Option<String>,
    password: Option<String>,
    sentinels: Vec<(String, u16)>,
    service: String,
    db: i64,
}

/// `None` for a URL of another scheme. Errors name what is wrong, never the password.
fn sentinel_url(url: &str) -> Result<Option<SentinelUrl>, String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("redis+sentinel://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("rediss+sentinel://") {
        (true, rest)
    } else {
        return Ok(None);
    };
    const FORM: &str = "write redis+sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT…]/SERVICE[/DB]";
    if rest.contains(['?', '#']) {
        return Err(format!(
            "a Sentinel URL's query takes sslrootcert, sslcert, sslkey, sentinel_username and \
             sentinel_password only ({FORM})"
        ));
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let decoded = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| "the Sentinel URL's user or password is not UTF-8 once decoded".to_owned())
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(userinfo) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            let user = Some(decoded(user)?).filter(|user| !user.is_empty());
            let password = password.map(decoded).transpose()?;
            (user, password)
        }
    };
    let mut sentinels = Vec::new();
    for host in hosts.split(',') {
        let (name, port) = match host.strip_prefix('[') {
            // [IPv6]:PORT
            Some(bracketed) => match bracketed.split_once(']') {
                Some((name, "")) => (name, None),
                Some((name, port)) => (name, Some(port.strip_prefix(':').unwrap_or("?"))),
                None => ("", None),
            },
            None => match host.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (host, None),
            },
        };
        if name.is_empty() {
            return Err(format!("a Sentinel URL names its Sentinels: {FORM}"));
        }
        let port = match port {
            None => SENTINEL_PORT,
            Some(port) => port
                .parse()
                .map_err(|_| format!("a Sentinel's port is not a number: {FORM}"))?,
        };
        sentinels.push((name.to_owned(), port));
    }
    let mut path = path.split('/');
    let service = path.next().unwrap_or_default();
    if service.is_empty() {
        return Err(format!(
            "a Sentinel URL names the service (the master's name in sentinel.conf): {FORM}"
        ));
    }
    let db = match path.next() {
        None | Some("") => 0,
        Some(db) => db
            .parse()
            .map_err(|_| format!("a Sentinel URL's database is a number: {FORM}"))?,
    };
    if path.next().is_some_and(|extra| !extra.is_empty()) {
        return Err(format!("a Sentinel URL's path is /SERVICE[/DB]: {FORM}"));
    }
    Ok(Some(SentinelUrl {
        tls,
        username,
        password,
        sentinels,
        service: decoded(service)?,
        db,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_s_own_settings_are_taken_out_and_the_rest_goes_to_the_redis_crate() {
        let (url, own) = own_settings(
            "rediss://:p%40ss@cache:6380/2?sslrootcert=/etc/ca.pem&protocol=resp3\
             &sslcert=/etc/c.pem&sslkey=/etc/c.key#insecure",
        )
        .expect("valid");
        assert_eq!(url, "rediss://:p%40ss@cache:6380/2?protocol=resp3#insecure");
        assert_eq!(own.root_certificates, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(own.certificate, Some(PathBuf::from("/etc/c.pem")));
        assert_eq!(own.key, Some(PathBuf::from("/etc/c.key")));
        let (url, own) = own_settings("redis://cache/0").expect("valid");
        assert_eq!(
            (url.as_str(), own),
            ("redis://cache/0", OwnSettings::default())
        );
    }

    #[test]
    fn a_sentinel_url_names_its_sentinels_service_and_database() {
        let url = sentinel_url("redis+sentinel://:p%40ss@s1:26380,[::1],s3/mymaster/3")
            .expect("valid")
            .expect("a Sentinel URL");
        assert_eq!(
            url,
            SentinelUrl {
                tls: false,
                username: None,
                password: Some("p@ss".to_owned()),
                sentinels: vec![
                    ("s1".to_owned(), 26380),
                    ("::1".to_owned(), SENTINEL_PORT),
                    ("s3".to_owned(), SENTINEL_PORT)
                ],
                service: "mymaster".to_owned(),
                db: 3,
            }
        );
        let url = sentinel_url("rediss+sentinel://app:pw@s1:1/m")
            .expect("valid")
            .expect("a Sentinel URL");
        assert!(url.tls);
        assert_eq!(url.username.as_deref(), Some("app"));
        assert_eq!(url.db, 0);
        assert_eq!(sentinel_url("redis://s1/0"), Ok(None));
    }

    #[test]
    fn a_wrong_sentinel_url_says_what_is_wrong_and_not_the_password() {
        for (url, said) in [
            ("redis+sentinel://:hunter2@s1:26379", "names the service"),
            ("redis+sentinel://:hunter2@s1:26379/", "names the service"),
            ("redis+sentinel://:hunter2@/m", "names its Sentinels"),
            ("redis+sentinel://:hunter2@s1,/m", "names its Sentinels"),
            ("redis+sentinel://:hunter2@s1:x/m", "port"),
            ("redis+sentinel://:hunter2@s1/m/x", "database"),
            ("redis+sentinel://:hunter2@s1/m/1/2", "/SERVICE[/DB]"),
        ] {
            let error = sentinel_url(url).expect_err(url);
            assert!(error.contains(said), "{url}: {error}");
            assert!(!error.contains("hunter2"), "{url}: {error}");
        }
        let Err(error) = RedisStore::new(
            "redis+sentinel://:hunter2@s1/m?protocol=resp3",
            Duration::from_secs(1),
        ) else {
            panic!("accepted")
        };
        assert!(error.contains("query"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn certificate_settings_are_checked_at_start_up_naming_setting_and_file() {
        let dir =
            std::env::temp_dir().join(format!("leptos-auth-redis-certs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").expect("written");
        let new = |url: &str| match RedisStore::new(url, Duration::from_secs(1)) {
            Ok(_) => panic!("{url} accepted"),
            Err(error) => error,
        };
        let missing = new("rediss://:hunter2@cache/0?sslrootcert=/nonexistent/ca.pem");
        assert!(
            missing.contains("sslrootcert /nonexistent/ca.pem"),
            "{missing}"
        );
        assert!(!missing.contains("hunter2"), "{missing}");
        let malformed = new(&format!(
            "rediss://cache/0?sslrootcert={}",
            garbage.display()
        ));
        assert!(
            malformed.contains(&format!("sslrootcert {}", garbage.display()))
                && malformed.contains("no PEM certificate"),
            "{malformed}"
        );
        let key = new(&format!(
            "rediss://cache/0?sslcert=/nonexistent/c.pem&sslkey={}",
            garbage.display()
        ));
        assert!(key.contains("sslcert /nonexistent/c.pem"), "{key}");
        let alone = new("rediss://cache/0?sslcert=/etc/c.pem");
        assert!(alone.contains("go together"), "{alone}");
        let plain = new("redis://cache/0?sslrootcert=/etc/ca.pem");
        assert!(plain.contains("rediss://"), "{plain}");
        let empty = new("rediss://cache/0?sslrootcert=");
        assert!(empty.contains("sslrootcert names no file"), "{empty}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
