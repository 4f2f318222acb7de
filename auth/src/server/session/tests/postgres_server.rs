//! Debian's Postgres for one test: `initdb` into a folder of its own, the server on a free
//! loopback port, a database made for the test; stopped by its PID on drop. Standard library
//! only: auth-tests/tests/support/postgres.rs uses this file too.
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The role `initdb` makes, a superuser with a password (connections over TCP must give it).
pub const USER: &str = "leptos";
pub const PASSWORD: &str = "leptos-test-password";
/// The database made for the test.
pub const DATABASE: &str = "sessions";

/// A Postgres server of the test's own (binaries from the newest /usr/lib/postgresql/*/bin,
/// or `POSTGRES_BIN_DIR`), run as the `postgres` user when the test runs as root (Postgres
/// refuses root). `None`, with a message, when there is none, unless
/// `AUTH_TEST_POSTGRES=required`.
pub struct PostgresServer {
    /// `runuser` or `postgres` itself: the postmaster's PID is in its `postmaster.pid`.
    child: Child,
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    tls: bool,
}

impl PostgresServer {
    pub fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// With TLS on, its certificate issued by an authority of the test's own
    /// ([`PostgresServer::authority`]) for 127.0.0.1.
    pub fn start_with_tls() -> Option<Self> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Option<Self> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var("AUTH_TEST_POSTGRES").as_deref() != Ok("required"),
                "Postgres is not installed (scripts/setup.sh test installs it)"
            );
            eprintln!("skipped: Postgres is not installed");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("leptos-auth-test-postgres-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a folder");
        std::fs::write(dir.join("password"), PASSWORD).expect("the password file");
        if tls {
            make_certificates(&dir);
        }
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of {}", dir.display());
        }
        let initdb = run_as(as_postgres, &bin.join("initdb"))
            .arg("-D")
            .arg(dir.join("data"))
            .args([
                "-U",
                USER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", dir.join("password").display()))
            .args(["--no-locale", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .output()
            .expect("initdb runs");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        let mut server = Self {
            child: spawn(as_postgres, &bin, &dir, port, tls),
            bin,
            dir,
            port,
            as_postgres,
            tls,
        };
        server.wait_until_ready();
        let created = server
            .client("createdb")
            .arg(DATABASE)
            .output()
            .expect("createdb runs");
        assert!(
            created.status.success(),
            "createdb failed: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        Some(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The test database's URL, with its password; `more` is a query (`schema=x`) or empty,
    /// and `sslmode=disable` unless it names another.
    pub fn url(&self, more: &str) -> String {
        let query = match more {
            "" => "?sslmode=disable".to_owned(),
            more if more.contains("sslmode=") => format!("?{more}"),
            more => format!("?sslmode=disable&{more}"),
        };
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{DATABASE}{query}",
            self.port
        )
    }

    /// The PEM file of the authority that issued the server's certificate (TLS only).
    pub fn authority(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// What `psql` prints for `sql` in the test database (unaligned, tuples only).
    pub fn psql(&self, sql: &str) -> String {
        let output = self
            .client("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                DATABASE,
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql failed on {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Hangs the server: the postmaster, then each connection's process (they are in sessions
    /// of their own, out of reach of a signal to its group), are stopped with SIGSTOP.
    pub fn pause(&self) {
        let postmaster = self.postmaster();
        signal("STOP", postmaster);
        for child in children(postmaster) {
            signal("STOP", child);
        }
    }

    /// Undoes [`PostgresServer::pause`], and resumes `runuser` too: it stops itself when its
    /// child stops (as `su` does, for job control), and would never reap it otherwise.
    pub fn resume(&self) {
        let postmaster = self.postmaster();
        for child in children(postmaster) {
            signal("CONT", child);
        }
        signal("CONT", postmaster);
        signal("CONT", self.child.id());
    }

    /// Stops the server as an operator would (a fast shutdown: connections are closed, the
    /// data kept), and waits until it is gone.
    pub fn stop(&mut self) {
        signal("INT", self.postmaster());
        self.wait_for_exit(Duration::from_secs(20));
    }

    /// Starts the server again on its port, with its data.
    pub fn restart(&mut self) {
        self.child = spawn(self.as_postgres, &self.bin, &self.dir, self.port, self.tls);
        self.wait_until_ready();
    }

    /// The postmaster's PID, from the file it keeps in its data folder.
    fn postmaster(&self) -> u32 {
        let text =
            std::fs::read_to_string(self.dir.join("data/postmaster.pid")).expect("postmaster.pid");
        text.lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .expect("a PID")
    }

    /// A client program of the server's version, connecting to it over TCP as [`USER`].
    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .env("PGPASSWORD", PASSWORD)
            .env("PGCONNECT_TIMEOUT", "5");
        command
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
                panic!("postgres exited ({status}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("postgres did not start on port {}", self.port);
    }

    fn wait_for_exit(&mut self, within: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < within {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            if let Ok(text) = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
                && let Some(pid) = text.lines().next().and_then(|l| l.trim().parse().ok())
            {
                // Resumed first, should a test have failed while it was paused; then an
                // immediate shutdown, which still gives back its shared memory.
                for child in children(pid) {
                    signal("CONT", child);
                }
                signal("CONT", pid);
                signal("CONT", self.child.id());
                signal("QUIT", pid);
            }
            if !self.wait_for_exit(Duration::from_secs(5)) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest Postgres under /usr/lib/postgresql, or `POSTGRES_BIN_DIR`.
fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("POSTGRES_BIN_DIR") {
        return Some(PathBuf::from(dir)).filter(|dir| dir.join("postgres").exists());
    }
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    versions
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// `program`, as the `postgres` user when `as_postgres` (the test runs as root).
fn run_as(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn spawn(as_postgres: bool, bin: &Path, dir: &Path, port: u16, tls: bool) -> Child {
    let log = std::fs::File::create(dir.join("log")).expect("a log file");
    let mut command = run_as(as_postgres, &bin.join("postgres"));
    if tls {
        command
            .args(["-c", "ssl=on"])
            .arg("-c")
            .arg(format!(
                "ssl_cert_file={}",
                dir.join("server.crt").display()
            ))
            .arg("-c")
            .arg(format!("ssl_key_file={}", dir.join("server.key").display()));
    }
    command
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-k")
        .arg(dir)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        // Nothing here needs to survive a crash of the machine.
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("postgres starts")
}

/// An authority (`ca.crt`) and the server's key and certificate for 127.0.0.1 signed by it,
/// with Debian's `openssl`; the key readable by its owner only, as Postgres requires.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
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
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n\
         extendedKeyUsage = serverAuth\n",
    )
    .expect("the extensions file");
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("the key's mode");
}

fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// The processes `pid` started (Linux's /proc).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|child| child.parse().ok())
        .collect()
}
