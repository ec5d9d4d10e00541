//! A throwaway PostgreSQL cluster for tests (the server's and the agent's): `initdb` + `pg_ctl` from the installed server
//! binaries, on a free port, with its data and socket directories in a temp dir, run as the
//! `postgres` user when the tests run as root (PostgreSQL refuses root). Stopped on drop.
//! Tests run it with `fsync = off` (nothing they check needs a flush); [`PgCluster::start_durable`]
//! keeps PostgreSQL's durable defaults for benchmarks and fault runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::succeed as run;

/// A running cluster. Dropping it stops the server and removes its files.
#[derive(Debug)]
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    durable: bool,
    pub port: u16,
}

/// How a cluster is made.
#[derive(Debug, Clone, Copy, Default)]
struct Options<'a> {
    /// Only TLS over TCP, with this certificate and key (PEM).
    tls: Option<(&'a Path, &'a Path)>,
    /// PostgreSQL's defaults for flushing (`fsync`, `synchronous_commit`, `full_page_writes`).
    durable: bool,
    /// The folder its temporary folder is made in (the system's temporary folder by default).
    parent: Option<&'a Path>,
}

fn find_bin() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| {
            format!(
                "PostgreSQL server binaries are missing (/usr/lib/postgresql: {e}); \
                 install them with `apt-get install -y postgresql`"
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        "no initdb/pg_ctl under /usr/lib/postgresql/*/bin; `apt-get install -y postgresql`".into()
    })
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

impl PgCluster {
    fn command(&self, program: &str) -> Command {
        command(&self.bin, self.as_postgres, program)
    }

    /// Creates and starts a cluster, or says why it could not.
    pub fn start() -> Result<Self, String> {
        Self::start_with(Options::default())
    }

    /// A cluster with PostgreSQL's durable defaults (`fsync`, `synchronous_commit` and
    /// `full_page_writes` on), its files in a new folder under `parent` when given (a file
    /// system of its own, say, to fill).
    pub fn start_durable(parent: Option<&Path>) -> Result<Self, String> {
        Self::start_with(Options {
            durable: true,
            parent,
            ..Options::default()
        })
    }

    /// A cluster that accepts only TLS connections over TCP (`ssl = on`, `hostssl` lines and
    /// no plain `host` line in pg_hba.conf), serving this certificate and key (PEM).
    pub fn start_tls(cert: &Path, key: &Path) -> Result<Self, String> {
        Self::start_with(Options {
            tls: Some((cert, key)),
            ..Options::default()
        })
    }

    fn start_with(options: Options<'_>) -> Result<Self, String> {
        let bin = find_bin()?;
        let as_postgres = crate::is_root();
        let mut dir = tempfile::Builder::new();
        dir.prefix("worktrace-pg-");
        let dir = match options.parent {
            Some(parent) => dir.tempdir_in(parent),
            None => dir.tempdir(),
        }
        .map_err(|e| format!("temp dir: {e}"))?;
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let port = free_port()?;
        run(command(&bin, as_postgres, "initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-N",
                "-E",
                "UTF8",
                "--no-instructions",
            ]))?;
        if let Some((cert, key)) = options.tls {
            enable_tls(&data, cert, key, as_postgres)?;
        }
        let cluster = Self {
            dir,
            bin,
            as_postgres,
            durable: options.durable,
            port,
        };
        cluster.start_again()?;
        Ok(cluster)
    }

    /// Starts the stopped cluster on its port again (waiting until it accepts connections).
    pub fn start_again(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200{}",
            self.port,
            self.dir.path().display(),
            if self.durable { "" } else { " -c fsync=off" }
        );
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"]))
        .map_err(|e| format!("{e}\nserver log:\n{}", self.log()))
    }

    /// Stops the cluster at once (`-m fast`: open connections are cut), as a database that
    /// goes away under the server.
    pub fn stop(&self) -> Result<(), String> {
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-w", "-t", "60", "-m", "fast", "stop"]))
    }

    /// Whether the cluster's postmaster runs (it may still be recovering).
    pub fn running(&self) -> bool {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("status")
            .output()
            .is_ok_and(|out| out.status.success())
    }

    /// Whether it accepts connections now.
    pub fn accepting(&self) -> bool {
        self.command("pg_isready")
            .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Waits until the cluster accepts connections, starting it again whenever its postmaster
    /// is found gone (after a PANIC it restarts by itself; when its recovery fails too, it
    /// ends), for at most `patience`.
    pub fn serve_again(&self, patience: std::time::Duration) -> Result<(), String> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            if self.accepting() {
                return Ok(());
            }
            if !self.running() {
                self.start_again()?;
            }
            if std::time::Instant::now() >= deadline {
                return Err(format!(
                    "PostgreSQL accepts no connections after {patience:?}\nserver log:\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        run(self.command("createdb").args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            name,
        ]))?;
        Ok(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            self.port
        ))
    }
}

/// Copies the certificate and key into the data directory and turns TLS on, for TCP only.
fn enable_tls(data: &Path, cert: &Path, key: &Path, as_postgres: bool) -> Result<(), String> {
    let copy = |from: &Path, name: &str| {
        std::fs::copy(from, data.join(name))
            .map_err(|e| format!("copy {} into the cluster: {e}", from.display()))
    };
    copy(cert, "server.crt")?;
    copy(key, "server.key")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // PostgreSQL refuses a key that others can read.
        std::fs::set_permissions(
            data.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .map_err(|e| format!("chmod server.key: {e}"))?;
    }
    if as_postgres {
        for name in ["server.crt", "server.key"] {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(data.join(name)))?;
        }
    }
    let append = |name: &str, text: &str| {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join(name))
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| format!("write {name}: {e}"))
    };
    append(
        "postgresql.conf",
        "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
    )?;
    // Only TLS over TCP: a client that does not encrypt finds no matching line.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
    )
    .map_err(|e| format!("write pg_hba.conf: {e}"))
}

fn command(bin: &Path, as_postgres: bool, program: &str) -> Command {
    let exe = bin.join(program);
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        // Immediate: the cluster is thrown away, so nothing needs a clean checkpoint.
        let _ = run(self.command("pg_ctl").arg("-D").arg(&data).args([
            "-m",
            "immediate",
            "-w",
            "stop",
        ]));
    }
}
