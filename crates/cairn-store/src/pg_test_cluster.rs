//! A throwaway PostgreSQL cluster for tests (the `test-support` feature): one per test
//! process, started on first use in a temporary folder on a free loopback port, and one fresh
//! database per test.
//!
//! Invariants:
//! - The server binaries are Debian's (`initdb`, `pg_ctl`, `postgres`): found on `PATH`, else
//!   in the newest `/usr/lib/postgresql/*/bin`. Without them every PostgreSQL test prints one
//!   line saying so and passes, unless `CAIRN_REQUIRE_POSTGRES=1`, which makes it fail (CI
//!   sets it, so CI always runs them).
//! - PostgreSQL refuses to run as root: when the tests do, the cluster runs as the
//!   `postgres` user if there is one, else as `nobody`, and its folder belongs to that user.
//! - No server outlives the test process. The test harness has no global teardown, so a
//!   detached watchdog waits for the process to end, then stops the server and deletes the
//!   folder.
//! - The cluster trusts [`ADMIN_USER`] over TCP on 127.0.0.1, and [`PASSWORD_USER`] only with
//!   its password (SCRAM), so the password paths are tested too. Every test database belongs
//!   to [`PASSWORD_USER`].

// Test support: a cluster that cannot start is the test's failure, reported by panicking.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// The cluster's superuser, trusted on loopback.
pub const ADMIN_USER: &str = "cairn_admin";
/// A role that must give its password (SCRAM) on loopback; it owns every test database.
pub const PASSWORD_USER: &str = "cairn_user";
/// [`PASSWORD_USER`]'s password.
pub const PASSWORD: &str = "s3cret pass/word";
/// Set to `1` to fail, instead of skip, the PostgreSQL tests on a machine without PostgreSQL.
pub const REQUIRE_VARIABLE: &str = "CAIRN_REQUIRE_POSTGRES";

/// A running throwaway cluster.
#[derive(Debug)]
pub struct TestCluster {
    port: u16,
    bin: PathBuf,
}

/// One fresh database of the cluster.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub name: String,
    pub port: u16,
}

impl TestDatabase {
    /// The database's url for [`ADMIN_USER`], who needs no password.
    pub fn admin_url(&self) -> String {
        format!(
            "postgres://{ADMIN_USER}@127.0.0.1:{}/{}",
            self.port, self.name
        )
    }

    /// The database's url for [`PASSWORD_USER`], with no password in it.
    pub fn user_url(&self) -> String {
        format!(
            "postgres://{PASSWORD_USER}@127.0.0.1:{}/{}",
            self.port, self.name
        )
    }

    /// The database's url for [`PASSWORD_USER`] with the password in it (percent-encoded).
    pub fn user_url_with_password(&self) -> String {
        let encoded: String = PASSWORD
            .bytes()
            .map(|byte| match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (byte as char).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect();
        format!(
            "postgres://{PASSWORD_USER}:{encoded}@127.0.0.1:{}/{}",
            self.port, self.name
        )
    }

    /// A connection of the test's own as [`ADMIN_USER`], for what the service cannot do.
    pub async fn admin_connection(&self) -> PgConnection {
        PgConnection::connect_with(&admin_options(self.port, &self.name))
            .await
            .expect("connect to the test database as its admin")
    }
}

/// This process's cluster, started on first call; `None` (after printing why) when
/// PostgreSQL is not installed and [`REQUIRE_VARIABLE`] is not set.
pub fn cluster() -> Option<&'static TestCluster> {
    static CLUSTER: OnceLock<Option<TestCluster>> = OnceLock::new();
    let cluster = CLUSTER.get_or_init(|| find_binaries().map(TestCluster::start));
    if cluster.is_none() {
        let message =
            "PostgreSQL tests skipped: initdb not found; install Debian's postgresql package";
        if std::env::var(REQUIRE_VARIABLE).as_deref() == Ok("1") {
            panic!("{message} ({REQUIRE_VARIABLE}=1 makes this a failure)");
        }
        // Straight to the process's stderr, past the test harness's capture, so the skip is
        // seen in a normal `cargo test` run.
        let _ = writeln!(std::io::stderr(), "{message}");
    }
    cluster.as_ref()
}

/// A fresh database in this process's cluster, or `None` when PostgreSQL tests are skipped.
pub async fn fresh_database() -> Option<TestDatabase> {
    Some(cluster()?.create_database().await)
}

impl TestCluster {
    /// The cluster's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates `test_<n>`, owned by [`PASSWORD_USER`].
    pub async fn create_database(&self) -> TestDatabase {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin = PgConnection::connect_with(&admin_options(self.port, "postgres"))
            .await
            .expect("connect to the test cluster");
        sqlx::query(&format!("CREATE DATABASE {name} OWNER {PASSWORD_USER}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        TestDatabase {
            name,
            port: self.port,
        }
    }

    /// The folder of the server binaries in use.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    fn start(bin: PathBuf) -> Self {
        let root = std::env::temp_dir().join(format!(
            "cairn-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|time| time.as_nanos())
                .unwrap_or_default()
        ));
        let data = root.join("data");
        let sockets = root.join("sockets");
        std::fs::create_dir_all(&sockets).expect("create the test cluster's folder");
        let user = server_user();
        if let Some(user) = &user {
            run(Command::new("chown").arg("-R").arg(user).arg(&root));
        }
        run(as_user(&user, &bin.join("initdb"))
            .arg("--pgdata")
            .arg(&data)
            .args(["--username", ADMIN_USER, "--auth", "trust"])
            .args(["--encoding", "UTF8", "--no-locale", "--no-sync"]));
        // Written after initdb, which refuses a data folder that is not empty.
        std::fs::write(
            data.join("pg_hba.conf"),
            format!(
                "local all all trust\n\
                 host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n\
                 host all all 127.0.0.1/32 trust\n"
            ),
        )
        .expect("write pg_hba.conf");
        spawn_watchdog(&user, &bin, &root, &data);

        let mut attempts = 0;
        let port = loop {
            let port = free_port();
            let started = as_user(&user, &bin.join("pg_ctl"))
                .args(["start", "--wait", "--silent", "--pgdata"])
                .arg(&data)
                .arg("--log")
                .arg(root.join("server.log"))
                .arg("-o")
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                     -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                    sockets.display()
                ))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run pg_ctl");
            if started.success() {
                break port;
            }
            // Another process may have taken the port between our look and the server's.
            attempts += 1;
            if attempts == 3 {
                let log = std::fs::read_to_string(root.join("server.log")).unwrap_or_default();
                panic!("the test PostgreSQL server did not start:\n{log}");
            }
        };
        create_password_user(port);
        Self { port, bin }
    }
}

fn admin_options(port: u16, database: &str) -> PgConnectOptions {
    PgConnectOptions::new_without_pgpass()
        .host("127.0.0.1")
        .port(port)
        .username(ADMIN_USER)
        .database(database)
}

/// Creates [`PASSWORD_USER`] on a runtime of its own: the cluster starts from sync code that
/// may itself run inside a test's runtime.
fn create_password_user(port: u16) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let mut admin = PgConnection::connect_with(&admin_options(port, "postgres"))
                .await
                .expect("connect to the new test cluster");
            sqlx::query(&format!(
                "CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'"
            ))
            .execute(&mut admin)
            .await
            .expect("create the password user");
        });
    })
    .join()
    .expect("creating the password user panicked");
}

/// `initdb` on `PATH`, else in the newest `/usr/lib/postgresql/<version>/bin`: its folder.
fn find_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).find(|dir| dir.join("initdb").is_file()));
    if let Some(dir) = on_path {
        // Debian links only some tools into /usr/bin; use the real folder, where pg_ctl
        // and postgres sit beside initdb.
        let real = std::fs::canonicalize(dir.join("initdb")).ok()?;
        return real.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Who runs the server: ourselves, unless we are root.
fn server_user() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let has_postgres = Command::new("id")
        .args(["-u", "postgres"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    Some(if has_postgres { "postgres" } else { "nobody" }.to_owned())
}

fn as_user(user: &Option<String>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn run(command: &mut Command) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("could not run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("find a free port")
}

/// Stops the server and deletes the folder once this process has ended, however it ends.
/// `setsid --fork` keeps a Ctrl-C meant for the tests from ending the watchdog too and
/// returns at once, leaving no child of ours behind; the watchdog's output goes nowhere, so
/// cargo does not wait for it.
fn spawn_watchdog(user: &Option<String>, bin: &Path, root: &Path, data: &Path) {
    let pg_ctl = format!("{}", bin.join("pg_ctl").display());
    let stop = match user {
        Some(user) => format!("runuser -u {user} -- '{pg_ctl}'"),
        None => format!("'{pg_ctl}'"),
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         {stop} stop --pgdata '{data}' --mode immediate --silent; rm -rf '{root}'",
        pid = std::process::id(),
        data = data.display(),
        root = root.display(),
    );
    let started = Command::new("setsid")
        .args(["--fork", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("start the test cluster's watchdog");
    assert!(started.success(), "setsid failed to start the watchdog");
}
