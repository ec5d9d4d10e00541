//! The Linux packages in a clean Debian root: `scripts/package-deb.sh` packs this build's
//! binaries; the test lays out a minimal Debian of the host's release with `debootstrap`
//! (from the Debian mirror, as `make deps` installs packages), installs the packages there
//! with apt, and runs them inside it with `chroot`: the agent with the machine-wide settings
//! in `/etc/worktrace/worktrace.toml`, enrolling with a server on loopback and keeping its
//! device secret in a gnome-keyring of the employee's session; the server as its systemd unit
//! would start it. Needs root (debootstrap, chroot), as CI runs.
//!
//! The RPM packages of the same binaries are built too, their requirements read, and the agent
//! and server packages installed with `rpm --root` into the same root (without rpm's dependency
//! check: no RPM provides Debian's libraries), the agent run from there and both removed.
//!
//! Package updates through the spool: the agent's .deb of this version installed in its own
//! root (only the agent package is built, so this test needs only the `worktrace` binary);
//! the employee's running agent is offered a signed .deb of the next version (the same binary
//! stamped with it, signed with the test key debug builds trust) by the loopback server and
//! leaves it in `/var/lib/worktrace/updates`; `worktrace update apply-spool` run as root there
//! installs it with dpkg, and the running agent starts the new version and reports it. The
//! applier refuses a bad signature, a truncated file, a downgrade and a file dpkg cannot
//! install, dropped there by hand.
//!
//! Not exercised here: systemd itself (there is none running in the root; the unit files are
//! checked with `systemd-analyze verify`, the server's command line run as its user and the
//! update service's command run as root by hand: the path unit that would start it is never
//! started), and a login that starts the tray from the autostart entry.

mod common;
mod company;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use company::Company;
use worktrace_testkit::minisign;
use worktrace_testkit::wine::run_to_end;

/// How long debootstrap or an apt run may take (downloads included) on a busy machine.
const PATIENCE: Duration = Duration::from_secs(900);
/// The mirror the root is laid out from (`WORKTRACE_DEBIAN_MIRROR` to use another).
const MIRROR: &str = "http://deb.debian.org/debian";
/// How long a running agent may take to spool an offered update, or to run it once the
/// system installed it, on a busy machine.
const UPDATE_PATIENCE: Duration = Duration::from_secs(180);

/// The host's Debian release (`VERSION_CODENAME`), so this build's binaries find their
/// libraries in the root.
fn host_suite() -> String {
    let text = std::fs::read_to_string("/etc/os-release").expect("/etc/os-release");
    text.lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
        .expect("the host names its Debian release in /etc/os-release")
}

/// A minimal Debian in a temporary folder; every command runs in a mount namespace of its
/// own with `/proc` mounted, so nothing is left mounted when the test ends.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    /// A minimal Debian (`debootstrap --variant=minbase`) with `packages` installed by apt.
    fn new(packages: &[&str]) -> Root {
        assert!(
            worktrace_testkit::is_root(),
            "the package test lays out a Debian root with debootstrap and chroot: run it as root \
             (CI does)"
        );
        assert!(
            Path::new("/usr/sbin/debootstrap").is_file(),
            "debootstrap is missing: apt-get install debootstrap (make deps installs it)"
        );
        let dir = tempfile::Builder::new()
            .prefix("worktrace-debroot-")
            .tempdir()
            .expect("a folder for the root");
        let mirror = std::env::var("WORKTRACE_DEBIAN_MIRROR").unwrap_or_else(|_| MIRROR.into());
        let mut cmd = Command::new("debootstrap");
        cmd.arg("--variant=minbase")
            .arg(host_suite())
            .arg(dir.path())
            .arg(&mirror)
            .stdin(Stdio::null());
        let out = run_to_end(cmd, "debootstrap", PATIENCE).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "debootstrap from {mirror} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // apt inside the root resolves the mirror's name as the host does.
        std::fs::copy("/etc/resolv.conf", dir.path().join("etc/resolv.conf")).expect("resolv.conf");
        let root = Root { dir };
        // Installed by apt, not debootstrap's --include, which cannot configure packages that
        // need GTK (gnome-keyring does).
        root.ok(
            "root",
            &format!(
                "apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends \
                 {} >/dev/null",
                packages.join(" ")
            ),
        );
        root
    }

    fn path(&self, inside: &str) -> PathBuf {
        self.dir.path().join(inside.trim_start_matches('/'))
    }

    /// `sh -c SCRIPT` inside the root as `user` (`root` or a user of the root), in a mount
    /// namespace of its own with `/proc` mounted; with `display`, the host's X sockets are
    /// mounted into the root too (in that namespace only), so the script reaches the test's
    /// display.
    fn command(&self, user: &str, script: &str, display: bool) -> Command {
        let x = if display {
            "mkdir -p \"$1/tmp/.X11-unix\" && mount --bind /tmp/.X11-unix \"$1/tmp/.X11-unix\" && "
        } else {
            ""
        };
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--fork", "--", "sh", "-c"])
            .arg(format!(
                "mount -t proc proc \"$1/proc\" && {x}exec chroot --userspec=\"$2:$2\" \"$1\" \
                 /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=\"$3\" USER=\"$2\" \
                 LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/sh -c \"$4\""
            ))
            .arg("sh")
            .arg(self.dir.path())
            .arg(user)
            .arg(if user == "root" {
                "/root".to_owned()
            } else {
                format!("/home/{user}")
            })
            .arg(script)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `script` with `sh` inside the root as `user` to its end.
    fn sh(&self, user: &str, script: &str) -> Output {
        run_to_end(
            self.command(user, script, false),
            &format!("chroot {user}: {script}"),
            PATIENCE,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts `script` like [`Root::sh`], reaching the test's display, and leaves it
    /// running; its standard error goes to `log`.
    fn spawn(&self, user: &str, script: &str, log: &Path) -> std::process::Child {
        let log = std::fs::File::create(log).expect("the log file");
        self.command(user, script, true)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start unshare")
    }

    /// The processes running inside this root named `name`.
    fn pids(&self, name: &str) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r == self.dir.path())
                    && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .is_ok_and(|c| c.trim() == name)
            })
            .collect()
    }

    /// [`Root::sh`] that must succeed; its standard output.
    fn ok(&self, user: &str, script: &str) -> String {
        let out = self.sh(user, script);
        assert!(
            out.status.success(),
            "in the root as {user}: {script}\n{}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// An agent running in a root: stopped (SIGKILL) if the test ends before it stopped it.
struct RunningAgent<'a> {
    root: &'a Root,
    child: Option<std::process::Child>,
}

impl RunningAgent<'_> {
    /// The agent's one process in the root.
    fn pid(&self) -> u32 {
        let pids = self.root.pids("worktrace");
        assert_eq!(pids.len(), 1, "one agent runs in the root: {pids:?}");
        pids[0]
    }

    /// Stops the agent as a logout does (SIGTERM) and waits for its whole session to end.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.pid();
        common::succeeds(
            Command::new("kill").args(["-TERM", &pid.to_string()]),
            "kill -TERM",
        );
        let child = self.child.take().expect("running");
        worktrace_testkit::wine::collect(child, "the agent's session to end", PATIENCE)
            .unwrap_or_else(|e| panic!("{e}"))
            .status
    }
}

impl Drop for RunningAgent<'_> {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            for pid in self.root.pids("worktrace") {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Packs this build's binaries (target/debug) into the three packages.
fn build_debs(out: &Path) -> Vec<PathBuf> {
    let agent = Path::new(env!("CARGO_BIN_EXE_worktrace"));
    let bin = agent.parent().expect("the target folder");
    for exe in ["worktrace-tray", "worktrace-desktop", "worktrace-server"] {
        assert!(
            bin.join(exe).is_file(),
            "{} is missing: build the workspace's programs first (make test does, or \
             cargo build --workspace --bins)",
            bin.join(exe).display()
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/package-deb.sh");
    let mut result = Command::new(&script);
    result
        .env("DEB_COMPRESSION", "none")
        .arg(bin)
        .arg(env!("CARGO_PKG_VERSION"))
        .arg(out);
    common::succeeds(&mut result, "scripts/package-deb.sh");
    let mut debs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("the packages")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort();
    debs
}

/// Packs this build's binaries (target/debug) into the three RPM packages, uncompressed.
fn build_rpms(out: &Path) -> Vec<PathBuf> {
    let bin = Path::new(env!("CARGO_BIN_EXE_worktrace"))
        .parent()
        .expect("the target folder");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/package-rpm.sh");
    let mut result = Command::new(&script);
    result
        .env("RPM_PAYLOAD", "w0.ufdio")
        .arg(bin)
        .arg(env!("CARGO_PKG_VERSION"))
        .arg(out);
    common::succeeds(&mut result, "scripts/package-rpm.sh");
    let mut rpms: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("the packages")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rpm"))
        .collect();
    rpms.sort();
    rpms
}

/// `rpm ARGS` of this machine on the packages in `root` (`--root`: its database and files are
/// the root's, its scripts run chrooted there).
fn rpm(root: &Root, args: &[&str]) -> String {
    let mut cmd = Command::new("rpm");
    cmd.arg("--root").arg(root.dir.path()).args(args);
    let out = cmd.output().expect("rpm runs (make deps installs it)");
    assert!(
        out.status.success(),
        "rpm {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The session an employee's desktop would have: a D-Bus session bus with an unlocked
/// gnome-keyring owning the Secret Service name, then `commands`.
fn in_keyring_session(commands: &str) -> String {
    format!(
        "dbus-run-session -- sh -ec 'echo -n pw | gnome-keyring-daemon --unlock \
         --components=secrets >/dev/null; \
         until dbus-send --session --print-reply --dest=org.freedesktop.DBus \
           /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
           string:org.freedesktop.secrets 2>/dev/null | grep -q \"boolean true\"; \
         do sleep 0.05; done; {commands}'"
    )
}

#[test]
fn the_debs_install_into_a_clean_debian_enroll_upload_and_keep_the_data_on_removal() {
    let company = Company::start();
    let packages = tempfile::tempdir().expect("tempdir");
    let debs = build_debs(packages.path());
    let names: Vec<String> = debs
        .iter()
        .map(|d| d.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "agent, desktop and server packages: {names:?}"
    );

    let root = Root::new(&["dbus", "gnome-keyring", "libsecret-tools", "adduser"]);
    std::fs::create_dir_all(root.path("/tmp/packages")).expect("mkdir");
    for deb in &debs {
        std::fs::copy(
            deb,
            root.path("/tmp/packages")
                .join(deb.file_name().expect("name")),
        )
        .expect("copy a package into the root");
    }
    let deb = |prefix: &str| {
        names
            .iter()
            .find(|n| n.starts_with(&format!("{prefix}_")))
            .map(|n| format!("/tmp/packages/{n}"))
            .unwrap_or_else(|| panic!("a {prefix} package among {names:?}"))
    };

    // The agent and desktop packages, with their library dependencies from the mirror: every
    // library the binaries need is there (their Depends lines are complete).
    root.ok(
        "root",
        &format!(
            "apt-get install -y -q --no-install-recommends {} {} >/dev/null",
            deb("worktrace-agent"),
            deb("worktrace")
        ),
    );
    for exe in ["worktrace", "worktrace-tray", "worktrace-desktop"] {
        let libs = root.ok("root", &format!("ldd /usr/bin/{exe}"));
        assert!(
            !libs.contains("not found"),
            "{exe} finds every library in a clean root: {libs}"
        );
    }
    let autostart = std::fs::read_to_string(root.path("/etc/xdg/autostart/worktrace-tray.desktop"))
        .expect("the autostart entry");
    assert!(
        autostart.contains("Exec=/usr/bin/worktrace-tray --hidden"),
        "every login starts the tray: {autostart}"
    );

    // IT's settings for the whole machine; the employee has no file of their own.
    std::fs::create_dir_all(root.path("/etc/worktrace")).expect("mkdir");
    std::fs::write(
        root.path("/etc/worktrace/worktrace.toml"),
        format!(
            "[server]\nurl = \"{}\"\nenrollment_token = \"{}\"\n",
            company.url(),
            // One token for the whole fleet: each PC enrolls as the person with its account's
            // login.
            company.fleet_token("alice")
        ),
    )
    .expect("write /etc/worktrace/worktrace.toml");
    root.ok("root", "useradd --create-home alice");

    let check = root.ok("alice", "worktrace config check");
    assert!(
        check.contains("machine-wide settings: /etc/worktrace/worktrace.toml (valid)")
            && check.contains(&format!(
                "company server: {} (an enrollment token is set)",
                company.url()
            )),
        "{check}"
    );
    let session = root.ok(
        "alice",
        &in_keyring_session(
            "worktrace clock-in && sleep 1 && worktrace clock-out && worktrace sync --now \
             && worktrace verify && secret-tool search --all service worktrace 2>&1 | grep -c secret",
        ),
    );
    let records: i64 = session
        .lines()
        .find_map(|l| l.strip_prefix("ok: "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("verify counts the records: {session}"));
    assert!(
        records >= 2,
        "clock-in and clock-out are recorded: {session}"
    );

    let devices = company
        .rt
        .block_on(
            company
                .server
                .as_ref()
                .expect("running")
                .store
                .list_devices(company.admin.org_id),
        )
        .expect("devices");
    assert_eq!(devices.len(), 1, "the PC enrolled once: {devices:?}");
    assert_eq!(devices[0].user_id, company.employee.id);
    assert_eq!(
        devices[0].chain_seq,
        Some(records),
        "every record reached the server"
    );

    // Removing the package keeps the employee's data and IT's settings.
    let database = root.path("/home/alice/.local/share/worktrace/worktrace.db");
    assert!(database.is_file(), "{}", database.display());
    root.ok(
        "root",
        "apt-get remove -y -q worktrace worktrace-agent >/dev/null",
    );
    for exe in ["worktrace", "worktrace-tray", "worktrace-desktop"] {
        assert!(
            !root.path(&format!("/usr/bin/{exe}")).exists(),
            "{exe} is removed"
        );
    }
    assert!(database.is_file(), "the employee's data stays");
    assert!(root.path("/etc/worktrace/worktrace.toml").is_file());

    // The server package: its user, its data folder, a unit that systemd accepts, and the
    // unit's command line serving as that user.
    root.ok(
        "root",
        &format!(
            "apt-get install -y -q {} >/dev/null",
            deb("worktrace-server")
        ),
    );
    let owner = root.ok("root", "stat -c '%U %a' /var/lib/worktrace-server");
    assert_eq!(owner.trim(), "worktrace-server 700", "its own user, 0700");
    let unit = std::fs::read_to_string(root.path("/lib/systemd/system/worktrace-server.service"))
        .expect("the unit file");
    common::succeeds(
        Command::new("systemd-analyze")
            .arg(format!("--root={}", root.dir.path().display()))
            .args(["verify", "/lib/systemd/system/worktrace-server.service"]),
        "systemd-analyze verify",
    );
    let value = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("the unit sets {key}: {unit}"))
            .to_owned()
    };
    let (user, environment, exec) = (value("User"), value("Environment"), value("ExecStart"));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        l.local_addr().expect("addr").port()
    };
    // The unit's command as its user, asked for /healthz over loopback (bash's /dev/tcp: a
    // minimal root has no HTTP client), then stopped.
    let served = root.sh(
        &user,
        &format!(
            "{environment} WORKTRACE_SERVER_LISTEN=127.0.0.1:{port} {exec} 2>/tmp/server.log & \
             pid=$!; \
             for i in $(seq 1 1200); do \
               if bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port} && \
                 printf \"GET /healthz HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3' \
                 >/tmp/health 2>/dev/null; then break; fi; sleep 0.1; done; \
             kill $pid; wait $pid; cat /tmp/health; cat /tmp/server.log >&2; \
             ls /var/lib/worktrace-server"
        ),
    );
    let answer = String::from_utf8_lossy(&served.stdout);
    assert!(
        answer
            .lines()
            .any(|l| l.starts_with("HTTP/1.") && l.contains(" 200 ")),
        "the unit's command serves /healthz: {answer}{}",
        String::from_utf8_lossy(&served.stderr)
    );
    assert!(
        answer.contains("server.db"),
        "its database is in /var/lib/worktrace-server: {answer}"
    );
    root.ok("root", "apt-get remove -y -q worktrace-server >/dev/null");
    assert!(
        root.path("/var/lib/worktrace-server/server.db").is_file(),
        "apt remove keeps the server's database"
    );
    root.ok("root", "apt-get purge -y -q worktrace-server >/dev/null");
    assert!(
        !root.path("/var/lib/worktrace-server").exists(),
        "apt purge removes it"
    );

    // The same programs as RPM packages. This root is Debian, whose libraries no RPM
    // provides, so rpm installs them without its dependency check; what they require is read
    // from the packages instead, and the programs run from where the packages put them.
    let rpm_dir = tempfile::tempdir().expect("tempdir");
    let rpms = build_rpms(rpm_dir.path());
    let rpm_names: Vec<String> = rpms
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        rpm_names.len(),
        3,
        "agent, desktop and server packages: {rpm_names:?}"
    );
    let rpm_of = |name: &str| {
        rpms.iter()
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{name}-0")))
            })
            .and_then(|p| p.to_str())
            .unwrap_or_else(|| panic!("a {name} package among {rpm_names:?}"))
    };
    let requires = rpm(&root, &["-qpR", rpm_of("worktrace")]);
    assert!(
        requires.contains("worktrace-agent >= ") && requires.contains("libwebkit2gtk-4.1.so.0"),
        "the desktop package requires the agent and WebKitGTK: {requires}"
    );
    rpm(&root, &["--initdb"]);
    rpm(
        &root,
        &[
            "-i",
            "--nodeps",
            rpm_of("worktrace-agent"),
            rpm_of("worktrace-server"),
        ],
    );
    let version = root.ok("alice", "worktrace --version");
    assert_eq!(
        version.trim(),
        format!("worktrace {}", env!("CARGO_PKG_VERSION")),
        "the agent from the RPM runs"
    );
    let check = root.ok("alice", "worktrace config check");
    assert!(
        check.contains("machine-wide settings: /etc/worktrace/worktrace.toml (valid)"),
        "{check}"
    );
    let owner = root.ok("root", "stat -c '%U %a' /var/lib/worktrace-server");
    assert_eq!(
        owner.trim(),
        "worktrace-server 700",
        "the server's user, 0700"
    );
    assert!(root
        .path("/usr/lib/systemd/system/worktrace-server.service")
        .is_file());
    rpm(&root, &["-e", "worktrace-agent", "worktrace-server"]);
    assert!(
        !root.path("/usr/bin/worktrace").exists(),
        "rpm -e removes it"
    );
    assert!(
        root.path("/etc/worktrace/worktrace.toml").is_file(),
        "IT's settings stay"
    );
}

/// The agent's package alone, of `version`: this build's `worktrace` stamped with it.
fn agent_deb(out: &Path, version: &str) -> PathBuf {
    let bin = out.join(format!("bin-{version}"));
    std::fs::create_dir_all(&bin).expect("mkdir");
    let exe = std::fs::read(env!("CARGO_BIN_EXE_worktrace")).expect("the built agent");
    let stamped = worktrace_agent::version::stamp(&exe, version).expect("stamps");
    std::fs::write(bin.join("worktrace"), stamped).expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            bin.join("worktrace"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/package-deb.sh");
    common::succeeds(
        Command::new(&script)
            .env("DEB_COMPRESSION", "none")
            .env("DEB_PACKAGES", "worktrace-agent")
            .arg(&bin)
            .arg(version)
            .arg(out),
        "scripts/package-deb.sh (the agent alone)",
    );
    let arch = common::succeeds(
        Command::new("dpkg-architecture").arg("-qDEB_HOST_ARCH"),
        "dpkg-architecture",
    );
    let deb = out.join(format!(
        "worktrace-agent_{version}_{}.deb",
        String::from_utf8_lossy(&arch.stdout).trim()
    ));
    assert!(deb.is_file(), "{} is built", deb.display());
    deb
}

/// Signs `file` as a `deb` release of this platform, with the secret key `key`.
fn sign_deb(file: &Path, key: &Path, version: &str) {
    let platform = worktrace_domain::update::platform(std::env::consts::OS, std::env::consts::ARCH);
    minisign::sign(
        file,
        key,
        &format!("worktrace-release {platform} deb {version}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// The installed version of the agent's package in the root, as dpkg knows it.
fn installed_version(root: &Root) -> String {
    root.ok("root", "dpkg-query -W -f '${Version}' worktrace-agent")
        .trim()
        .to_owned()
}

const SPOOL: &str = "/var/lib/worktrace/updates";

/// `alice` leaves `file` (from /tmp/packages) and its signature in the spool as `name` by hand
/// (as her agent does, but anything: every user may).
fn drop_in_spool(root: &Root, file: &str, name: &str) {
    root.ok(
        "alice",
        &format!(
            "cp /tmp/packages/{file}.minisig {SPOOL}/{name}.minisig && \
             cp /tmp/packages/{file} {SPOOL}/{name}.part && mv {SPOOL}/{name}.part {SPOOL}/{name}"
        ),
    );
}

#[test]
fn the_agent_deb_installs_signed_updates_from_the_spool_as_root_and_refuses_bad_ones() {
    let current = env!("CARGO_PKG_VERSION");
    let parsed = semver::Version::parse(current).expect("the crate's version");
    let newer = format!("{}.{}.{}", parsed.major, parsed.minor, parsed.patch + 1);
    let newest = format!("{}.{}.{}", parsed.major, parsed.minor, parsed.patch + 2);
    let work = tempfile::tempdir().expect("tempdir");
    let test_key = PathBuf::from(minisign::TEST_KEY);
    let stranger = minisign::stranger_key(work.path()).unwrap_or_else(|e| panic!("{e}"));

    let first = agent_deb(&work.path().join("first"), current);
    let update = agent_deb(&work.path().join("update"), &newer);
    sign_deb(&update, &test_key, &newer);
    // The refused ones: another key's signature; a file cut short under a good signature; the
    // first version again (a downgrade); a file signed as a newer deb that dpkg cannot read.
    let bad_key = agent_deb(&work.path().join("bad-key"), &newest);
    sign_deb(&bad_key, &stranger, &newest);
    let truncated = work.path().join("truncated.deb");
    std::fs::copy(&bad_key, &truncated).expect("copy");
    sign_deb(&truncated, &test_key, &newest);
    let len = std::fs::metadata(&truncated).expect("size").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&truncated)
        .and_then(|f| f.set_len(len / 2))
        .expect("cut short");
    let downgrade = work.path().join("downgrade.deb");
    std::fs::copy(&first, &downgrade).expect("copy");
    sign_deb(&downgrade, &test_key, current);
    let not_a_deb = work.path().join("not-a-deb.deb");
    std::fs::write(&not_a_deb, b"signed, but no Debian package").expect("write");
    sign_deb(&not_a_deb, &test_key, &newest);

    // systemd's own units (sysinit.target, paths.target) for systemd-analyze verify; the
    // employee's session for the running agent (a Secret Service).
    let root = Root::new(&["systemd", "dbus", "gnome-keyring"]);
    std::fs::create_dir_all(root.path("/tmp/packages")).expect("mkdir");
    let copy_in = |from: &Path, name: &str| {
        std::fs::copy(from, root.path("/tmp/packages").join(name)).expect("copy in");
        let sig = PathBuf::from(format!("{}.minisig", from.display()));
        if sig.is_file() {
            std::fs::copy(
                &sig,
                root.path("/tmp/packages").join(format!("{name}.minisig")),
            )
            .expect("copy in");
        }
    };
    copy_in(&first, "first.deb");
    copy_in(&update, "update.deb");
    copy_in(&bad_key, "bad-key.deb");
    copy_in(&truncated, "truncated.deb");
    copy_in(&downgrade, "downgrade.deb");
    copy_in(&not_a_deb, "not-a-deb.deb");
    root.ok(
        "root",
        "chmod -R a+rX /tmp/packages && apt-get install -y -q --no-install-recommends \
         /tmp/packages/first.deb >/dev/null",
    );
    assert_eq!(installed_version(&root), current);

    // The spool: anyone may drop files, nobody may list it or touch another's files.
    let mode = root.ok("root", &format!("stat -c '%U %G %a' {SPOOL}"));
    assert_eq!(
        mode.trim(),
        "root root 1733",
        "the postinst makes the spool"
    );
    for unit in ["worktrace-update.path", "worktrace-update.service"] {
        assert!(
            root.path(&format!("/lib/systemd/system/{unit}")).is_file(),
            "{unit}"
        );
        common::succeeds(
            Command::new("systemd-analyze")
                .arg(format!("--root={}", root.dir.path().display()))
                .args(["verify", &format!("/lib/systemd/system/{unit}")]),
            &format!("systemd-analyze verify {unit}"),
        );
    }
    let path_unit = std::fs::read_to_string(root.path("/lib/systemd/system/worktrace-update.path"))
        .expect("the path unit");
    assert!(
        path_unit.contains(&format!("PathExistsGlob={SPOOL}/*.deb")),
        "the path unit watches the spool: {path_unit}"
    );

    // The company's settings for the machine; its server offers the signed newer package.
    let company = Company::start();
    std::fs::create_dir_all(root.path("/etc/worktrace")).expect("mkdir");
    std::fs::write(
        root.path("/etc/worktrace/worktrace.toml"),
        format!(
            "[agent]\npoll_interval_ms = 250\ncheckpoint_interval_ms = 500\n\n\
             [server]\nurl = \"{}\"\nenrollment_token = \"{}\"\nsync_interval_secs = 1\n",
            company.url(),
            company.fleet_token("alice")
        ),
    )
    .expect("write /etc/worktrace/worktrace.toml");
    let signature =
        std::fs::read_to_string(format!("{}.minisig", update.display())).expect("signature");
    company.add_release(&update, &signature, "stable");
    company.set_org_policy(r#"{"update": {"channel": "stable", "check_interval_secs": 10}}"#);
    let sha256 = common::sha256_of(&update);

    // Alice's agent runs on her display with her keyring: it enrolls, uploads, downloads and
    // verifies the release and leaves it in the spool, as it cannot install a package.
    root.ok("root", "useradd --create-home alice");
    root.ok("alice", "worktrace clock-in");
    let x = worktrace_testkit::XSession::start().expect("start Xvfb and openbox");
    let log = work.path().join("agent.log");
    let mut agent = RunningAgent {
        root: &root,
        child: Some(root.spawn(
            "alice",
            &in_keyring_session(&format!(
                "DISPLAY={} WORKTRACE_LOG=warn worktrace run --quiet",
                x.display()
            )),
            &log,
        )),
    };
    let agent_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let spooled_file = root.path(&format!("{SPOOL}/{sha256}.deb"));
    let mut problem = serde_json::Value::Null;
    common::wait_for(
        UPDATE_PATIENCE,
        &format!("the agent to spool {newer}"),
        || {
            if let Some(Ok(Some(status))) = agent.child.as_mut().map(std::process::Child::try_wait)
            {
                panic!("the agent ended with {status}: {}", agent_log());
            }
            problem = company.device()["update_problem"].clone();
            spooled_file.is_file()
                && problem.as_str().is_some_and(|p| {
                    p.starts_with(&format!(
                        "{newer}: downloaded and verified; waiting for the system"
                    ))
                })
        },
    );
    assert_eq!(
        std::fs::read(&spooled_file).expect("spooled"),
        std::fs::read(&update).expect("the release"),
        "the spooled file is the release"
    );
    assert_eq!(
        root.ok("root", &format!("stat -c '%U' {SPOOL}/{sha256}.deb"))
            .trim(),
        "alice",
        "left by the agent, as the employee"
    );
    assert_eq!(company.device()["agent_version"], current);
    let pid = agent.pid();

    // The system's applier (the service the path unit starts) installs it as root; the
    // running agent learns it from the results, starts the new version at its next safe moment
    // in the same process, and the server sees the new version.
    let applied = root.ok("root", &format!("worktrace update apply-spool {SPOOL}"));
    assert!(
        applied.contains(&format!(
            "{sha256}.deb (release {newer}): installed with dpkg -i (was {current})"
        )),
        "the applier says what it installed: {applied}"
    );
    assert_eq!(installed_version(&root), newer, "dpkg has the new version");
    let mut device = serde_json::Value::Null;
    common::wait_for(
        UPDATE_PATIENCE,
        &format!("the running agent to report {newer}"),
        || {
            device = company.device();
            device["agent_version"] == newer.as_str() && device["update_problem"].is_null()
        },
    );
    assert_eq!(agent.pid(), pid, "the same process runs the new version");
    let said = agent_log();
    assert!(
        said.contains(&format!("the system installed update {newer}"))
            && said.contains(&format!("updated from {current} to {newer}")),
        "the agent logs the update: {said}"
    );
    let stopped = agent.stop();
    assert!(stopped.success(), "the agent stops cleanly: {stopped}");
    let before = root.ok("alice", "worktrace verify");
    assert!(
        before.contains("ok: "),
        "the chain verifies across the update: {before}"
    );
    assert_eq!(
        root.ok("alice", "worktrace --version").trim(),
        format!("worktrace {newer}"),
        "the installed program is the new one"
    );
    let listed = root.sh("alice", &format!("ls {SPOOL}"));
    assert!(!listed.status.success(), "a user cannot list the spool");
    let spooled = root.ok("root", &format!("ls -A {SPOOL}"));
    assert_eq!(
        spooled.trim(),
        "results.json",
        "the package is out of the spool: {spooled}"
    );
    // What the agents read (by name: they cannot list the folder), written by root.
    let results: serde_json::Value =
        serde_json::from_str(&root.ok("alice", &format!("cat {SPOOL}/results.json")))
            .expect("results are JSON");
    assert_eq!(results[0]["version"], newer.as_str(), "{results}");
    assert_eq!(results[0]["ok"], true, "{results}");
    assert_eq!(
        root.ok("root", &format!("stat -c '%U %a' {SPOOL}/results.json"))
            .trim(),
        "root 644"
    );
    assert!(
        !root
            .sh("alice", &format!("rm -f {SPOOL}/results.json"))
            .status
            .success(),
        "a user cannot remove root's results"
    );

    // Each refused with its own line; the installed version stays.
    drop_in_spool(&root, "bad-key.deb", "b1.deb");
    drop_in_spool(&root, "truncated.deb", "b2.deb");
    drop_in_spool(&root, "downgrade.deb", "b3.deb");
    drop_in_spool(&root, "not-a-deb.deb", "b4.deb");
    // What an agent that stopped while copying leaves, two days ago.
    root.ok(
        "alice",
        &format!(
            "cp /tmp/packages/update.deb {SPOOL}/cut.deb.99-1.part && \
             touch -d '2 days ago' {SPOOL}/cut.deb.99-1.part"
        ),
    );
    let refused = root.ok("root", &format!("worktrace update apply-spool {SPOOL}"));
    assert!(
        refused.contains(
            "removed cut.deb.99-1.part, left in the spool for more than 24 hours and no release"
        ),
        "a stale temporary file is removed: {refused}"
    );
    let line = |name: &str| {
        refused
            .lines()
            .find(|l| l.contains(&format!("refused {name} ")))
            .unwrap_or_else(|| panic!("a line refusing {name}: {refused}"))
            .to_owned()
    };
    let stays = format!("{newer} stays installed");
    for (name, why) in [
        ("b1.deb", "does not match its signature"),
        ("b2.deb", "does not match its signature"),
        ("b3.deb", "older than the installed"),
        ("b4.deb", "dpkg -i ended with"),
    ] {
        let l = line(name);
        assert!(l.contains(why) && l.contains(&stays), "{name}: {l}");
    }
    assert_eq!(
        installed_version(&root),
        newer,
        "every bad one left the installed version"
    );
    assert_eq!(
        root.ok("alice", "worktrace --version").trim(),
        format!("worktrace {newer}")
    );
    let spooled = root.ok("root", &format!("ls -A {SPOOL}"));
    assert_eq!(
        spooled.trim(),
        "results.json",
        "refused files are removed too: {spooled}"
    );

    // Safe to run often: nothing spooled, nothing done, nothing written.
    let results_before = std::fs::read(root.path(&format!("{SPOOL}/results.json"))).expect("read");
    let idle = root.ok("root", &format!("worktrace update apply-spool {SPOOL}"));
    assert!(idle.trim().is_empty(), "an idle run says nothing: {idle}");
    assert_eq!(
        std::fs::read(root.path(&format!("{SPOOL}/results.json"))).expect("read"),
        results_before,
        "an idle run writes nothing"
    );
}
