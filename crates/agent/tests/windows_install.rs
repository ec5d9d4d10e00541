//! The Windows installer under Wine: the MSI that `scripts/package-msi.sh` builds with wixl
//! from the Windows builds of `worktrace.exe` and `worktrace-tray.exe`, installed silently by
//! Wine's real `msiexec` the way IT deploys it (`/qn SERVER_URL=… ENROLLMENT_TOKEN=…`), then
//! upgraded in place by the system's update applier (`worktrace.exe update apply-spool`, run
//! directly: the scheduled task that runs it as SYSTEM cannot be made under Wine, whose
//! schtasks lacks `/RU` and `/SC`) from a signed newer MSI that the company server offered and
//! the installed tray, started as at login, downloaded, verified and left in the spool; the
//! tray at the next login runs and reports the new version. The applier refuses a badly
//! signed MSI and a downgrade left there by hand; refused as a downgrade by msiexec, removed keeping the
//! employee's data, and removed with `REMOVE_DATA=1` taking it.
//!
//! Not exercised here (Wine has no such thing): Group Policy or Intune pushing the MSI, a
//! second Windows account on the same PC, and the tray started by a real login (the test reads
//! the Run entry that Windows would start it from, and starts it the same way).

mod common;
mod company;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::windows::how_it_ended;
use company::{active_of, window, Company, MIN, T0};
use serde_json::Value;
use worktrace_store::{DayClock, Store};
use worktrace_testkit::minisign;
use worktrace_testkit::wine::{self, WinePrefix};
use worktrace_testkit::XSession;

/// How long `msiexec` or one `worktrace.exe` command may take under Wine on a busy machine.
const PATIENCE: Duration = Duration::from_secs(180);
/// Where the MSI installs the agent, as Windows names it.
const INSTALLED: &str = r"C:\Program Files\Worktrace\worktrace.exe";
/// The spool the MSI makes, where agents leave updates for the system.
const SPOOL: &str = r"C:\ProgramData\Worktrace\updates";

/// Builds the MSI of the given version from the Windows builds next to this test's agent.
/// A self-signed code-signing certificate and its key (PEM), made with openssl, as a company
/// would use its own.
fn code_signing_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("signing.pem"), dir.join("signing.key"));
    common::succeeds(
        Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=Worktrace test signing"])
            .args(["-addext", "extendedKeyUsage=codeSigning"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
        "openssl req",
    );
    (cert, key)
}

/// Whether `file` carries an Authenticode signature that verifies with `cert` as its root.
fn signed_by(file: &Path, cert: &Path) -> bool {
    Command::new("osslsigncode")
        .arg("verify")
        .arg("-CAfile")
        .arg(cert)
        .arg("-in")
        .arg(file)
        .output()
        .expect("osslsigncode runs (make deps installs it)")
        .status
        .success()
}

fn build_msi(out_dir: &Path, version: &str, signing: Option<&(PathBuf, PathBuf)>) -> PathBuf {
    let exe = wine::windows_binary(env!("CARGO_BIN_EXE_worktrace").as_ref(), "worktrace")
        .expect("the Windows build of worktrace");
    wine::windows_binary(env!("CARGO_BIN_EXE_worktrace").as_ref(), "worktrace-tray")
        .expect("the Windows build of worktrace-tray (make windows)");
    // The programs of this version: both stamped with it, as a release is.
    let bin = out_dir.join(format!("bin-{version}"));
    std::fs::create_dir_all(&bin).expect("mkdir");
    let built = std::fs::read(&exe).expect("the Windows build");
    let stamped = worktrace_agent::version::stamp(&built, version).expect("stamps");
    std::fs::write(bin.join("worktrace.exe"), stamped).expect("write");
    let tray = std::fs::read(exe.with_file_name("worktrace-tray.exe")).expect("the tray's build");
    let stamped = worktrace_agent::version::stamp(&tray, version).expect("stamps the tray");
    std::fs::write(bin.join("worktrace-tray.exe"), stamped).expect("write");
    let bin = bin.as_path();
    let msi = out_dir.join(format!("worktrace-{version}-x64.msi"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/package-msi.sh");
    let mut build = Command::new(&script);
    build.arg(bin).arg(version).arg(&msi);
    if let Some((cert, key)) = signing {
        build
            .env("WINDOWS_SIGN_CERT", cert)
            .env("WINDOWS_SIGN_KEY", key);
    }
    common::succeeds(&mut build, "scripts/package-msi.sh");
    msi
}

/// A Linux path as Wine's `Z:` drive names it.
fn on_z(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// `C:\…` of the prefix as a Linux path.
fn on_linux(prefix: &WinePrefix, windows: &str) -> PathBuf {
    let rest = windows
        .strip_prefix("C:\\")
        .or_else(|| windows.strip_prefix("c:\\"))
        .unwrap_or_else(|| panic!("a path on C: {windows:?}"));
    rest.split('\\')
        .fold(prefix.drive_c(), |path, part| path.join(part))
}

fn msiexec(prefix: &WinePrefix, args: &[&str]) -> Output {
    let mut cmd = prefix.command("msiexec");
    cmd.args(args);
    wine::run_to_end(cmd, &format!("msiexec {args:?}"), PATIENCE).unwrap_or_else(|e| panic!("{e}"))
}

/// `reg query KEY` in the prefix: its text, or `None` when the key does not exist.
fn reg_query(prefix: &WinePrefix, key: &str) -> Option<String> {
    let mut cmd = prefix.command("reg");
    cmd.args(["query", key]);
    let out = wine::run_to_end(cmd, "reg query", PATIENCE).unwrap_or_else(|e| panic!("{e}"));
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The installed agent, started as the tray starts it: no `--config`, no data folder named,
/// so it finds its settings and data where an installed agent does.
fn installed(prefix: &WinePrefix, args: &[&str]) -> String {
    let mut cmd = prefix.command(INSTALLED);
    cmd.args(args).env("TZ", "UTC").env("NO_COLOR", "1");
    let out = wine::run_to_end(cmd, &format!("worktrace.exe {args:?}"), PATIENCE)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "the installed worktrace.exe {args:?} failed: {}",
        how_it_ended(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn installed_versions(prefix: &WinePrefix) -> Vec<String> {
    let mut cmd = prefix.command("reg");
    cmd.args([
        "query",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall",
        "/s",
    ]);
    let out = wine::run_to_end(cmd, "reg query", PATIENCE).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    // One uninstall entry per product: its values follow its key line, a blank line ends it.
    text.split("\n\n")
        .filter(|entry| entry.contains("DisplayName    REG_SZ    Worktrace"))
        .filter_map(|entry| {
            entry
                .lines()
                .find_map(|l| l.trim().strip_prefix("DisplayVersion    REG_SZ    "))
                .map(|v| v.trim().to_owned())
        })
        .collect()
}

/// Signs `msi` as the Windows MSI release `version` with the secret key `key`, into
/// `MSI.minisig`.
fn sign_msi(msi: &Path, key: &Path, version: &str) {
    let platform = worktrace_domain::update::platform("windows", "x86_64");
    minisign::sign(
        msi,
        key,
        &format!("worktrace-release {platform} msi {version}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// The installed tray, started as every login starts it (`--hidden`, no settings named).
fn start_tray(prefix: &WinePrefix) -> std::process::Child {
    let tray = INSTALLED.replace("worktrace.exe", "worktrace-tray.exe");
    prefix
        .command(tray)
        .arg("--hidden")
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .env("WORKTRACE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the installed worktrace-tray.exe")
}

/// Asks the tray to end as Windows does at logoff (`taskkill` without `/F`: `WM_CLOSE`) and
/// returns what it logged.
fn stop_tray(prefix: &WinePrefix, tray: std::process::Child) -> String {
    let mut cmd = prefix.command("taskkill");
    cmd.args(["/IM", "worktrace-tray.exe"]);
    wine::run_to_end(cmd, "taskkill", PATIENCE).unwrap_or_else(|e| panic!("{e}"));
    let out = wine::collect(tray, "the tray to end", PATIENCE).unwrap_or_else(|e| panic!("{e}"));
    let log = wine::program_stderr(&out.stderr);
    assert!(
        out.status.success(),
        "the tray ends cleanly: {}\n{log}",
        out.status
    );
    log
}

/// Leaves `msi` and its signature in the prefix's spool as `name` by hand, as any user of the PC
/// could.
fn spool(prefix: &WinePrefix, msi: &Path, name: &str) {
    let dir = on_linux(prefix, SPOOL);
    std::fs::copy(
        format!("{}.minisig", msi.display()),
        dir.join(format!("{name}.minisig")),
    )
    .expect("spool the signature");
    std::fs::copy(msi, dir.join(name)).expect("spool the MSI");
}

fn append(database: &Path, minutes_in: i64, minutes: i64) {
    let mut store = Store::open(database, DayClock::default()).expect("store");
    store
        .append(&[window(T0 + minutes_in * MIN, minutes, "excel.exe")])
        .expect("append");
}

#[test]
fn the_msi_installs_silently_with_the_company_settings_upgrades_in_place_and_uninstalls() {
    let company = Company::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let signing = code_signing_cert(dir.path());
    let v1 = build_msi(dir.path(), "0.1.0", None);
    // The upgrade is code-signed (Authenticode), its programs and the MSI itself.
    let v2 = build_msi(dir.path(), "0.1.1", Some(&signing));
    assert!(signed_by(&v2, &signing.0), "the MSI is signed");
    assert!(
        !signed_by(&v1, &signing.0),
        "without a certificate nothing is signed"
    );
    // A display for the tray (its icon and session window), as a logged-in employee has.
    let x = XSession::start().expect("start Xvfb and openbox (see testkit's message)");
    let prefix = WinePrefix::new(Some(x.display())).expect("a fresh Wine prefix");

    // The employee's own settings name another server: the machine's settings win.
    let user_config = prefix
        .user_profile()
        .join("AppData")
        .join("Roaming")
        .join("worktrace")
        .join("config");
    std::fs::create_dir_all(&user_config).expect("the user's config folder");
    std::fs::write(
        user_config.join("worktrace.toml"),
        "[server]\nurl = \"http://127.0.0.1:1\"\n",
    )
    .expect("the user's settings");

    // One token for the whole fleet; the PC's account (Wine's user) is the employee's login.
    let token = company.fleet_token(prefix.user());
    let server_url = format!("SERVER_URL={}", company.url());
    let enrollment = format!("ENROLLMENT_TOKEN={token}");
    let out = msiexec(
        &prefix,
        &["/i", &on_z(&v1), "/qn", &server_url, &enrollment],
    );
    assert!(
        out.status.success(),
        "silent install: {}",
        how_it_ended(&out)
    );

    // Files in Program Files, the settings in the registry, the tray at every login.
    for exe in ["worktrace.exe", "worktrace-tray.exe"] {
        let path = on_linux(&prefix, &format!(r"C:\Program Files\Worktrace\{exe}"));
        assert!(path.is_file(), "{} is installed", path.display());
    }
    let policy = reg_query(&prefix, r"HKLM\SOFTWARE\Policies\Worktrace")
        .expect("the installer writes the machine policy key");
    assert!(
        policy.contains(&format!("ServerUrl    REG_SZ    {}", company.url()))
            && policy.contains(&format!("EnrollmentToken    REG_SZ    {token}")),
        "both properties are written: {policy}"
    );
    let run = reg_query(
        &prefix,
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run",
    )
    .expect("the Run key");
    assert!(
        run.contains(
            r#"Worktrace    REG_SZ    "C:\Program Files\Worktrace\worktrace-tray.exe" --hidden"#
        ),
        "every user's login starts the tray: {run}"
    );
    assert_eq!(
        installed_versions(&prefix),
        ["0.1.0"],
        "one uninstall entry"
    );

    // The installed agent reads them, enrolls with the token at its first round and uploads.
    let check = installed(&prefix, &["config", "check"]);
    assert!(
        check.contains(r"machine policy: HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Worktrace")
            && check.contains(&format!(
                "company server: {} (an enrollment token is set)",
                company.url()
            )),
        "the machine policy wins over the user's file: {check}"
    );
    let data_dir = check
        .lines()
        .find_map(|l| l.strip_prefix("data directory: "))
        .unwrap_or_else(|| panic!("config check names the data folder: {check}"))
        .trim()
        .to_owned();
    let database = on_linux(&prefix, &data_dir).join("worktrace.db");
    append(&database, 0, 10);
    installed(&prefix, &["sync", "--now"]);
    assert_eq!(
        active_of(&company.day(), "excel.exe"),
        10 * MIN,
        "enrolled and uploaded"
    );

    // Upgrade in place by the system's applier, from a signed MSI a user's agent left in the
    // spool (msiexec without the properties): the settings, the enrollment and the data stay.
    assert!(
        on_linux(&prefix, SPOOL).is_dir(),
        "the MSI makes the spool folder"
    );
    // The company server offers it; the tray that every login starts (installed by the MSI,
    // which carries the tray too) downloads and verifies it and leaves it there.
    let test_key = PathBuf::from(minisign::TEST_KEY);
    sign_msi(&v2, &test_key, "0.1.1");
    let signature = std::fs::read_to_string(format!("{}.minisig", v2.display())).expect("sig");
    company.add_release(&v2, &signature, "stable");
    company.set_org_policy(r#"{"update": {"channel": "stable", "check_interval_secs": 10}}"#);
    let sha256 = common::sha256_of(&v2);
    let spooled = on_linux(&prefix, SPOOL).join(format!("{sha256}.msi"));
    std::fs::write(
        on_linux(&prefix, &data_dir).join("desktop.json"),
        r#"{"consent_given": true}"#,
    )
    .expect("the employee accepted the first-start screen");
    let tray = start_tray(&prefix);
    let mut problem = Value::Null;
    common::wait_for(
        PATIENCE,
        "the tray to hand the release to the system",
        || {
            problem = company.device()["update_problem"].clone();
            spooled.is_file()
                && problem.as_str().is_some_and(|p| {
                    p.starts_with("0.1.1: downloaded and verified; waiting for the system")
                })
        },
    );
    assert!(
        on_linux(&prefix, SPOOL)
            .join(format!("{sha256}.msi.minisig"))
            .is_file(),
        "its signature beside it"
    );
    assert_eq!(
        std::fs::read(&spooled).expect("spooled"),
        std::fs::read(&v2).expect("the release"),
        "the spooled file is the release"
    );
    let log = stop_tray(&prefix, tray);
    assert!(
        log.contains("update 0.1.1: downloaded and verified; waiting for the system"),
        "the tray logs it: {log}"
    );
    assert_eq!(company.device()["agent_version"], "0.1.0");

    // The system's applier installs it (run here directly, as the task would).
    let applied = installed(&prefix, &["update", "apply-spool", SPOOL]);
    assert!(
        applied.contains(&format!(
            "{sha256}.msi (release 0.1.1): installed with msiexec /i"
        )) && applied.contains("(was 0.1.0)"),
        "the applier installs the signed newer MSI: {applied}"
    );
    // The applier runs from the installed worktrace.exe, which msiexec is replacing: it answers
    // 3010 and the new file takes its place at the next restart of Windows. Wine's restart of
    // a prefix is its next start once every program of it has ended (wineboot then carries out
    // the pending renames, as Windows does when it starts).
    assert!(
        applied.contains("Windows must restart to finish"),
        "the applier says the update finishes at the next restart: {applied}"
    );
    prefix
        .wait_idle(PATIENCE)
        .unwrap_or_else(|e| panic!("the prefix ends its programs: {e}"));
    assert_eq!(
        installed(&prefix, &["--version"]).trim(),
        "worktrace 0.1.1",
        "the new worktrace.exe is installed"
    );
    let left: Vec<String> = std::fs::read_dir(on_linux(&prefix, SPOOL))
        .expect("the spool")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["results.json"], "the MSI is out of the spool");
    assert_eq!(
        installed_versions(&prefix),
        ["0.1.1"],
        "the upgrade replaced 0.1.0"
    );
    for exe in ["worktrace.exe", "worktrace-tray.exe"] {
        let path = on_linux(&prefix, &format!(r"C:\Program Files\Worktrace\{exe}"));
        assert!(
            signed_by(&path, &signing.0),
            "the installed {exe} is signed"
        );
    }
    let policy = reg_query(&prefix, r"HKLM\SOFTWARE\Policies\Worktrace")
        .expect("the policy key after the upgrade");
    assert!(
        policy.contains(&format!("ServerUrl    REG_SZ    {}", company.url())),
        "an upgrade that names no server keeps the one installed: {policy}"
    );
    // At the next login the tray runs 0.1.1: it reports it, and the problem is over.
    let tray = start_tray(&prefix);
    let mut device = Value::Null;
    common::wait_for(PATIENCE, "the tray to report 0.1.1", || {
        device = company.device();
        device["agent_version"] == "0.1.1" && device["update_problem"].is_null()
    });
    let log = stop_tray(&prefix, tray);
    assert!(
        log.contains("the system's update to 0.1.1 runs"),
        "the tray logs it: {log}"
    );
    append(&database, 10, 5);
    installed(&prefix, &["sync", "--now"]);
    installed(&prefix, &["sync", "--now"]);
    assert_eq!(
        active_of(&company.day(), "excel.exe"),
        15 * MIN,
        "the upgraded agent uploads as the same device, exactly once"
    );
    let verified = Store::open(&database, DayClock::default())
        .expect("store")
        .verify()
        .expect("verify");
    assert!(
        verified.first_broken.is_none(),
        "the chain is intact across the upgrade"
    );

    // Through the spool, a badly signed MSI and an older one are refused; 0.1.1 stays.
    let stranger = minisign::stranger_key(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let bad = dir.path().join("bad-signature.msi");
    std::fs::copy(&v2, &bad).expect("copy");
    sign_msi(&bad, &stranger, "0.1.2");
    sign_msi(&v1, &test_key, "0.1.0");
    spool(&prefix, &bad, "a-bad-signature.msi");
    spool(&prefix, &v1, "b-older.msi");
    let refused = installed(&prefix, &["update", "apply-spool", SPOOL]);
    for (name, why) in [
        ("a-bad-signature.msi", "does not match its signature"),
        ("b-older.msi", "older than the installed 0.1.1"),
    ] {
        assert!(
            refused
                .lines()
                .any(|l| l.contains(&format!("refused {name} "))
                    && l.contains(why)
                    && l.contains("0.1.1 stays installed")),
            "{name} is refused ({why}): {refused}"
        );
    }
    assert_eq!(installed_versions(&prefix), ["0.1.1"], "still 0.1.1");

    // An older MSI is refused and changes nothing.
    let out = msiexec(&prefix, &["/i", &on_z(&v1), "/qn"]);
    assert!(
        !out.status.success(),
        "a downgrade must be refused: {}",
        how_it_ended(&out)
    );
    assert_eq!(installed_versions(&prefix), ["0.1.1"]);

    // Uninstall: the program and the machine settings go, the employee's data stays.
    let out = msiexec(&prefix, &["/x", &on_z(&v2), "/qn"]);
    assert!(out.status.success(), "uninstall: {}", how_it_ended(&out));
    assert!(
        !on_linux(&prefix, INSTALLED).exists(),
        "the program is removed"
    );
    assert!(
        reg_query(&prefix, r"HKLM\SOFTWARE\Policies\Worktrace")
            .is_none_or(|key| !key.contains("ServerUrl") && !key.contains("EnrollmentToken")),
        "the installer's settings are removed"
    );
    assert!(installed_versions(&prefix).is_empty(), "no uninstall entry");
    assert!(database.is_file(), "the employee's data stays");
    let (_, records) = common::all_records(&database);
    assert_eq!(records.len(), 2, "every record is still there");

    // Installed again and uninstalled with REMOVE_DATA=1: every user's Worktrace folders go.
    let out = msiexec(&prefix, &["/i", &on_z(&v2), "/qn"]);
    assert!(out.status.success(), "reinstall: {}", how_it_ended(&out));
    let out = msiexec(&prefix, &["/x", &on_z(&v2), "/qn", "REMOVE_DATA=1"]);
    assert!(
        out.status.success(),
        "uninstall with REMOVE_DATA=1: {}",
        how_it_ended(&out)
    );
    assert!(
        !on_linux(&prefix, INSTALLED).exists(),
        "the program is removed"
    );
    let folder = prefix
        .user_profile()
        .join("AppData")
        .join("Roaming")
        .join("worktrace");
    assert!(
        !database.exists() && !folder.exists(),
        "the employee's data and settings are removed: {}",
        folder.display()
    );
}
