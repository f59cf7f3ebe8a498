//! Shared set-up for the end-to-end tests: the path of a freshly built `cairn` binary and an
//! isolated environment (temporary HOME, XDG folders, config and database) so tests never
//! touch the developer's own sessions and never reach the network.

// This crate exists only to test; a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod proxy;
pub mod pty;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The full session id `cairn run` reports on standard error (`session: <id> ...`).
pub fn session_id_from(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|line| line.strip_prefix("session: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no session line in {stderr}"))
        .to_owned()
}

/// The `cairn` binary of this workspace, built once per test process.
///
/// `cargo test --workspace` builds it before any test runs; running this crate's tests alone
/// (`cargo test -p cairn-tests`) does not, so build it here if needed.
pub fn cairn_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "cairn", "--bin", "cairn"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for the cairn binary");
        assert!(status.success(), "cargo build -p cairn failed");
        // target/debug/deps/<test> -> target/debug/cairn
        let exe = std::env::current_exe().expect("current test executable");
        let debug_dir = exe.parent().and_then(Path::parent).expect("target/debug");
        let bin = debug_dir.join("cairn");
        assert!(bin.exists(), "{} was not built", bin.display());
        bin
    })
}

/// A private HOME with its own config, data and state folders, and a workspace folder.
pub struct TestEnv {
    pub root: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(root.path().join("home/.config/cairn")).expect("config dir");
        std::fs::create_dir_all(root.path().join("work")).expect("work dir");
        Self { root }
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The default workspace folder for commands.
    pub fn work_dir(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// Another folder (created), for "a different workspace" tests.
    pub fn other_dir(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join(name);
        std::fs::create_dir_all(&dir).expect("create dir");
        dir
    }

    pub fn config_path(&self) -> PathBuf {
        self.home().join(".config/cairn/config.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.home().join(".local/share/cairn/sessions.db")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("write config");
    }

    /// The environment a test process gets: isolated folders, the offline echo provider with
    /// no delay, and none of the developer's provider keys.
    pub fn vars(&self) -> Vec<(String, String)> {
        let home = self.home();
        let s = |p: PathBuf| p.display().to_string();
        vec![
            ("HOME".into(), s(home.clone())),
            ("XDG_CONFIG_HOME".into(), s(home.join(".config"))),
            ("XDG_DATA_HOME".into(), s(home.join(".local/share"))),
            ("XDG_STATE_HOME".into(), s(home.join(".local/state"))),
            ("XDG_CACHE_HOME".into(), s(home.join(".cache"))),
            ("CAIRN_PROVIDER".into(), "echo".into()),
            ("CAIRN_ECHO_WORD_DELAY_MS".into(), "1".into()),
            ("NO_COLOR".into(), "1".into()),
        ]
    }

    /// Variables a test must remove so the developer's own setup cannot leak in.
    pub fn removed_vars() -> &'static [&'static str] {
        &[
            "CAIRN_CONFIG",
            "CAIRN_DB_PATH",
            "CAIRN_SESSION_CONTINUE_MINUTES",
            "CAIRN_MODEL",
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
            "OLLAMA_HOST",
            "CAIRN_STORE_URL",
            "PGPASSWORD",
            "PGPASSFILE",
            "PGHOST",
            "PGHOSTADDR",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGSSLMODE",
        ]
    }

    /// A `Command` for the cairn binary in `dir` with this environment.
    pub fn command_in(&self, dir: &Path) -> Command {
        let mut command = Command::new(cairn_bin());
        command.current_dir(dir);
        for name in Self::removed_vars() {
            command.env_remove(name);
        }
        command.envs(self.vars());
        command
    }

    pub fn command(&self) -> Command {
        self.command_in(&self.work_dir())
    }

    /// `(type, data)` of every event of the most recently active session, in chain order,
    /// as `cairn sessions show --json` prints them.
    pub fn newest_session_events(&self) -> Vec<(String, serde_json::Value)> {
        let (stdout, _) = self.run_ok(&["sessions", "list", "--json"]);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("list JSON");
        let id = rows[0]["id"].as_str().expect("a session id").to_owned();
        let (stdout, _) = self.run_ok(&["sessions", "show", "--json", &id]);
        let session: serde_json::Value = serde_json::from_str(&stdout).expect("show JSON");
        session["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|event| {
                (
                    event["kind"]["event_type"]
                        .as_str()
                        .expect("event type")
                        .to_owned(),
                    event["kind"]["event_data"].clone(),
                )
            })
            .collect()
    }

    /// Runs `cairn ARGS` in the work folder with no input, asserts it succeeded, and returns
    /// (stdout, stderr).
    pub fn run_ok(&self, args: &[&str]) -> (String, String) {
        let output = self
            .command()
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run cairn");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "cairn {args:?} failed\nstdout: {stdout}\nstderr: {stderr}"
        );
        (stdout, stderr)
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}
