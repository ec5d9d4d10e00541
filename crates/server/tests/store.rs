//! The storage trait against both real databases: organisation model, enrollment, and the
//! ingest rules (idempotent batches, newest revision wins, chain checks).

mod common;

use common::{open_store, Backend};
use worktrace_server::model::{
    AlertFilter, DeviceIngest, IngestOutcome, Intake, NewUser, Refusal, Role,
};
use worktrace_server::store::Store;
use worktrace_server::wire::{AlertItem, ChainHead, ChainStatus, IngestBatch, RollupItem};

/// `batch` uploaded as the API applies it, with the secret of the test's first device.
async fn upload(store: &Store, batch: &IngestBatch, now: i64) -> IngestOutcome {
    match store
        .ingest_as_device("secret-hash", batch.clone(), Intake::plain(), now)
        .await
        .expect("ingest")
    {
        DeviceIngest::Done(done) => done.outcome,
        DeviceIngest::Refused(r) => panic!("the test's device was refused: {r:?}"),
    }
}

fn rollup(day: &str, app: &str, active_ms: i64, revision: u64) -> RollupItem {
    RollupItem {
        day: day.into(),
        hour: None,
        app: app.into(),
        category: "Work > Email".into(),
        active_ms,
        idle_ms: 0,
        clocked_ms: active_ms,
        input_ms: active_ms / 2,
        revision,
    }
}

fn batch(seq: u64, head: u64, hash: &str, rollups: Vec<RollupItem>) -> IngestBatch {
    IngestBatch {
        batch_seq: seq,
        chain_head: ChainHead {
            seq: head,
            hash: hash.into(),
        },
        rollups,
        sessions: vec![],
        decisions: vec![],
        alerts: vec![],
        presence: None,
        chain: None,
    }
}

async fn scenario(store: Store) {
    let org = store.create_org("Acme", 1).await.expect("create org");
    let alice = store
        .create_user(
            &NewUser {
                org_id: org,
                email: "alice@acme.test".into(),
                display_name: "Alice".into(),
                role: Role::Employee,
                password_hash: None,
            },
            1,
            &common::cli_change(org, "user"),
        )
        .await
        .expect("create user");
    let dup = store
        .create_user(
            &NewUser {
                org_id: org,
                email: "alice@acme.test".into(),
                display_name: "Alice 2".into(),
                role: Role::Employee,
                password_hash: None,
            },
            1,
            &common::cli_change(org, "user"),
        )
        .await;
    assert!(
        matches!(dup, Err(worktrace_server::Error::Conflict(_))),
        "a taken e-mail is a conflict, not an internal error: {dup:?}"
    );
    let team = store
        .create_team(org, "Sales", 1, &common::cli_change(org, "team"))
        .await
        .expect("create team");
    store
        .add_member(
            team.id,
            alice.id,
            false,
            &common::cli_change(org, "membership"),
        )
        .await
        .expect("add member");
    store
        .add_member(
            team.id,
            alice.id,
            true,
            &common::cli_change(org, "membership"),
        )
        .await
        .expect("adding again changes the lead flag");
    let members = store.team_members(team.id).await.expect("members");
    assert_eq!(members.len(), 1, "adding twice keeps one membership");
    assert!(members[0].1, "the second add made her lead");

    // Enrollment: the token works once and not after its expiry.
    store
        .create_enrollment_token(
            org,
            alice.id,
            "tok-hash",
            1_000,
            10,
            &common::cli_change(org, "enrollment_token"),
        )
        .await
        .expect("token");
    store
        .create_enrollment_token(
            org,
            alice.id,
            "old-hash",
            50,
            10,
            &common::cli_change(org, "enrollment_token"),
        )
        .await
        .expect("token");
    let device = store
        .enroll_device("tok-hash", "alice-pc", None, "secret-hash", 100)
        .await
        .expect("enroll")
        .expect("a fresh token enrolls");
    assert_eq!(
        device.user_id, alice.id,
        "the device belongs to the token's employee"
    );
    let again = store
        .enroll_device("tok-hash", "other-pc", None, "secret-2", 101)
        .await
        .expect("enroll");
    assert!(
        again.is_none(),
        "a used token must not enroll a second device"
    );
    let expired = store
        .enroll_device("old-hash", "pc", None, "secret-3", 100)
        .await
        .expect("enroll");
    assert!(expired.is_none(), "an expired token must not enroll");
    let found = store
        .device_by_secret("secret-hash")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.id, device.id);

    // Ingest: new batch, duplicate, newer revision, older revision after newer.
    let b1 = batch(1, 10, "aa", vec![rollup("2025-03-03", "mail", 1_000, 1)]);
    let first = upload(&store, &b1, 200).await;
    assert!(
        !first.duplicate && first.rollups_applied == 1,
        "first delivery applies: {first:?}"
    );
    let dup = upload(&store, &b1, 201).await;
    assert!(dup.duplicate, "the same batch id twice is a duplicate");
    assert_eq!(
        dup.rollups_applied, first.rollups_applied,
        "a duplicate answers the same ack"
    );

    let b3 = batch(3, 30, "cc", vec![rollup("2025-03-03", "mail", 3_000, 3)]);
    upload(&store, &b3, 202).await;
    // b2 arrives late (reordered) and carries an older revision of the same key.
    let b2 = batch(2, 20, "bb", vec![rollup("2025-03-03", "mail", 2_000, 2)]);
    let late = upload(&store, &b2, 203).await;
    assert_eq!(
        late.rollups_ignored, 1,
        "an older revision after a newer one is ignored"
    );
    assert_eq!(
        late.chain_status,
        ChainStatus::Ok,
        "a reordered batch is not a chain problem"
    );
    let rows = store
        .day_rollups(&[alice.id], "2025-03-03", "2025-03-03")
        .await
        .expect("read");
    assert_eq!(rows.len(), 1, "one key, one row");
    assert_eq!(rows[0].active_ms, 3_000, "the newest revision is kept");

    // An alert sent in two batches is stored once.
    let event: worktrace_domain::ExportEvent = serde_json::from_value(serde_json::json!({
        "at": 500, "export_kind": "file_to_removable", "severity": "high", "app_before": "excel",
        "file_name": "clients.xlsx", "path": null, "size_bytes": 1024,
        "destination_class": "removable", "count": 1, "details": {}
    }))
    .expect("valid event");
    let mut b4 = batch(4, 40, "dd", vec![]);
    b4.alerts.push(AlertItem {
        id: 7,
        event: event.clone(),
    });
    let mut b5 = batch(5, 41, "ee", vec![]);
    b5.alerts.push(AlertItem { id: 7, event });
    upload(&store, &b4, 204).await;
    upload(&store, &b5, 205).await;
    let alerts = store
        .alerts(&AlertFilter {
            users: vec![alice.id],
            include_acknowledged: true,
            include_folded: true,
            severity: None,
            before: None,
            limit: 100,
        })
        .await
        .expect("alerts");
    assert_eq!(
        alerts.len(),
        1,
        "the same alert id from one device is stored once"
    );

    // Chain problems are flagged on the device.
    let fork = upload(&store, &batch(6, 41, "ff", vec![]), 206).await;
    assert_eq!(
        fork.chain_status,
        ChainStatus::Fork,
        "same seq, other hash is a fork"
    );
    let back = upload(&store, &batch(7, 5, "gg", vec![]), 207).await;
    assert_eq!(
        back.chain_status,
        ChainStatus::Backwards,
        "a lower seq than before goes back"
    );
    let devices = store.list_devices(org).await.expect("devices");
    assert_eq!(
        devices[0].chain_flag.as_deref(),
        Some("backwards"),
        "the flag is kept for admins"
    );

    // An upload as the server receives it: device, batch and policy layers in one step.
    let unknown = store
        .ingest_as_device(
            "no-such-secret",
            batch(8, 50, "hh", vec![]),
            Intake::plain(),
            208,
        )
        .await
        .expect("upload with an unknown secret");
    assert!(
        matches!(unknown, DeviceIngest::Refused(Refusal::UnknownDevice)),
        "no device has that secret: {unknown:?}"
    );
    let b8 = batch(8, 50, "hh", vec![rollup("2025-03-08", "mail", 8_000, 8)]);
    for (now, duplicate) in [(208, false), (209, true)] {
        let DeviceIngest::Done(done) = store
            .ingest_as_device("secret-hash", b8.clone(), Intake::plain(), now)
            .await
            .expect("upload b8")
        else {
            panic!("the device's own secret uploads");
        };
        assert_eq!(done.device.id, device.id, "the secret's device");
        assert_eq!(done.outcome.duplicate, duplicate, "{:?}", done.outcome);
        assert_eq!(done.outcome.rollups_applied, 1, "{:?}", done.outcome);
        let layers = done.layers.expect("the owner's policy layers");
        assert_eq!(layers.user.id, alice.id, "the owner's layers");
        assert_eq!(
            layers
                .team_jsons
                .iter()
                .map(|(t, _)| *t)
                .collect::<Vec<_>>(),
            vec![team.id],
            "with her team's overrides"
        );
    }

    // Revocation.
    assert!(
        store
            .revoke_device(org, device.id, 300, &common::cli_change(org, "device"))
            .await
            .expect("revoke"),
        "device exists"
    );
    let other_org = store.create_org("Other", 1).await.expect("org");
    assert!(
        !store
            .revoke_device(
                other_org,
                device.id,
                300,
                &common::cli_change(other_org, "device")
            )
            .await
            .expect("revoke"),
        "another organisation cannot revoke this device"
    );
    let revoked = store
        .device_by_secret("secret-hash")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(revoked.revoked_at, Some(300), "revocation is recorded");
    let b9 = batch(9, 60, "ii", vec![rollup("2025-03-09", "mail", 9_000, 9)]);
    let refused = store
        .ingest_as_device("secret-hash", b9, Intake::plain(), 301)
        .await
        .expect("upload after revocation");
    assert!(
        matches!(refused, DeviceIngest::Refused(Refusal::Revoked)),
        "a revoked device's upload is refused: {refused:?}"
    );
    let stored = store
        .day_rollups(&[alice.id], "2025-03-09", "2025-03-09")
        .await
        .expect("read");
    assert!(
        stored.is_empty(),
        "a refused upload stores nothing: {stored:?}"
    );
}

#[tokio::test]
async fn sqlite_store_follows_the_rules() {
    let (store, _guard) = open_store(Backend::Sqlite).await;
    scenario(store).await;
}

#[tokio::test]
async fn postgres_store_follows_the_rules() {
    let (store, _guard) = open_store(Backend::Postgres).await;
    scenario(store).await;
}

#[tokio::test]
async fn reopening_a_sqlite_store_keeps_data_and_skips_applied_migrations() {
    let (url, _guard) = common::database(Backend::Sqlite);
    let store = worktrace_server::store::open(&url)
        .await
        .expect("first open");
    store.create_org("Acme", 1).await.expect("org");
    drop(store);
    let store = worktrace_server::store::open(&url)
        .await
        .expect("second open migrates nothing");
    assert_eq!(
        store.org_by_name("Acme").await.expect("read"),
        Some(1),
        "data survives reopen"
    );
}

/// Breaks a stored value behind the store's back: gives user `id` a role this build does not
/// know (the schema's check on roles is lifted for it).
async fn store_unknown_role(backend: Backend, url: &str, id: i64) {
    match backend {
        Backend::Sqlite => {
            let path = url.strip_prefix("sqlite://").expect("a sqlite:// URL");
            let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
            conn.execute_batch("PRAGMA ignore_check_constraints = ON;")
                .expect("lift checks");
            conn.execute("UPDATE users SET role = 'owner' WHERE id = ?1", [id])
                .expect("store an unknown role");
        }
        Backend::Postgres => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connect to PostgreSQL");
            tokio::spawn(connection);
            client
                .batch_execute("ALTER TABLE users DROP CONSTRAINT users_role_check")
                .await
                .expect("lift the check on roles");
            client
                .execute("UPDATE users SET role = 'owner' WHERE id = $1", &[&id])
                .await
                .expect("store an unknown role");
        }
    }
}

/// The answers both stores must give alike: only a taken unique value is the caller's
/// conflict, and a stored value this build cannot read is our fault.
async fn same_answers(backend: Backend) {
    let (url, _guard) = common::database(backend);
    let store = worktrace_server::store::open(&url).await.expect("open");
    let org = store.create_org("Acme", 1).await.expect("org");
    store
        .create_team(org, "Sales", 1, &common::cli_change(org, "team"))
        .await
        .expect("team");
    let taken = store
        .create_team(org, "Sales", 2, &common::cli_change(org, "team"))
        .await;
    assert!(
        matches!(taken, Err(worktrace_server::Error::Conflict(_))),
        "a taken team name is the caller's conflict on {backend:?}: {taken:?}"
    );
    let orphan = store
        .create_team(
            org + 100,
            "Support",
            2,
            &common::cli_change(org + 100, "team"),
        )
        .await;
    assert!(
        matches!(orphan, Err(ref e) if !matches!(e, worktrace_server::Error::Conflict(_))),
        "a team of no organisation breaks a foreign key, not a unique value: no \"exists\" \
         on {backend:?}: {orphan:?}"
    );
    let bob = store
        .create_user(
            &NewUser {
                org_id: org,
                email: "bob@acme.test".into(),
                display_name: "Bob".into(),
                role: Role::Employee,
                password_hash: None,
            },
            1,
            &common::cli_change(org, "user"),
        )
        .await
        .expect("user");
    store_unknown_role(backend, &url, bob.id).await;
    let read = store.user_by_id(bob.id).await;
    assert!(
        matches!(read, Err(worktrace_server::Error::Corrupt(_))),
        "an unknown stored role is corrupt data (our fault, a 500), not a missing person, on \
         {backend:?}: {read:?}"
    );
}

#[tokio::test]
async fn sqlite_store_answers_like_postgres() {
    same_answers(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_store_answers_like_sqlite() {
    same_answers(Backend::Postgres).await;
}
