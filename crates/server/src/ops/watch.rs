//! Departure watches: marking a person as leaving, changing and ending the watch (each
//! audited with before and after), the alert for activity after the last day, and the
//! departure report.
//!
//! Callers decide who may act on whom ([`crate::access::Viewer::may_watch`]).

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use worktrace_domain::day::{epoch_day, DAY_MS};
use worktrace_domain::Millis;

use crate::error::{Error, Result};
use crate::model::{
    Actor, AlertFilter, AlertRow, ChangeEntry, Device, NewWatch, PolicyLayers, ServerAlert, Target,
    User, Watch, WatchState, WatchUpdate,
};
use crate::store::Storage;
use crate::watch::{self, Checked};

/// The UTC date of an instant, `YYYY-MM-DD`: the server's "today" for watches.
pub fn utc_day(now: Millis) -> String {
    worktrace_domain::day::date_of_epoch_days(now.div_euclid(DAY_MS)).to_string()
}

/// The watch as it stands on `today`: an open watch past its `ends_on` has ended by itself.
pub fn settle(mut w: Watch, today: &str) -> Watch {
    if w.state == WatchState::Open && w.ends_on.as_str() < today {
        w.state = WatchState::Expired;
    }
    w
}

fn watch_json(c: &Checked) -> Value {
    json!({"last_day": c.last_day, "reason": c.reason, "lookback_days": c.lookback_days,
           "ends_on": c.ends_on})
}

fn target(id: Option<i64>, person: &str) -> Target {
    Target {
        kind: "watch",
        id,
        name: person.to_owned(),
    }
}

/// Marks `subject` as leaving on `last_day`. Audited.
pub async fn mark_leaving(
    store: &dyn Storage,
    actor: Actor,
    subject: &User,
    (last_day, reason, lookback_days): (&str, &str, Option<u32>),
    now: Millis,
) -> Result<Watch> {
    let today = utc_day(now);
    if subject.deactivated_at.is_some() {
        return Err(Error::Conflict(format!(
            "{} is deactivated: their PCs are revoked and they cannot log in, so there is \
             nothing left to watch",
            subject.email
        )));
    }
    let c = watch::check(last_day, reason, lookback_days, None, &today).map_err(Error::Invalid)?;
    let change = ChangeEntry::new(
        subject.org_id,
        now,
        actor,
        "mark_leaving",
        target(None, &subject.email),
        None,
        Some(watch_json(&c)),
    )
    .subject(subject.id)
    .detail(format!(
        "marked {} as leaving: last day {}, report over {} days, watched until {}",
        subject.email, c.last_day, c.lookback_days, c.ends_on
    ));
    let id = store
        .create_watch(
            &NewWatch {
                org: subject.org_id,
                user: subject.id,
                last_day: c.last_day,
                reason: c.reason,
                lookback_days: c.lookback_days,
                ends_on: c.ends_on,
                created_by: actor.user_id(),
                now,
                today: today.clone(),
            },
            &change,
        )
        .await?;
    let w = store
        .watch(id)
        .await?
        .ok_or_else(|| Error::Corrupt(format!("watch {id} is gone right after it was made")))?;
    Ok(settle(w, &today))
}

/// What a change of a watch gives; what it leaves out stays. A new last day without a new end
/// moves the end with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchChange<'a> {
    pub last_day: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub lookback_days: Option<u32>,
    pub ends_on: Option<&'a str>,
}

fn closed(w: &Watch) -> Error {
    Error::Conflict(format!(
        "the watch of {} has ended; mark the person as leaving again to watch them",
        w.email
    ))
}

/// Changes (or extends) an open watch. Audited with before and after.
pub async fn change_watch(
    store: &dyn Storage,
    actor: Actor,
    org: i64,
    w: &Watch,
    change: WatchChange<'_>,
    now: Millis,
) -> Result<Watch> {
    let today = utc_day(now);
    if settle(w.clone(), &today).state != WatchState::Open {
        return Err(closed(w));
    }
    let last_day = change.last_day.unwrap_or(&w.last_day);
    let ends_on = match (change.ends_on, change.last_day) {
        (Some(end), _) => Some(end),
        (None, Some(_)) => None,
        (None, None) => Some(w.ends_on.as_str()),
    };
    let c = watch::check(
        last_day,
        change.reason.unwrap_or(&w.reason),
        Some(change.lookback_days.unwrap_or(w.lookback_days)),
        ends_on,
        &today,
    )
    .map_err(Error::Invalid)?;
    let before = json!({"last_day": w.last_day, "reason": w.reason,
                        "lookback_days": w.lookback_days, "ends_on": w.ends_on});
    let entry = ChangeEntry::new(
        org,
        now,
        actor,
        "change_watch",
        target(Some(w.id), &w.email),
        Some(before),
        Some(watch_json(&c)),
    )
    .subject(w.user_id);
    let keys: Vec<&str> = entry.diff.keys().map(String::as_str).collect();
    let detail = format!(
        "changed the watch of {}: {}",
        w.email,
        if keys.is_empty() {
            "nothing".to_owned()
        } else {
            keys.join(", ")
        }
    );
    let entry = entry.detail(detail);
    let update = WatchUpdate {
        last_day: c.last_day,
        reason: c.reason,
        lookback_days: c.lookback_days,
        ends_on: c.ends_on,
        now,
    };
    if !store.update_watch(w.id, &update, &entry).await? {
        return Err(closed(w));
    }
    reread(store, w.id, &today).await
}

/// Ends an open watch by hand. Audited.
pub async fn end_watch(
    store: &dyn Storage,
    actor: Actor,
    org: i64,
    w: &Watch,
    now: Millis,
) -> Result<Watch> {
    let today = utc_day(now);
    if settle(w.clone(), &today).state != WatchState::Open {
        return Err(closed(w));
    }
    let entry = ChangeEntry::new(
        org,
        now,
        actor,
        "end_watch",
        target(Some(w.id), &w.email),
        Some(json!({"state": "open", "ends_on": w.ends_on})),
        Some(json!({"state": "ended", "ends_on": w.ends_on})),
    )
    .subject(w.user_id)
    .detail(format!("ended the watch of {}", w.email));
    if !store.end_watch(w.id, now, actor.user_id(), &entry).await? {
        return Err(closed(w));
    }
    reread(store, w.id, &today).await
}

async fn reread(store: &dyn Storage, id: i64, today: &str) -> Result<Watch> {
    let w = store
        .watch(id)
        .await?
        .ok_or_else(|| Error::Corrupt(format!("watch {id} is gone")))?;
    Ok(settle(w, today))
}

/// Raises the high alert for activity after a watched person's last day: `what` happened
/// (from `device`, or a login when none) while their watch is in force. At most one a day per
/// watch; true when this call raised it.
pub async fn after_last_day(
    store: &dyn Storage,
    layers: &PolicyLayers,
    device: Option<&Device>,
    what: impl FnOnce(&str) -> Option<String>,
    now: Millis,
) -> Result<bool> {
    let today = utc_day(now);
    let Some(w) = layers.watch.as_ref().filter(|w| w.in_force(&today)) else {
        return Ok(false);
    };
    let Some(what) = what(&w.last_day) else {
        return Ok(false);
    };
    let alert = ServerAlert {
        org: layers.user.org_id,
        user: layers.user.id,
        device: device.map(|d| d.id),
        at: now,
        kind: AFTER_LAST_DAY,
        severity: "high",
        event: json!({
            "at": now,
            "last_day": w.last_day,
            "what": what,
            "source": if device.is_some() { "upload" } else { "login" },
            "device": device.map(|d| d.description.clone()),
        }),
    };
    let raised = store
        .raise_after_last_day(w.id, &today, watch::alert_client_id(w.id, &today), &alert)
        .await?;
    if raised {
        tracing::warn!(user = layers.user.id, watch = w.id, %what, "activity after the last day");
    }
    Ok(raised)
}

/// The alert kind of activity after a watched person's last day.
pub const AFTER_LAST_DAY: &str = "after_last_day";

/// Most events a departure report lists.
pub const REPORT_MAX_EVENTS: usize = 10_000;
/// The baseline beside the report: this many days before its first day.
pub const BASELINE_DAYS: i64 = 30;

/// One event of a departure report: an alert, with what of its details the report shows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReportEvent {
    pub alert_id: i64,
    pub at: Millis,
    pub received_at: Millis,
    pub kind: String,
    pub severity: String,
    pub file_name: Option<String>,
    pub destination_class: Option<String>,
    pub size_bytes: Option<u64>,
    /// Events in the incident (a burst is one incident of many files).
    pub count: u32,
    /// The client-data source the file came from (a CRM), when known.
    pub client_source: Option<String>,
    /// Rows the file had, counted on the PC.
    pub rows: Option<u64>,
    /// The names the file went through, the first one first (renames, copies, archives).
    pub lineage: Vec<String>,
    /// The removable medium or other place it went to, when the event names it.
    pub destination: Option<String>,
    pub acknowledged: bool,
}

/// Files that went through several names: one chain per first name.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReportChain {
    /// The longest list of names seen for it, the first name first.
    pub names: Vec<String>,
    pub client_source: Option<String>,
    pub rows: Option<u64>,
    /// The events of the chain, oldest first.
    pub alert_ids: Vec<i64>,
    /// The highest severity among them.
    pub severity: String,
    /// Where copies of it went (destination classes), in the order first seen.
    pub destinations: Vec<String>,
}

/// Events of one kind: in the report's period and, per day, in the baseline before it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KindCount {
    pub kind: String,
    /// Incidents in the report's period.
    pub count: u64,
    /// Files (or copies) in them: the incidents' counts added up.
    pub files: u64,
    /// Incidents a day on average in the baseline (the 30 days before the period).
    pub baseline_per_day: f64,
    /// Incidents a day on average in the period.
    pub per_day: f64,
}

/// Everything exported by a watched person over the watch's look-back, for the lead.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DepartureReport {
    pub watch: Watch,
    /// First day covered, `YYYY-MM-DD` (the look-back before the last day).
    pub from: String,
    /// Last day covered (today).
    pub to: String,
    /// Newest first.
    pub events: Vec<ReportEvent>,
    /// True when there were more than [`REPORT_MAX_EVENTS`] events: the oldest are left out.
    pub truncated: bool,
    pub chains: Vec<ReportChain>,
    pub kinds: Vec<KindCount>,
    /// Days in the baseline before `from` that had any event of the person at all.
    pub baseline_days: i64,
}

fn text(event: &Value, key: &str) -> Option<String> {
    event.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn detail_text(event: &Value, key: &str) -> Option<String> {
    event
        .get("details")
        .and_then(|d| d.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl ReportEvent {
    fn of(a: &AlertRow) -> ReportEvent {
        let e = &a.event;
        let details = e.get("details");
        let lineage = details
            .and_then(|d| d.get("lineage"))
            .and_then(Value::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        ReportEvent {
            alert_id: a.id,
            at: a.at,
            received_at: a.received_at,
            kind: a.kind.clone(),
            severity: a.severity.clone(),
            file_name: text(e, "file_name"),
            destination_class: text(e, "destination_class"),
            size_bytes: e.get("size_bytes").and_then(Value::as_u64),
            count: e
                .get("count")
                .and_then(Value::as_u64)
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or(1),
            client_source: detail_text(e, "client_source"),
            rows: details.and_then(|d| d.get("rows")).and_then(Value::as_u64),
            lineage,
            destination: detail_text(e, "label")
                .or_else(|| detail_text(e, "allowed_medium"))
                .or_else(|| detail_text(e, "site"))
                .or_else(|| text(e, "what")),
            acknowledged: a.acknowledged_at.is_some(),
        }
    }
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// Groups events whose file went through more than one name by the first name (oldest
/// event first).
///
/// ```text
/// [copy "clients.zip" lineage [CONTACT.csv, clients.csv, clients.zip],
///  new  "clients.csv" lineage [CONTACT.csv, clients.csv]]
///   → one chain [CONTACT.csv, clients.csv, clients.zip] with both events
/// ```
pub fn chains(events: &[ReportEvent]) -> Vec<ReportChain> {
    let mut by_first: BTreeMap<&str, ReportChain> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut oldest_first: Vec<&ReportEvent> = events.iter().collect();
    oldest_first.sort_by_key(|e| (e.at, e.alert_id));
    for e in oldest_first {
        let Some(first) = e.lineage.first().filter(|_| e.lineage.len() > 1) else {
            continue;
        };
        let chain = by_first.entry(first.as_str()).or_insert_with(|| {
            order.push(first.as_str());
            ReportChain {
                names: Vec::new(),
                client_source: None,
                rows: None,
                alert_ids: Vec::new(),
                severity: "info".into(),
                destinations: Vec::new(),
            }
        });
        if e.lineage.len() > chain.names.len() {
            chain.names = e.lineage.clone();
        }
        chain.client_source = chain.client_source.take().or(e.client_source.clone());
        chain.rows = chain.rows.or(e.rows);
        chain.alert_ids.push(e.alert_id);
        if severity_rank(&e.severity) > severity_rank(&chain.severity) {
            chain.severity = e.severity.clone();
        }
        if let Some(d) = &e.destination_class {
            if !chain.destinations.contains(d) {
                chain.destinations.push(d.clone());
            }
        }
    }
    order
        .into_iter()
        .filter_map(|first| by_first.remove(first))
        .collect()
}

/// Alerts read per page by [`each_alert_received_since`].
const ALERT_PAGE: u32 = 1000;

/// Calls `f` with each alert of `user`, newest received first, until `f` breaks or the page
/// that reaches alerts received before `since` is done (a PC that was offline sends old events
/// late, so a page can hold some received earlier than others).
pub async fn each_alert_received_since(
    store: &dyn Storage,
    user: i64,
    since: Millis,
    mut f: impl FnMut(&AlertRow) -> ControlFlow<()>,
) -> Result<()> {
    let mut filter = AlertFilter {
        users: vec![user],
        include_acknowledged: true,
        include_folded: true,
        severity: None,
        before: None,
        limit: ALERT_PAGE,
    };
    loop {
        let page = store.alerts(&filter).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        filter.before = Some((last.received_at, last.id));
        let done = page.len() < ALERT_PAGE as usize || last.received_at < since;
        for a in &page {
            if f(a).is_break() {
                return Ok(());
            }
        }
        if done {
            return Ok(());
        }
    }
}

/// The departure report of watch `w` on `now`: the person's alerts from the look-back before
/// the last day until today, with the 30 days before as the baseline. The caller audits the
/// read.
pub async fn departure_report(
    store: &dyn Storage,
    w: Watch,
    now: Millis,
) -> Result<DepartureReport> {
    let today = utc_day(now);
    let from = watch::report_from(&w.last_day, w.lookback_days)
        .ok_or_else(|| Error::Corrupt(format!("watch {} has no valid last day", w.id)))?;
    let from_n = epoch_day(&from).unwrap_or(0);
    let from_ms = from_n * DAY_MS;
    let baseline_ms = (from_n - BASELINE_DAYS) * DAY_MS;
    let (mut events, mut baseline) = (Vec::new(), Vec::new());
    let mut truncated = false;
    each_alert_received_since(store, w.user_id, baseline_ms, |a| {
        if a.at >= from_ms {
            if events.len() == REPORT_MAX_EVENTS {
                truncated = true;
                return ControlFlow::Break(());
            }
            events.push(ReportEvent::of(a));
        } else if a.at >= baseline_ms {
            baseline.push(ReportEvent::of(a));
        }
        ControlFlow::Continue(())
    })
    .await?;
    let period_days = (epoch_day(&today).unwrap_or(from_n) - from_n + 1).max(1);
    let mut kinds: BTreeMap<String, KindCount> = BTreeMap::new();
    let blank = |kind: &str| KindCount {
        kind: kind.to_owned(),
        count: 0,
        files: 0,
        baseline_per_day: 0.0,
        per_day: 0.0,
    };
    for e in &events {
        let k = kinds
            .entry(e.kind.clone())
            .or_insert_with(|| blank(&e.kind));
        k.count += 1;
        k.files += u64::from(e.count);
    }
    let mut baseline_counts: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &baseline {
        *baseline_counts.entry(&e.kind).or_default() += 1;
    }
    for (kind, n) in &baseline_counts {
        kinds
            .entry((*kind).to_owned())
            .or_insert_with(|| blank(kind));
        if let Some(k) = kinds.get_mut(*kind) {
            k.baseline_per_day = *n as f64 / BASELINE_DAYS as f64;
        }
    }
    for k in kinds.values_mut() {
        k.per_day = k.count as f64 / period_days as f64;
    }
    let mut baseline_days: Vec<i64> = baseline.iter().map(|e| e.at.div_euclid(DAY_MS)).collect();
    baseline_days.sort_unstable();
    baseline_days.dedup();
    Ok(DepartureReport {
        chains: chains(&events),
        watch: settle(w, &today),
        from,
        to: today,
        events,
        truncated,
        kinds: kinds.into_values().collect(),
        baseline_days: i64::try_from(baseline_days.len()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, at: i64, lineage: &[&str], severity: &str, dest: &str) -> ReportEvent {
        ReportEvent {
            alert_id: id,
            at,
            received_at: at,
            kind: "file_to_removable".into(),
            severity: severity.into(),
            file_name: lineage.last().map(|s| (*s).to_owned()),
            destination_class: Some(dest.into()),
            size_bytes: None,
            count: 1,
            client_source: (id == 1).then(|| "Bitrix24".to_owned()),
            rows: (id == 1).then_some(1240),
            lineage: lineage.iter().map(|s| (*s).to_owned()).collect(),
            destination: None,
            acknowledged: false,
        }
    }

    #[test]
    fn events_of_one_file_make_one_chain() {
        let events = [
            event(
                3,
                30,
                &["CONTACT.csv", "clients.csv", "clients.zip"],
                "high",
                "removable",
            ),
            event(9, 90, &["other.csv"], "low", "local"),
            event(1, 10, &["CONTACT.csv", "clients.csv"], "low", "local"),
        ];
        let c = chains(&events);
        assert_eq!(c.len(), 1, "a lone name is no chain: {c:?}");
        assert_eq!(c[0].names, ["CONTACT.csv", "clients.csv", "clients.zip"]);
        assert_eq!(c[0].alert_ids, [1, 3], "oldest first");
        assert_eq!(c[0].severity, "high");
        assert_eq!(c[0].destinations, ["local", "removable"]);
        assert_eq!(c[0].client_source.as_deref(), Some("Bitrix24"));
        assert_eq!(c[0].rows, Some(1240));
    }

    #[test]
    fn an_open_watch_past_its_end_has_expired() {
        let w = Watch {
            id: 1,
            user_id: 2,
            email: "a@x".into(),
            display_name: "A".into(),
            last_day: "2026-11-01".into(),
            reason: "resigned".into(),
            lookback_days: 90,
            ends_on: "2026-12-01".into(),
            state: WatchState::Open,
            created_by: None,
            created_at: 0,
            updated_at: 0,
            ended_at: None,
            ended_by: None,
            after_last_day_at: None,
        };
        assert_eq!(settle(w.clone(), "2026-12-01").state, WatchState::Open);
        assert_eq!(settle(w, "2026-12-02").state, WatchState::Expired);
    }
}
