//! A throwaway PostgreSQL cluster for tests: `initdb` in a temporary directory, the server
//! on a Unix socket there (no TCP port), stopped and removed on drop. As root, the cluster
//! runs as the `postgres` user (PostgreSQL refuses to run as root).
//!
//! `WARRANT_PG_URL` points the tests at a server of one's own instead. Without either, the
//! tests print why and skip, unless `WARRANT_REQUIRE_POSTGRES=1` (as `.ci/run` sets), which
//! makes a missing server a failure.

// Each test binary that includes this file uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster (or an external server) and a way to make fresh databases on it.
pub(crate) struct Cluster {
    dir: Option<tempfile::TempDir>,
    bin: PathBuf,
    as_postgres: bool,
    base: String,
    /// Server options beyond the socket's (`-c …`), kept for a restart.
    extra: String,
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
                extra: String::new(),
            });
        }
        let cluster = Self::init()?;
        cluster.ctl(&["start"])?;
        Ok(cluster)
    }

    /// A new cluster's data directory, not started.
    fn init() -> Result<Self, String> {
        let bin = pg_bin().ok_or("no initdb on PATH or under /usr/lib/postgresql")?;
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("wpg")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("d");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        let d = data.to_string_lossy().into_owned();
        let cluster = Self {
            dir: Some(dir),
            bin,
            as_postgres,
            base: format!("host={d} user=warrant"),
            extra: String::new(),
        };
        cluster.own()?;
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
        Ok(cluster)
    }

    /// Hands the directory to the `postgres` user when the cluster runs as it.
    fn own(&self) -> Result<(), String> {
        if self.as_postgres {
            self.run("chown", &["-R", "postgres:postgres", &self.path()])?;
        }
        Ok(())
    }

    fn data(&self) -> String {
        format!("{}/d", self.path())
    }

    /// A cluster that also listens on 127.0.0.1 (the port returned), for TLS connections
    /// only: its certificate, for `localhost` and `127.0.0.1`, is signed by a CA made for
    /// it, whose certificate is `ca.pem` in [`Cluster::dir`]; `other-ca.pem` there is a CA
    /// that signed nothing of it. Needs the `openssl` command.
    pub(crate) fn start_tls() -> Result<(Self, u16), String> {
        let mut cluster = Self::init()?;
        let dir = PathBuf::from(cluster.path());
        make_certificates(&cluster, &dir)?;
        std::fs::write(
            format!("{}/pg_hba.conf", cluster.data()),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| e.to_string())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let p = dir.display();
        cluster.extra = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c ssl=on \
             -c ssl_cert_file={p}/server.pem -c ssl_key_file={p}/server.key"
        );
        // The Unix socket is named after the port too.
        cluster.base = format!("{} port={port}", cluster.base);
        cluster.own()?;
        cluster.ctl(&["start"])?;
        Ok((cluster, port))
    }

    /// Where the cluster's files are (the TLS cluster's certificates too).
    pub(crate) fn dir(&self) -> PathBuf {
        PathBuf::from(self.path())
    }

    /// `pg_ctl` on the data directory, the server on a socket there (and as `extra` says)
    /// and logging to a file there (without the log file the server would write to, and
    /// hold open, the pipes `output()` reads to their end), waiting until it is done.
    fn ctl(&self, action: &[&str]) -> Result<(), String> {
        let d = self.data();
        let opts = format!("-c listen_addresses='' -k {d} -c fsync=on {}", self.extra);
        let log = format!("{d}/log");
        let mut args = vec!["-D", d.as_str(), "-o", &opts, "-l", &log, "-w"];
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
    pub(crate) fn url(&self, name: &str) -> String {
        self.database(name);
        format!("postgresql:///{name}?{}", self.base.replace(' ', "&"))
    }
}

impl Cluster {
    /// Restarts the server (`pg_ctl restart -m fast`: every session is ended, as a
    /// database failover or an operator's restart does); `false` for a server not ours.
    pub(crate) fn restart(&self) -> bool {
        if self.dir.is_none() {
            return false;
        }
        self.ctl(&["-m", "fast", "restart"])
            .expect("pg_ctl restart");
        true
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.dir.is_some() {
            let _ = self.pg(
                "pg_ctl",
                &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
            );
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

/// A CA, a server certificate it signs (for `localhost` and `127.0.0.1`, key readable by
/// the server only), and a second CA, in `dir`.
fn make_certificates(cluster: &Cluster, dir: &Path) -> Result<(), String> {
    let at = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for ca in ["ca", "other-ca"] {
        let mut args = vec!["req", "-x509", "-days", "2", "-subj", "/CN=warrant test CA"];
        args.extend(ec);
        let (key, pem) = (at(&format!("{ca}.key")), at(&format!("{ca}.pem")));
        args.extend(["-keyout", &key, "-out", &pem]);
        args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
        args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        cluster.run("openssl", &args)?;
    }
    let (key, csr) = (at("server.key"), at("server.csr"));
    let mut args = vec![
        "req",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &key,
        "-out",
        &csr,
    ];
    args.extend(ec);
    cluster.run("openssl", &args)?;
    let ext = at("server.ext");
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    let (ca, ca_key, pem) = (at("ca.pem"), at("ca.key"), at("server.pem"));
    cluster.run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
    )?;
    // PostgreSQL refuses a key others can read.
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| e.to_string())
}
