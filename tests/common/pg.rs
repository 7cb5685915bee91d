//! A throwaway PostgreSQL cluster for tests: `initdb` in a temporary directory, the server
//! on a Unix socket there (no TCP port), stopped and removed on drop. As root, the cluster
//! runs as the `postgres` user (PostgreSQL refuses to run as root).
//!
//! `WARRANT_PG_URL` points the tests at a server of one's own instead. Without either, the
//! tests print why and skip, unless `WARRANT_REQUIRE_POSTGRES=1` (as `.ci/run` sets), which
//! makes a missing server a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster (or an external server) and a way to make fresh databases on it.
pub(crate) struct Cluster {
    dir: Option<tempfile::TempDir>,
    bin: PathBuf,
    as_postgres: bool,
    base: String,
}

fn pg_bin() -> Option<PathBuf> {
    let from_path = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(p) = from_path.and_then(|p| std::fs::canonicalize(p).ok()) {
        return p.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// Starts one, or says why it cannot.
    pub(crate) fn start() -> Result<Self, String> {
        if let Ok(url) = std::env::var("WARRANT_PG_URL") {
            return Ok(Self {
                dir: None,
                bin: PathBuf::new(),
                as_postgres: false,
                base: url,
            });
        }
        let bin = pg_bin().ok_or("no initdb on PATH or under /usr/lib/postgresql")?;
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("wpg")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("d");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        let mut cluster = Self {
            dir: Some(dir),
            bin,
            as_postgres,
            base: String::new(),
        };
        if as_postgres {
            cluster.run("chown", &["-R", "postgres:postgres", &cluster.path()])?;
        }
        let d = data.to_string_lossy().into_owned();
        cluster.pg(
            "initdb",
            &[
                "-D",
                &d,
                "-U",
                "warrant",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        cluster.ctl(&d, &["start"])?;
        cluster.base = format!("host={d} user=warrant");
        Ok(cluster)
    }

    /// `pg_ctl` on the data directory `d`, the server on a socket there and logging to a
    /// file there (without the log file the server would write to, and hold open, the pipes
    /// `output()` reads to their end), waiting until it is done.
    fn ctl(&self, d: &str, action: &[&str]) -> Result<(), String> {
        let opts = format!("-c listen_addresses='' -k {d} -c fsync=on");
        let log = format!("{d}/log");
        let mut args = vec!["-D", d, "-o", &opts, "-l", &log, "-w"];
        args.extend_from_slice(action);
        self.pg("pg_ctl", &args)
    }

    fn path(&self) -> String {
        self.dir
            .as_ref()
            .map(|d| d.path().to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn pg(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(tool).to_string_lossy().into_owned();
        if self.as_postgres {
            let mut all = vec!["-u", "postgres", "--", exe.as_str()];
            all.extend_from_slice(args);
            self.run("runuser", &all)
        } else {
            self.run(&exe, args)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = Command::new(program)
            .args(args)
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// A connection string to a new, empty database named `name`.
    pub(crate) fn database(&self, name: &str) -> String {
        let mut admin =
            postgres::Client::connect(&format!("{} dbname=postgres", self.base), postgres::NoTls)
                .expect("connect to the cluster");
        // Two statements: neither may run in a transaction block, which one batch would be.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .expect("drop database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        format!("{} dbname={name}", self.base)
    }

    /// As [`Cluster::database`], as a `postgresql://` URL (the form `warrant --store`
    /// takes): the connection parameters go in its query (`host=/socket/dir&user=…`).
    #[allow(dead_code)] // Not every test binary that includes this file uses it.
    pub(crate) fn url(&self, name: &str) -> String {
        self.database(name);
        format!("postgresql:///{name}?{}", self.base.replace(' ', "&"))
    }
}

impl Cluster {
    /// Restarts the server (`pg_ctl restart -m fast`: every session is ended, as a
    /// database failover or an operator's restart does); `false` for a server not ours.
    #[allow(dead_code)] // Not every test binary that includes this file uses it.
    pub(crate) fn restart(&self) -> bool {
        if self.dir.is_none() {
            return false;
        }
        let d = format!("{}/d", self.path());
        self.ctl(&d, &["-m", "fast", "restart"])
            .expect("pg_ctl restart");
        true
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.dir.is_some() {
            let d = format!("{}/d", self.path());
            let _ = self.pg("pg_ctl", &["-D", &d, "-m", "immediate", "-w", "stop"]);
        }
    }
}

/// The cluster, or `None` after printing why there is none (a failure instead when
/// `WARRANT_REQUIRE_POSTGRES=1`).
pub(crate) fn cluster_or_skip() -> Option<Cluster> {
    match Cluster::start() {
        Ok(c) => Some(c),
        Err(why) => {
            assert!(
                std::env::var_os("WARRANT_REQUIRE_POSTGRES").is_none(),
                "PostgreSQL is required here but could not be started: {why}"
            );
            eprintln!("skipped: no PostgreSQL ({why})");
            None
        }
    }
}
