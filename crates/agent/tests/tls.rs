//! The agent and a server that serves HTTPS itself with a certificate from a test CA: the
//! agent enrolls and uploads when `[server] ca_file` trusts that CA or `pin_sha256` pins the
//! certificate; a wrong pin and an untrusted certificate are refused with messages that say
//! what was seen and what to set, and nothing is sent; plain `http://` to another machine is
//! refused before any connection, at enrollment and by `config check`.

mod common;
mod company;
mod pc;

use common::Env;
use company::{window, Company, MIN, T0};
use pc::{Keyring, Pc};
use worktrace_domain::{ClockOutReason, Record};
use worktrace_server::tls::TlsFiles;
use worktrace_testkit::tls::TestPki;

fn pki() -> TestPki {
    TestPki::new().unwrap_or_else(|e| panic!("{e}"))
}

fn https_company(pki: &TestPki) -> Company {
    let company = Company::with_tls(TlsFiles {
        cert: pki.server_cert.clone(),
        key: pki.server_key.clone(),
    });
    assert!(
        company.url().starts_with("https://127.0.0.1:"),
        "{}",
        company.url()
    );
    company
}

fn toml_path(path: &std::path::Path) -> String {
    path.to_str().expect("utf-8 path").replace('\\', "\\\\")
}

/// Enrolls, records an hour of work and uploads it: the server acknowledges the batch.
fn enroll_and_upload(pc: &Pc, company: &Company) {
    pc.enroll(&company.url(), &company.token());
    pc.append(&[
        Record::ClockIn { at: T0 },
        window(T0, 60, "localc"),
        Record::ClockOut {
            at: T0 + 60 * MIN,
            reason: ClockOutReason::Manual,
        },
    ]);
    let out = pc.ok(&["sync", "--now"]);
    assert!(
        out.contains("sent 1 batches"),
        "the upload over HTTPS is acknowledged: {out}"
    );
}

#[test]
fn enrolls_and_uploads_over_https_trusting_the_ca_file() {
    let pki = pki();
    let company = https_company(&pki);
    let keyring = Keyring::start();
    let pc = Pc::with_settings(
        &keyring,
        &format!("[server]\nca_file = \"{}\"\n", toml_path(&pki.ca_cert)),
    );
    enroll_and_upload(&pc, &company);
}

#[test]
fn enrolls_and_uploads_over_https_with_the_certificate_pinned() {
    let pki = pki();
    let company = https_company(&pki);
    let keyring = Keyring::start();
    // The pin as `openssl x509 -fingerprint -sha256` prints it: upper case with colons.
    let pin = pki
        .server_sha256()
        .to_ascii_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":");
    let pc = Pc::with_settings(&keyring, &format!("[server]\npin_sha256 = \"{pin}\"\n"));
    enroll_and_upload(&pc, &company);
}

#[test]
fn a_wrong_pin_is_refused_showing_the_fingerprint_seen_and_nothing_is_sent() {
    let pki = pki();
    let company = https_company(&pki);
    let keyring = Keyring::start();
    let wrong = "0".repeat(64);
    let pc = Pc::with_settings(
        &keyring,
        &format!(
            "[server]\nca_file = \"{}\"\npin_sha256 = \"{wrong}\"\n",
            toml_path(&pki.ca_cert)
        ),
    );
    let token = company.token();
    let err = pc.fails(&["enroll", "--server", &company.url(), "--token", &token]);
    assert!(
        err.contains(&pki.server_sha256()) && err.contains(&wrong) && err.contains("pin_sha256"),
        "the refusal shows the fingerprint seen, the pinned one and the setting: {err}"
    );
    assert!(
        keyring.worktrace_secrets().is_empty(),
        "no secret was received"
    );
    // The token never reached the server: a PC that trusts the CA enrolls with it afterwards.
    let good = Pc::with_settings(
        &keyring,
        &format!("[server]\nca_file = \"{}\"\n", toml_path(&pki.ca_cert)),
    );
    good.enroll(&company.url(), &token);
}

#[test]
fn an_untrusted_certificate_is_refused_saying_what_to_set() {
    let pki = pki();
    let company = https_company(&pki);
    let keyring = Keyring::start();
    // The system's roots do not know the test CA.
    let pc = Pc::new(&keyring);
    let err = pc.fails(&[
        "enroll",
        "--server",
        &company.url(),
        "--token",
        &company.token(),
    ]);
    assert!(
        err.contains("certificate") && err.contains("ca_file"),
        "an unknown CA is refused, naming the setting that trusts one: {err}"
    );
    // Another CA in ca_file replaces the system's roots and does not vouch for this server.
    let other = TestPki::new().unwrap_or_else(|e| panic!("{e}"));
    let pc = Pc::with_settings(
        &keyring,
        &format!("[server]\nca_file = \"{}\"\n", toml_path(&other.ca_cert)),
    );
    let err = pc.fails(&[
        "enroll",
        "--server",
        &company.url(),
        "--token",
        &company.token(),
    ]);
    assert!(
        err.contains("certificate"),
        "a CA that did not sign it is refused: {err}"
    );
    assert!(keyring.worktrace_secrets().is_empty(), "no PC enrolled");
}

#[test]
fn plain_http_to_another_machine_is_refused_before_connecting() {
    // 192.0.2.1 is TEST-NET-1: nothing answers there, so only a refusal before connecting
    // gives this message.
    let env = Env::new("", None);
    let out = env
        .command(&[
            "enroll",
            "--server",
            "http://192.0.2.1:8900",
            "--token",
            "t",
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {err}");
    assert!(
        err.contains("http://192.0.2.1:8900") && err.contains("use https://"),
        "says to use https: {err}"
    );
    assert!(
        !err.contains("cannot reach"),
        "refused before connecting: {err}"
    );

    let env = Env::new("[server]\nurl = \"http://192.0.2.1:8900\"\n", None);
    let out = env.command(&["config", "check"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "config check refuses it: {err}");
    assert!(
        err.contains("[server] url") && err.contains("use https://"),
        "names the setting and the fix: {err}"
    );
}
