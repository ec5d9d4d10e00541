//! Several uploads of different devices in one transaction (group commit): every step that
//! [`super::ingest`] takes for one upload is one statement for the whole group, each kind of
//! row of all its uploads in one `UNNEST`.
//!
//! Why: a PostgreSQL statement costs about as much to start as to write a few rows, and an
//! upload is a dozen small statements; measured with pgbench on the benchmark's uploads, four
//! uploads in one transaction took half the database's CPU time of four transactions (see
//! docs/benchmarks.md). The rules are those of one upload: a group never holds two uploads of
//! one device ([`super::super::queue`] keeps the second for the next group), devices are
//! locked in the order of their ids (two groups, on one node or two, cannot wait for each
//! other), person-days are written in (person, day) order for the same reason, and an upload
//! that names a row twice never comes here (it is applied on its own, item by item).

use std::collections::{HashMap, HashSet};

use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;
use worktrace_domain::Millis;

use super::{check, counted, decode_stored, store_alerts, Checked, Earlier, PERSON_DAYS_OF_PAIRS};
use crate::bounds::sums;
use crate::error::{Error, Result};
use crate::model::{Device, DeviceIngest, Ingested, Intake, PolicyLayers, Refusal};
use crate::store::query::device_cols;
use crate::store::rows::Decode;
use crate::store::{chain_status_name, dropped_flag, to_i64, whole_days};
use crate::wire::{ChainStatus, IngestBatch};

/// One upload as the HTTP edge hands it over.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) secret_hash: String,
    pub(crate) batch: IngestBatch,
    pub(crate) intake: Intake,
    pub(crate) now: Millis,
}

const DEVICES: &str = concat!(
    "SELECT ",
    device_cols!(),
    ", secret_hash FROM devices WHERE secret_hash = ANY($1)"
);

const LOCK: &str = "SELECT id FROM devices WHERE id = ANY($1) ORDER BY id FOR UPDATE";

/// [`super::EARLIER`] for each device `d` with its batch `b`, head `s` and hash `h`.
const EARLIER: &str = "SELECT j.d,
        (SELECT ack_json FROM batches WHERE device_id = j.d AND batch_seq = j.b),
        EXISTS (SELECT 1 FROM batches WHERE device_id = j.d AND chain_seq = j.s
                AND chain_hash <> j.h),
        EXISTS (SELECT 1 FROM batches WHERE device_id = j.d AND chain_seq > j.s
                AND batch_seq < j.b)
        OR EXISTS (SELECT 1 FROM batches WHERE device_id = j.d AND batch_seq > j.b
                   AND chain_seq + 0 < j.s),
        (SELECT chain_seq FROM devices WHERE id = j.d),
        (SELECT chain_hash FROM devices WHERE id = j.d)
    FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) AS j(d, b, s, h)";

/// The stored rollups of each (device, day) pair.
const STORED: &str = "SELECT r.device_id, r.day, r.hour, r.app, r.category, r.revision,
        r.active_ms, r.idle_ms, r.clocked_ms, r.input_ms
    FROM UNNEST($1::bigint[], $2::text[]) AS j(d, day)
    JOIN rollups r ON r.device_id = j.d AND r.day = j.day";

/// The group's rollups that no stored row has: the device's lock (held since [`LOCK`]) keeps
/// any other writer of its rows out, and [`STORED`], read under it, found none of these.
const NEW_ROLLUPS: &str = "INSERT INTO rollups (device_id, user_id, day, hour, app, category,
        active_ms, idle_ms, clocked_ms, input_ms, revision)
    SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[],
        $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])";

/// The group's rollups whose stored row has a lower revision (read under the device's lock),
/// each found by its primary key. The revision test stays: a row is never set back.
const CHANGED_ROLLUPS: &str = "UPDATE rollups r SET active_ms = j.active_ms,
        idle_ms = j.idle_ms, clocked_ms = j.clocked_ms, input_ms = j.input_ms,
        revision = j.revision
    FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[],
        $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
        AS j(device_id, day, hour, app, category, active_ms, idle_ms, clocked_ms, input_ms,
             revision)
    WHERE r.device_id = j.device_id AND r.day = j.day AND r.hour = j.hour AND r.app = j.app
      AND r.category = j.category AND r.revision < j.revision";

const SESSIONS: &str = "INSERT INTO work_sessions (device_id, user_id, day, start_ms, end_ms,
        clock_out_reason)
    SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[],
        $6::text[])
    ON CONFLICT (device_id, start_ms) DO UPDATE SET
        end_ms = COALESCE(excluded.end_ms, work_sessions.end_ms),
        clock_out_reason = COALESCE(excluded.clock_out_reason, work_sessions.clock_out_reason)";

const DECISIONS: &str = "INSERT INTO idle_decisions (device_id, user_id, day, idle_start,
        idle_end, choice, source, decided_at)
    SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[],
        $6::text[], $7::text[], $8::bigint[])
    ON CONFLICT (device_id, idle_start) DO UPDATE SET
        idle_end = excluded.idle_end, choice = excluded.choice, source = excluded.source,
        decided_at = excluded.decided_at, day = excluded.day
    WHERE excluded.decided_at > idle_decisions.decided_at";

const PRESENCE: &str = "UPDATE devices d SET presence_at = j.at,
        presence_clocked_in = j.clocked_in, presence_idle = j.idle,
        presence_category = j.category, presence_title = j.title
    FROM UNNEST($1::bigint[], $2::bigint[], $3::boolean[], $4::boolean[], $5::text[],
        $6::text[]) AS j(id, at, clocked_in, idle, category, title)
    WHERE d.id = j.id AND (d.presence_at IS NULL OR d.presence_at < j.at)";

/// [`super::DEVICE`] for each device of the group.
const DEVICE: &str = "UPDATE devices d SET last_seen_at = j.now,
        dropped_items = d.dropped_items + j.dropped,
        dropped_at = CASE WHEN j.reason IS NULL THEN d.dropped_at ELSE j.now END,
        dropped_reason = COALESCE(j.reason, d.dropped_reason),
        chain_seq = CASE WHEN d.last_batch_seq IS NULL OR d.last_batch_seq < j.b
                    THEN j.s ELSE d.chain_seq END,
        chain_hash = CASE WHEN d.last_batch_seq IS NULL OR d.last_batch_seq < j.b
                     THEN j.h ELSE d.chain_hash END,
        last_batch_seq = GREATEST(COALESCE(d.last_batch_seq, j.b), j.b),
        chain_flag = COALESCE(j.flag, d.chain_flag),
        chain_flag_at = CASE WHEN j.flag IS NULL THEN d.chain_flag_at ELSE j.now END,
        chain_detail = CASE WHEN j.flag IS NULL THEN d.chain_detail ELSE j.detail END
    FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
        $7::bigint[], $8::text[], $9::text[])
        AS j(id, now, b, s, h, flag, dropped, reason, detail)
    WHERE d.id = j.id";

const BATCHES: &str = "INSERT INTO batches (device_id, batch_seq, chain_seq, chain_hash,
        ack_json, received_at)
    SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
        $6::bigint[])";

type Param<'a> = dyn ToSql + Sync + 'a;

/// An upload of the group whose device may upload, with what its checks found.
struct Active<'a> {
    /// Its place in the group.
    at: usize,
    device: Device,
    /// `None`: received before (its first outcome is in `duplicate`).
    checked: Option<Checked<'a>>,
    duplicate: Option<crate::model::IngestOutcome>,
}

/// Applies `uploads` (of different devices) in `tx`, which the caller commits; one answer per
/// upload, in their order.
pub(crate) async fn apply(tx: &Transaction<'_>, uploads: &[Upload]) -> Result<Vec<DeviceIngest>> {
    let hashes: Vec<&str> = uploads.iter().map(|u| u.secret_hash.as_str()).collect();
    let st = tx.prepare_cached(DEVICES).await?;
    let mut found: HashMap<String, Device> = HashMap::with_capacity(uploads.len());
    for r in tx.query(&st, &[&hashes]).await? {
        found.insert(r.try_get("secret_hash")?, Device::decode(&r)?);
    }
    let mut answers: Vec<Option<DeviceIngest>> = Vec::with_capacity(uploads.len());
    let mut devices: Vec<(usize, Device)> = Vec::with_capacity(uploads.len());
    for (at, u) in uploads.iter().enumerate() {
        match Refusal::check(found.get(&u.secret_hash).cloned()) {
            Ok(device) => {
                answers.push(None);
                devices.push((at, device));
            }
            Err(refusal) => answers.push(Some(DeviceIngest::Refused(refusal))),
        }
    }
    if devices.is_empty() {
        return Ok(answers.into_iter().flatten().collect());
    }
    let mut ids: Vec<i64> = devices.iter().map(|(_, d)| d.id).collect();
    if ids.len() != HashSet::<i64>::from_iter(ids.iter().copied()).len() {
        return Err(Error::Task(
            "a group holds two uploads of one device".into(),
        ));
    }
    ids.sort_unstable();

    // The lock, then the reads that need it, sent together (as for one upload).
    let (lock, earlier, stored) = pipelined!(
        tx.prepare_cached(LOCK),
        tx.prepare_cached(EARLIER),
        tx.prepare_cached(STORED),
    )?;
    let (mut e_dev, mut e_seq, mut e_head, mut e_hash) = (vec![], vec![], vec![], vec![]);
    let (mut s_dev, mut s_day) = (vec![], vec![]);
    for (at, d) in &devices {
        let b = &uploads[*at].batch;
        e_dev.push(d.id);
        e_seq.push(to_i64(b.batch_seq));
        e_head.push(to_i64(b.chain_head.seq));
        e_hash.push(b.chain_head.hash.as_str());
        for day in sums::days(&b.rollups) {
            s_dev.push(d.id);
            s_day.push(day);
        }
    }
    let stored_rows = async {
        if s_dev.is_empty() {
            return Ok(Vec::new());
        }
        tx.query(&stored, &[&s_dev, &s_day]).await
    };
    let lock_params: [&Param<'_>; 1] = [&ids];
    let earlier_params: [&Param<'_>; 4] = [&e_dev, &e_seq, &e_head, &e_hash];
    let (_, earlier_rows, stored_rows) = pipelined!(
        tx.query(&lock, &lock_params),
        tx.query(&earlier, &earlier_params),
        stored_rows,
    )?;
    let mut earlier_of: HashMap<i64, Earlier> = HashMap::with_capacity(devices.len());
    for r in &earlier_rows {
        earlier_of.insert(r.try_get(0)?, Earlier::decode(r, 1)?);
    }
    let mut stored_of: HashMap<i64, Vec<sums::Stored>> = HashMap::new();
    for r in &stored_rows {
        stored_of
            .entry(r.try_get(0)?)
            .or_default()
            .push(decode_stored(r, 1)?);
    }

    let mut active: Vec<Active<'_>> = Vec::with_capacity(devices.len());
    for (at, device) in devices {
        let u = &uploads[at];
        let earlier = earlier_of
            .get(&device.id)
            .ok_or_else(|| Error::Corrupt("a device of the group was not read".into()))?;
        let (checked, duplicate) = match earlier.duplicate()? {
            Some(outcome) => (None, Some(outcome)),
            None => {
                let stored = stored_of.get(&device.id).map_or(&[][..], Vec::as_slice);
                let c = check(tx, &device, &u.batch, &u.intake, earlier, stored).await?;
                (Some(c), None)
            }
        };
        active.push(Active {
            at,
            device,
            checked,
            duplicate,
        });
    }

    let applied = write_items(tx, uploads, &active, &stored_of).await?;
    let mut pairs: Vec<(i64, &str)> = Vec::new();
    for a in &active {
        if a.checked.is_some() && applied.get(&a.device.id).copied().unwrap_or(0) > 0 {
            for day in whole_days(&uploads[a.at].batch) {
                pairs.push((a.device.user_id, day));
            }
        }
    }
    // In (person, day) order, each once: two groups lock person-days in the same order.
    pairs.sort_unstable();
    pairs.dedup();
    if !pairs.is_empty() {
        let (users, days): (Vec<i64>, Vec<&str>) = pairs.into_iter().unzip();
        let st = tx.prepare_cached(PERSON_DAYS_OF_PAIRS).await?;
        tx.execute(&st, &[&users, &days]).await?;
    }
    for a in &mut active {
        if let Some(c) = &mut a.checked {
            let n = applied.get(&a.device.id).copied().unwrap_or(0);
            counted(c, &uploads[a.at].batch, n);
        }
    }
    for a in &active {
        if a.checked.is_some() {
            let u = &uploads[a.at];
            store_alerts(tx, &a.device, &u.batch, &u.intake, u.now).await?;
        }
    }
    let layers = finish(tx, uploads, &active).await?;
    for a in active {
        let outcome = match (a.checked, a.duplicate) {
            (Some(c), _) => c.outcome,
            (None, Some(d)) => d,
            (None, None) => return Err(Error::Corrupt("an upload has no outcome".into())),
        };
        let layers = layers.get(&a.device.user_id).cloned();
        answers[a.at] = Some(DeviceIngest::Done(Box::new(Ingested {
            device: a.device,
            outcome,
            layers,
        })));
    }
    answers
        .into_iter()
        .map(|a| a.ok_or_else(|| Error::Corrupt("an upload was not answered".into())))
        .collect()
}

/// The rollups, sessions and decisions of every new upload of the group, one statement per
/// kind, sent together; how many rollups changed a row, by device.
///
/// A rollup goes by what `stored` (each device's rows of the batch's days, read under its
/// lock) holds for its key: none, it is inserted; a lower revision, its row is updated; the
/// same or a higher one, nothing is sent (an upload sent again changes nothing). So a rollup
/// costs a plain insert or update, not an upsert's probe, tuple lock and second look.
async fn write_items(
    tx: &Transaction<'_>,
    uploads: &[Upload],
    active: &[Active<'_>],
    stored: &HashMap<i64, Vec<sums::Stored>>,
) -> Result<HashMap<i64, u32>> {
    let (new_rollups, changed_rollups, sessions, decisions) = pipelined!(
        tx.prepare_cached(NEW_ROLLUPS),
        tx.prepare_cached(CHANGED_ROLLUPS),
        tx.prepare_cached(SESSIONS),
        tx.prepare_cached(DECISIONS),
    )?;
    let mut fresh = RollupColumns::default();
    let mut changed = RollupColumns::default();
    let mut applied: HashMap<i64, u32> = HashMap::new();
    let (mut s_dev, mut s_user, mut s_day, mut s_start, mut s_end, mut s_reason) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut d_dev, mut d_user, mut d_day, mut d_start, mut d_end) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut d_choice, mut d_source, mut d_at) = (vec![], vec![], vec![]);
    for a in active {
        let Some(c) = &a.checked else { continue };
        let batch = &uploads[a.at].batch;
        let (dev, user) = (a.device.id, a.device.user_id);
        let revisions: HashMap<(&str, i64, &str, &str), i64> = stored
            .get(&dev)
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    (r.day.as_str(), r.hour, r.app.as_str(), r.category.as_str()),
                    r.revision,
                )
            })
            .collect();
        for item in c.kept.iter() {
            let key = (
                item.day.as_str(),
                item.hour.map_or(-1, i64::from),
                item.app.as_str(),
                item.category.as_str(),
            );
            match revisions.get(&key) {
                None => fresh.push(dev, user, item),
                Some(&had) if had < to_i64(item.revision) => changed.push(dev, user, item),
                Some(_) => continue,
            }
            *applied.entry(dev).or_default() += 1;
        }
        for s in &batch.sessions {
            s_dev.push(dev);
            s_user.push(user);
            s_day.push(s.day.as_str());
            s_start.push(s.start);
            s_end.push(s.end);
            s_reason.push(s.clock_out_reason.map(crate::store::clock_out_name));
        }
        for d in &batch.decisions {
            let (choice, source) = d.names();
            d_dev.push(dev);
            d_user.push(user);
            d_day.push(d.day.as_str());
            d_start.push(d.decision.idle_start);
            d_end.push(d.decision.idle_end);
            d_choice.push(choice);
            d_source.push(source);
            d_at.push(d.decision.decided_at);
        }
    }
    let fresh_done = async {
        if fresh.device.is_empty() {
            return Ok(0);
        }
        let r = &fresh;
        let params: [&Param<'_>; 11] = [
            &r.device,
            &r.user,
            &r.day,
            &r.hour,
            &r.app,
            &r.category,
            &r.active,
            &r.idle,
            &r.clocked,
            &r.input,
            &r.revision,
        ];
        tx.execute(&new_rollups, &params).await
    };
    let changed_done = async {
        if changed.device.is_empty() {
            return Ok(0);
        }
        let r = &changed;
        let params: [&Param<'_>; 10] = [
            &r.device,
            &r.day,
            &r.hour,
            &r.app,
            &r.category,
            &r.active,
            &r.idle,
            &r.clocked,
            &r.input,
            &r.revision,
        ];
        tx.execute(&changed_rollups, &params).await
    };
    let sessions_done = async {
        if s_dev.is_empty() {
            return Ok(0);
        }
        let params: [&Param<'_>; 6] = [&s_dev, &s_user, &s_day, &s_start, &s_end, &s_reason];
        tx.execute(&sessions, &params).await
    };
    let decisions_done = async {
        if d_dev.is_empty() {
            return Ok(0);
        }
        let params: [&Param<'_>; 8] = [
            &d_dev, &d_user, &d_day, &d_start, &d_end, &d_choice, &d_source, &d_at,
        ];
        tx.execute(&decisions, &params).await
    };
    let (inserted, updated, _, _) =
        pipelined!(fresh_done, changed_done, sessions_done, decisions_done)?;
    // Under the devices' locks the rows are what was read: anything else is a fault to see.
    let expected = (fresh.device.len() + changed.device.len()) as u64;
    if inserted + updated != expected {
        return Err(Error::Corrupt(format!(
            "{expected} rollups of a group were to change a row, {} did",
            inserted + updated
        )));
    }
    Ok(applied)
}

/// The columns of the group's rollups, one array each, as [`ROLLUPS`] takes them.
#[derive(Default)]
struct RollupColumns<'a> {
    device: Vec<i64>,
    user: Vec<i64>,
    day: Vec<&'a str>,
    hour: Vec<i64>,
    app: Vec<&'a str>,
    category: Vec<&'a str>,
    active: Vec<i64>,
    idle: Vec<i64>,
    clocked: Vec<i64>,
    input: Vec<i64>,
    revision: Vec<i64>,
}

impl<'a> RollupColumns<'a> {
    fn push(&mut self, device: i64, user: i64, r: &'a crate::wire::RollupItem) {
        self.device.push(device);
        self.user.push(user);
        self.day.push(&r.day);
        self.hour.push(r.hour.map_or(-1, i64::from));
        self.app.push(&r.app);
        self.category.push(&r.category);
        self.active.push(r.active_ms);
        self.idle.push(r.idle_ms);
        self.clocked.push(r.clocked_ms);
        self.input.push(r.input_ms);
        self.revision.push(to_i64(r.revision));
    }
}

/// The last writes of the group (presence, the devices' chain heads and counters, the record
/// of each batch and its answer), sent together with the read of the owners' policy layers.
async fn finish(
    tx: &Transaction<'_>,
    uploads: &[Upload],
    active: &[Active<'_>],
) -> Result<HashMap<i64, PolicyLayers>> {
    let (presence, device, batches) = pipelined!(
        tx.prepare_cached(PRESENCE),
        tx.prepare_cached(DEVICE),
        tx.prepare_cached(BATCHES),
    )?;
    let (mut p_dev, mut p_at, mut p_in, mut p_idle, mut p_cat, mut p_title) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut dev, mut now, mut seq, mut head, mut hash) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut flag, mut dropped, mut reason, mut detail) = (vec![], vec![], vec![], vec![]);
    let mut acks = Vec::new();
    for a in active {
        let Some(c) = &a.checked else { continue };
        let u = &uploads[a.at];
        if let Some(p) = &u.batch.presence {
            p_dev.push(a.device.id);
            p_at.push(p.at);
            p_in.push(p.clocked_in);
            p_idle.push(p.idle);
            p_cat.push(p.category.as_deref());
            p_title.push(p.title.as_deref());
        }
        let o = &c.outcome;
        let (n, why) = dropped_flag(&o.dropped);
        dev.push(a.device.id);
        now.push(u.now);
        seq.push(to_i64(u.batch.batch_seq));
        head.push(to_i64(u.batch.chain_head.seq));
        hash.push(u.batch.chain_head.hash.as_str());
        flag.push((o.chain_status != ChainStatus::Ok).then(|| chain_status_name(o.chain_status)));
        dropped.push(n);
        reason.push(why);
        detail.push(c.chain_detail.as_deref());
        acks.push(serde_json::to_string(o)?);
    }
    let mut users: Vec<i64> = active.iter().map(|a| a.device.user_id).collect();
    users.sort_unstable();
    users.dedup();
    let presence_done = async {
        if p_dev.is_empty() {
            return Ok(0);
        }
        let params: [&Param<'_>; 6] = [&p_dev, &p_at, &p_in, &p_idle, &p_cat, &p_title];
        tx.execute(&presence, &params).await
    };
    let device_done = async {
        if dev.is_empty() {
            return Ok(0);
        }
        let params: [&Param<'_>; 9] = [
            &dev, &now, &seq, &head, &hash, &flag, &dropped, &reason, &detail,
        ];
        tx.execute(&device, &params).await
    };
    let batches_done = async {
        if dev.is_empty() {
            return Ok(0);
        }
        let params: [&Param<'_>; 6] = [&dev, &seq, &head, &hash, &acks, &now];
        tx.execute(&batches, &params).await
    };
    let (_, _, _, layers) = pipelined!(
        presence_done,
        device_done,
        batches_done,
        super::super::policy_layers_of(tx, &users),
    )?;
    Ok(layers)
}
