//! Explainable per-person baselines: how many files (copies, visits, jobs) a person sends out
//! per day and kind, their own 95th percentile over the days before, their team's, and whether
//! a day is far above both. Every verdict says why in words and numbers; there is no score.
//!
//! Pure: the store reads the export alerts, this adds them up and judges.

use std::collections::{BTreeMap, HashMap};

use worktrace_domain::day::{date_of_epoch_days, DAY_MS};
use worktrace_domain::{AnomalyPolicy, Millis};

/// The kinds of export that take data out, as the alerts store them, with how a sentence
/// names their count.
pub const EGRESS_KINDS: [(&str, &str); 6] = [
    ("file_to_removable", "files to removable media"),
    ("file_to_network", "files to shares or cloud folders"),
    (
        "file_to_app",
        "data files opened by messengers or mail clients",
    ),
    ("upload_site", "upload-site visits after a data file"),
    ("print_job", "print jobs"),
    ("clipboard_bulk", "bulk clipboard copies"),
];

/// Whether alerts of `kind` take data out ([`EGRESS_KINDS`]).
pub fn is_egress(kind: worktrace_domain::ExportKind) -> bool {
    let name = serde_json::to_value(kind).ok();
    let name = name.as_ref().and_then(serde_json::Value::as_str);
    EGRESS_KINDS.iter().any(|(k, _)| Some(*k) == name)
}

/// One export alert, as the baseline reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressRow {
    pub user_id: i64,
    pub at: Millis,
    pub kind: String,
    /// Files (or copies) in the incident so far.
    pub count: u64,
    /// The incident the record belongs to: its records count once, at their largest count.
    pub incident: Option<String>,
}

/// Days since 1970-01-01 of an instant (UTC): the day an export counts on.
pub fn day_of(at: Millis) -> i64 {
    at.div_euclid(DAY_MS)
}

/// Files per (person, day, kind): each incident once, at its largest count.
///
/// ```text
/// [(anna, d, removable, 1, inc 7), (anna, d, removable, 20, inc 7), (anna, d, removable, 3, -)]
///   → {(anna, d, removable): 23}
/// ```
pub fn daily(rows: &[EgressRow]) -> BTreeMap<(i64, i64, String), u64> {
    let mut incidents: HashMap<(i64, i64, &str, &str), u64> = HashMap::new();
    let mut out: BTreeMap<(i64, i64, String), u64> = BTreeMap::new();
    for r in rows {
        let day = day_of(r.at);
        match &r.incident {
            Some(id) => {
                let max = incidents.entry((r.user_id, day, &r.kind, id)).or_default();
                *max = (*max).max(r.count);
            }
            None => *out.entry((r.user_id, day, r.kind.clone())).or_default() += r.count,
        }
    }
    for ((user, day, kind, _), n) in incidents {
        *out.entry((user, day, kind.to_owned())).or_default() += n;
    }
    out
}

/// The 95th percentile by nearest rank (0 for none).
///
/// ```text
/// [0; 28] + [3, 9] → 3     (30 values: rank 29 of 30)
/// ```
pub fn p95(values: &[u64]) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = (v.len() * 95).div_ceil(100).max(1);
    v[rank - 1]
}

/// A person's usual files a day of one kind over some days, and their team's: the 95th
/// percentiles, days without exports counted as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usual {
    pub own_p95: u64,
    pub team_p95: u64,
}

/// [`Usual`] of `user` for `kind` over `days`; `team`: the other members of their teams (the
/// person among them is left out).
pub fn usual(
    totals: &BTreeMap<(i64, i64, String), u64>,
    user: i64,
    team: &[i64],
    days: std::ops::Range<i64>,
    kind: &str,
) -> Usual {
    let get = |u: i64, d: i64| totals.get(&(u, d, kind.to_owned())).copied().unwrap_or(0);
    let own: Vec<u64> = days.clone().map(|d| get(user, d)).collect();
    let theirs: Vec<u64> = team
        .iter()
        .filter(|m| **m != user)
        .flat_map(|m| days.clone().map(move |d| get(*m, d)))
        .collect();
    Usual {
        own_p95: p95(&own),
        team_p95: p95(&theirs),
    }
}

/// A day far above the usual, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusual {
    pub user_id: i64,
    pub day: i64,
    pub kind: String,
    pub files: u64,
    pub own_p95: u64,
    pub team_p95: u64,
    /// "25 files to removable media on 2026-12-03; usually at most 3 a day; the team at most 4".
    pub explanation: String,
}

/// Judges `user`'s `day` for each kind: unusual when the day's files reach the policy's
/// minimum and exceed `factor_percent` % of both the person's 95th percentile and their
/// team's over the `baseline_days` before (days without exports count as 0). `team`: the
/// other members of the person's teams. A person whose first export in the baseline lies less
/// than half the baseline days back is not judged: there is no usual yet.
pub fn judge(
    totals: &BTreeMap<(i64, i64, String), u64>,
    user: i64,
    team: &[i64],
    day: i64,
    policy: &AnomalyPolicy,
) -> Vec<Unusual> {
    if !policy.enabled {
        return Vec::new();
    }
    let get = |u: i64, d: i64, kind: &str| totals.get(&(u, d, kind.to_owned())).copied();
    let before = (day - i64::from(policy.baseline_days))..day;
    // Someone seen exporting for less than half the baseline has no usual to compare with.
    let first_seen = totals
        .keys()
        .filter(|(u, d, _)| *u == user && before.contains(d))
        .map(|(_, d, _)| *d)
        .min();
    if first_seen.is_none_or(|d| day - d < i64::from(policy.baseline_days.div_ceil(2))) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (kind, words) in EGRESS_KINDS {
        let files = get(user, day, kind).unwrap_or(0);
        if files < u64::from(policy.min_files) {
            continue;
        }
        let Usual { own_p95, team_p95 } = usual(totals, user, team, before.clone(), kind);
        let above = |usual: u64| files * 100 > usual * u64::from(policy.factor_percent);
        if above(own_p95) && above(team_p95) {
            let team_words = if !team.iter().any(|m| *m != user) {
                "no team to compare with".to_owned()
            } else {
                format!("the team at most {team_p95}")
            };
            out.push(Unusual {
                user_id: user,
                day,
                kind: kind.to_owned(),
                files,
                own_p95,
                team_p95,
                explanation: format!(
                    "{files} {words} on {}; usually at most {own_p95} a day (95th percentile of \
                     the {} days before); {team_words}",
                    date_of_epoch_days(day),
                    policy.baseline_days
                ),
            });
        }
    }
    out
}

/// The alert id (unique per PC, never one of the PC's own, which are positive, nor a watch's)
/// of the unusual-day alert of `day` and `kind`.
pub fn alert_client_id(day: i64, kind: &str) -> i64 {
    let k = EGRESS_KINDS
        .iter()
        .position(|(k, _)| *k == kind)
        .unwrap_or(EGRESS_KINDS.len());
    -(1_000_000_000_000 + day.rem_euclid(1_000_000_000) * 16 + k as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 20_425; // 2025-12-03

    fn row(user: i64, day: i64, kind: &str, count: u64, incident: Option<&str>) -> EgressRow {
        EgressRow {
            user_id: user,
            at: day * DAY_MS + 3_600_000,
            kind: kind.into(),
            count,
            incident: incident.map(str::to_owned),
        }
    }

    #[test]
    fn an_incident_counts_once_at_its_largest_count() {
        let t = daily(&[
            row(1, DAY, "file_to_removable", 1, Some("7")),
            row(1, DAY, "file_to_removable", 20, Some("7")),
            row(1, DAY, "file_to_removable", 3, None),
        ]);
        assert_eq!(t[&(1, DAY, "file_to_removable".into())], 23);
    }

    #[test]
    fn egress_kinds_are_told_by_their_stored_names() {
        use worktrace_domain::ExportKind::*;
        for kind in [
            FileToRemovable,
            FileToNetwork,
            FileToApp,
            UploadSite,
            PrintJob,
            ClipboardBulk,
        ] {
            assert!(is_egress(kind), "{kind:?}");
        }
        for kind in [RemovableMounted, RemovableUnmounted, DataFileCreated] {
            assert!(!is_egress(kind), "{kind:?}");
        }
    }

    #[test]
    fn the_95th_percentile_by_nearest_rank() {
        let mut v = vec![0; 28];
        v.extend([3, 9]);
        assert_eq!(p95(&v), 3);
        assert_eq!(p95(&[]), 0);
        assert_eq!(p95(&[5]), 5);
    }

    /// Anna (1) copies 2-3 files a day; Bert and Cleo (2, 3) about 4; on DAY Anna copies 25.
    fn history(anna_today: u64, anna_daily: u64) -> BTreeMap<(i64, i64, String), u64> {
        let mut rows = Vec::new();
        for d in DAY - 30..DAY {
            rows.push(row(
                1,
                d,
                "file_to_removable",
                anna_daily + (d as u64 % 2),
                None,
            ));
            rows.push(row(2, d, "file_to_removable", 4, None));
            rows.push(row(3, d, "file_to_removable", 3, None));
        }
        rows.push(row(1, DAY, "file_to_removable", anna_today, None));
        daily(&rows)
    }

    #[test]
    fn a_day_far_above_the_person_and_the_team_is_unusual_and_says_why() {
        let policy = AnomalyPolicy::default();
        let found = judge(&history(25, 2), 1, &[1, 2, 3], DAY, &policy);
        assert_eq!(found.len(), 1, "{found:?}");
        let u = &found[0];
        assert_eq!((u.files, u.own_p95, u.team_p95), (25, 3, 4));
        assert_eq!(
            u.explanation,
            "25 files to removable media on 2025-12-03; usually at most 3 a day (95th \
             percentile of the 30 days before); the team at most 4"
        );
    }

    #[test]
    fn a_person_who_exports_that_much_every_day_is_not_unusual() {
        let policy = AnomalyPolicy::default();
        assert!(judge(&history(25, 24), 1, &[1, 2, 3], DAY, &policy).is_empty());
        // Far above the person, but the team does as much: not unusual either.
        let mut t = history(25, 2);
        for d in DAY - 30..DAY {
            t.insert((2, d, "file_to_removable".into()), 30);
        }
        assert!(judge(&t, 1, &[1, 2, 3], DAY, &policy).is_empty());
        // Below the minimum: never.
        assert!(judge(&history(9, 0), 1, &[1, 2, 3], DAY, &policy).is_empty());
        // No usual yet: the first export ten days ago.
        let recent = daily(&[
            row(1, DAY - 10, "file_to_removable", 1, None),
            row(1, DAY, "file_to_removable", 25, None),
        ]);
        assert!(judge(&recent, 1, &[1], DAY, &policy).is_empty());
        let off = AnomalyPolicy {
            enabled: false,
            ..policy
        };
        assert!(judge(&history(25, 2), 1, &[1, 2, 3], DAY, &off).is_empty());
    }

    #[test]
    fn alert_ids_are_apart_from_the_pc_s_and_each_other() {
        let a = alert_client_id(DAY, "file_to_removable");
        assert!(a < 0);
        assert_ne!(a, alert_client_id(DAY, "upload_site"));
        assert_ne!(a, alert_client_id(DAY + 1, "file_to_removable"));
        assert!(a < crate::watch::alert_client_id(1_000_000, "2026-12-03"));
    }
}
