//! Redis as it runs in production, against Debian's `redis-server` on loopback: TLS only,
//! with an authority and client certificates of the test's own; and a master with a replica
//! behind a Sentinel, hung until the Sentinel fails over.
use std::path::Path;

use super::*;
use crate::server::session::store::redis::RedisStore;

/// Longer than a Sentinel takes to fail over here (down after 1 s, then an election of one).
const FAILOVER: Duration = Duration::from_secs(30);

/// An authority of the test's own (`ca.crt`), a server certificate for 127.0.0.1
/// (`server.crt`, `server.key`) and a client certificate (`client.crt`, `client.key`), made
/// with the `openssl` program in `dir`.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (scripts/setup.sh test installs it)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.crt"],
            &["-subj", "/CN=leptos-login test authority", "-days", "2"],
        ]
        .concat(),
    );
    for (name, usage) in [
        (
            "server",
            "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n",
        ),
        ("client", "extendedKeyUsage = clientAuth\n"),
    ] {
        std::fs::write(
            dir.join(format!("{name}.ext")),
            format!("basicConstraints = CA:FALSE\n{usage}"),
        )
        .expect("the extensions file");
        let (key, csr, crt, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
            format!("{name}.ext"),
        );
        let subject = format!("/CN={name}");
        openssl(
            &[
                &["req"][..],
                &ec,
                &["-keyout", &key, "-out", &csr, "-subj", &subject],
            ]
            .concat(),
        );
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            &ext,
        ]);
    }
}

/// TLS only (`--port 0`: no plaintext port), every client asked for a certificate of the
/// test's authority.
fn tls_server() -> Option<RedisServer> {
    RedisServer::start_with(|port, dir| {
        make_certificates(dir);
        let file = |name: &str| dir.join(name).display().to_string();
        [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &file("server.crt"),
            "--tls-key-file",
            &file("server.key"),
            "--tls-ca-cert-file",
            &file("ca.crt"),
            "--tls-auth-clients",
            "yes",
        ]
        .map(str::to_owned)
        .to_vec()
    })
}

/// What the store's first call says went wrong.
async fn refusal(url: &str) -> String {
    let store = RedisStore::new(url, Duration::from_secs(1)).expect("a valid URL");
    match store.load("anyone").await {
        Ok(found) => panic!("answered: {found:?}"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_with_a_client_certificate_passes_the_suite_and_the_outage_rule() {
    let _beside = TIMING.read().await;
    let Some(redis) = tls_server() else {
        return;
    };
    let (port, dir) = (redis.port, redis.dir.display().to_string());
    let url = format!(
        "rediss://127.0.0.1:{port}/0?sslrootcert={dir}/ca.crt&sslcert={dir}/client.crt\
         &sslkey={dir}/client.key"
    );
    let store = RedisStore::new(&url, Duration::from_secs(1)).expect("certificates read");
    conformance(&store).await;

    // Without a client certificate the server ends the handshake.
    let anonymous = refusal(&format!(
        "rediss://127.0.0.1:{port}/0?sslrootcert={dir}/ca.crt"
    ))
    .await;
    assert!(anonymous.contains("CertificateRequired"), "{anonymous}");
    // Without the authority, the server's certificate is not trusted (Web PKI roots only).
    let unknown = refusal(&format!(
        "rediss://127.0.0.1:{port}/0?sslcert={dir}/client.crt&sslkey={dir}/client.key"
    ))
    .await;
    assert!(unknown.contains("UnknownIssuer"), "{unknown}");

    // The outage rule holds over TLS: hung, signed out in time; back, signed in again.
    let (auth, mut browser) = signed_in_on(&url).await;
    redis.signal("STOP");
    signed_out_in_time_keeping_the_cookie(&auth, &browser).await;
    redis.signal("CONT");
    outage::until_signed_in(&auth, &mut browser).await;
}

/// Waits until `ready` says so, at most `limit`.
async fn until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The session keys `server` holds.
fn sessions_on(server: &RedisServer) -> Vec<String> {
    let mut keys: Vec<String> = server
        .cli(&["--scan", "--pattern", "leptos-auth:session:*"])
        .lines()
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_sentinel_sessions_survive_a_failover_from_a_hung_master() {
    let _beside = TIMING.read().await;
    let Some(master) = RedisServer::start() else {
        return;
    };
    let master_port = master.port.to_string();
    let replica = RedisServer::start_with(|_, _| {
        vec![
            "--replicaof".to_owned(),
            "127.0.0.1".to_owned(),
            master_port.clone(),
        ]
    })
    .expect("redis-server is installed");
    let replica_up = || {
        replica
            .cli(&["info", "replication"])
            .contains("master_link_status:up")
    };
    until(Duration::from_secs(10), "the replica follows", replica_up).await;
    // Started after the replica, so that its first look at the master finds it.
    let sentinel = RedisServer::start_with(|_, dir| {
        let file = dir.join("sentinel.conf");
        std::fs::write(
            &file,
            format!(
                "sentinel monitor leptos 127.0.0.1 {master_port} 1\n\
                 sentinel down-after-milliseconds leptos 1000\n\
                 sentinel failover-timeout leptos 10000\n"
            ),
        )
        .expect("sentinel.conf");
        vec![file.display().to_string(), "--sentinel".to_owned()]
    })
    .expect("redis-server is installed");
    let known = || {
        sentinel
            .cli(&["sentinel", "replicas", "leptos"])
            .contains(&replica.port.to_string())
    };
    until(
        Duration::from_secs(10),
        "the Sentinel knows the replica",
        known,
    )
    .await;

    let url = format!("redis+sentinel://127.0.0.1:{}/leptos/0", sentinel.port);
    let store = RedisStore::new(&url, Duration::from_secs(1)).expect("a valid URL");
    conformance(&store).await;

    let (auth, mut browser) = signed_in_on(&url).await;
    let written = sessions_on(&master);
    assert_eq!(written.len(), 1, "{written:?}");
    until(Duration::from_secs(10), "the session is replicated", || {
        sessions_on(&replica) == written
    })
    .await;

    // The master hangs: visitors look signed out in time, and no 500.
    master.signal("STOP");
    signed_out_in_time_keeping_the_cookie(&auth, &browser).await;
    // The Sentinel promotes the replica; the store finds it through the Sentinel, with the
    // session it had replicated.
    let promoted = || {
        sentinel
            .cli(&["sentinel", "get-master-addr-by-name", "leptos"])
            .contains(&replica.port.to_string())
    };
    until(FAILOVER, "the Sentinel fails over", promoted).await;
    let started = Instant::now();
    while browser.get(&auth, "/who").await != "Alice" {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "not signed in again through the new master"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    master.signal("CONT");

    // Writes go to the new master: a logout ends the session there.
    assert_eq!(browser.get(&auth, "/end").await, "ended");
    assert_eq!(browser.get(&auth, "/who").await, "nobody");
    assert_eq!(sessions_on(&replica), Vec::<String>::new());
}
