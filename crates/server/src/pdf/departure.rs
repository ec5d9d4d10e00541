//! The departure report as a printable PDF: the watch, the exports per kind beside the 30 days
//! before, the files that went through several names, and every event, in English or Russian.
//!
//! Pure: takes the report the caller built (and authorised, and audited) and returns the
//! document's bytes; no I/O, no clock reads.

use super::{clip, pages, pdf_error, utc_minute, Lang, MARGIN};
use crate::error::Result;
use crate::ops::watch::DepartureReport;

struct Labels {
    title: &'static str,
    person: &'static str,
    last_day: &'static str,
    reason: &'static str,
    period: &'static str,
    generated: &'static str,
    kinds: &'static str,
    kind_columns: [&'static str; 5],
    chains: &'static str,
    no_chains: &'static str,
    events: &'static str,
    event_columns: [&'static str; 6],
    empty: &'static str,
    truncated: &'static str,
    after_last_day: &'static str,
    rows: &'static str,
    page: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::En => Labels {
            title: "Departure report",
            person: "Person",
            last_day: "Last working day",
            reason: "Reason",
            period: "Period",
            generated: "Generated (UTC)",
            kinds: "Exports by kind, beside the 30 days before",
            kind_columns: ["Kind", "Incidents", "Files", "Per day", "Per day before"],
            chains: "Files that went through several names",
            no_chains: "No file was renamed, zipped or copied on.",
            events: "Events (UTC, newest first)",
            event_columns: ["When", "Kind", "Severity", "File", "Where to", "Rows"],
            empty: "No export events in this period.",
            truncated: "Only the newest 10,000 events are listed.",
            after_last_day: "Activity after the last day was seen, first at",
            rows: "rows",
            page: "Page",
        },
        Lang::Ru => Labels {
            title: "Отчёт об увольнении",
            person: "Сотрудник",
            last_day: "Последний рабочий день",
            reason: "Причина",
            period: "Период",
            generated: "Сформирован (UTC)",
            kinds: "Выгрузки по видам в сравнении с 30 днями до того",
            kind_columns: ["Вид", "Случаи", "Файлы", "В день", "В день раньше"],
            chains: "Файлы, прошедшие через несколько имён",
            no_chains:
                "Ни один файл не переименовывался, не архивировался и не копировался дальше.",
            events: "События (UTC, сначала новые)",
            event_columns: ["Когда", "Вид", "Важность", "Файл", "Куда", "Строки"],
            empty: "За этот период выгрузок нет.",
            truncated: "Показаны только последние 10 000 событий.",
            after_last_day: "Замечена активность после последнего дня, впервые",
            rows: "строк",
            page: "Стр.",
        },
    }
}

const KIND_X: [f32; 5] = [15.0, 75.0, 100.0, 125.0, 150.0];
const EVENT_X: [f32; 6] = [15.0, 44.0, 80.0, 97.0, 139.0, 185.0];

/// `file_to_removable` → `file to removable`.
fn kind_words(kind: &str) -> String {
    kind.replace('_', " ")
}

/// Lays the report out on A4 pages: the watch, the kinds, the chains, then every event; long
/// reports continue on further pages.
pub fn render(r: &DepartureReport, generated_at: i64, lang: Lang) -> Result<Vec<u8>> {
    let l = labels(lang);
    // The document-info title is written without a text encoding marker: ASCII only there.
    let title = format!("Worktrace departure report {}", r.watch.id);
    let mut p = pages(&title, l.page)?;
    let w = &r.watch;
    p.text(&format!("Worktrace · {}", l.title), 16.0, MARGIN, p.y);
    p.y -= 9.0;
    let head = [
        format!("{}: {} ({})", l.person, w.display_name, w.email),
        format!("{}: {}", l.last_day, w.last_day),
        format!("{}: {}", l.reason, clip(&w.reason, 90)),
        format!("{}: {} – {}", l.period, r.from, r.to),
    ];
    for line in head {
        p.text(&line, 11.0, MARGIN, p.y);
        p.y -= 6.0;
    }
    p.text(
        &format!("{}: {}", l.generated, utc_minute(generated_at)),
        9.0,
        MARGIN,
        p.y,
    );
    p.y -= 8.0;
    if let Some(at) = w.after_last_day_at {
        p.text(
            &format!("{} {}", l.after_last_day, utc_minute(at)),
            11.0,
            MARGIN,
            p.y,
        );
        p.y -= 8.0;
    }
    p.y -= 4.0;

    p.text(l.kinds, 12.0, MARGIN, p.y);
    p.y -= 8.0;
    if r.kinds.is_empty() {
        p.cells(&[MARGIN], &[l.empty], 10.0);
    } else {
        p.headings(&KIND_X, &l.kind_columns);
        for k in &r.kinds {
            let cells = [
                kind_words(&k.kind),
                k.count.to_string(),
                k.files.to_string(),
                format!("{:.2}", k.per_day),
                format!("{:.2}", k.baseline_per_day),
            ];
            p.cells(&KIND_X, &cells, 9.0);
        }
    }
    p.y -= 6.0;

    p.ensure(3.0);
    p.text(l.chains, 12.0, MARGIN, p.y);
    p.y -= 8.0;
    if r.chains.is_empty() {
        p.cells(&[MARGIN], &[l.no_chains], 10.0);
    }
    for c in &r.chains {
        let source = c
            .client_source
            .as_deref()
            .map(|s| format!("{s} → "))
            .unwrap_or_default();
        let rows = c
            .rows
            .map(|n| format!(" · {n} {}", l.rows))
            .unwrap_or_default();
        let line = format!(
            "[{}] {source}{}{rows} · {}",
            c.severity,
            c.names.join(" → "),
            c.destinations.join(", ")
        );
        p.cells(&[MARGIN], &[clip(&line, 110)], 9.0);
    }
    p.y -= 6.0;

    p.ensure(3.0);
    p.text(l.events, 12.0, MARGIN, p.y);
    p.y -= 8.0;
    if r.events.is_empty() {
        p.cells(&[MARGIN], &[l.empty], 10.0);
    } else {
        if r.truncated {
            p.cells(&[MARGIN], &[l.truncated], 9.0);
        }
        p.headings(&EVENT_X, &l.event_columns);
        for e in &r.events {
            let place = [e.destination_class.as_deref(), e.destination.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            let cells = [
                utc_minute(e.at),
                clip(&kind_words(&e.kind), 22),
                e.severity.clone(),
                clip(e.file_name.as_deref().unwrap_or("—"), 23),
                clip(&place, 25),
                e.rows.map(|n| n.to_string()).unwrap_or_default(),
            ];
            p.cells(&EVENT_X, &cells, 8.5);
            if e.lineage.len() > 1 {
                p.cells(&[EVENT_X[3]], &[clip(&e.lineage.join(" → "), 60)], 7.5);
            }
        }
    }
    p.footer();
    p.doc.save_to_bytes().map_err(pdf_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Watch, WatchState};
    use crate::ops::watch::{KindCount, ReportChain, ReportEvent};

    fn report(events: usize) -> DepartureReport {
        let event = |i: usize| ReportEvent {
            alert_id: i as i64,
            at: 1_764_700_000_000 - i as i64 * 60_000,
            received_at: 1_764_700_000_000,
            kind: "file_to_removable".into(),
            severity: "high".into(),
            file_name: Some("клиенты.zip".into()),
            destination_class: Some("removable".into()),
            size_bytes: Some(4096),
            count: 1,
            client_source: Some("Bitrix24".into()),
            rows: Some(1240),
            lineage: vec![
                "CONTACT.csv".into(),
                "клиенты.csv".into(),
                "клиенты.zip".into(),
            ],
            destination: Some("KINGSTON".into()),
            acknowledged: false,
        };
        DepartureReport {
            watch: Watch {
                id: 3,
                user_id: 4,
                email: "anna@acme.test".into(),
                display_name: "Анна Сотрудникова".into(),
                last_day: "2026-12-18".into(),
                reason: "уходит к конкуренту".into(),
                lookback_days: 90,
                ends_on: "2027-01-17".into(),
                state: WatchState::Open,
                created_by: Some(1),
                created_at: 0,
                updated_at: 0,
                ended_at: None,
                ended_by: None,
                after_last_day_at: Some(1_764_800_000_000),
            },
            from: "2026-09-19".into(),
            to: "2026-12-03".into(),
            events: (0..events).map(event).collect(),
            truncated: false,
            chains: vec![ReportChain {
                names: vec![
                    "CONTACT.csv".into(),
                    "клиенты.csv".into(),
                    "клиенты.zip".into(),
                ],
                client_source: Some("Bitrix24".into()),
                rows: Some(1240),
                alert_ids: vec![0],
                severity: "high".into(),
                destinations: vec!["removable".into()],
            }],
            kinds: vec![KindCount {
                kind: "file_to_removable".into(),
                count: events as u64,
                files: events as u64,
                baseline_per_day: 0.0,
                per_day: 1.0,
            }],
            baseline_days: 0,
        }
    }

    #[test]
    fn a_long_report_runs_over_pages_in_both_languages() {
        for lang in [Lang::En, Lang::Ru] {
            let bytes = render(&report(150), 1_764_750_000_000, lang).expect("renders");
            assert!(bytes.starts_with(b"%PDF-"));
            let text = String::from_utf8_lossy(&bytes);
            let pages = text
                .split("/Count")
                .skip(1)
                .filter_map(|rest| {
                    rest.trim_start()
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse::<u32>()
                        .ok()
                })
                .max();
            assert!(
                pages.is_some_and(|n| n >= 3),
                "150 events with their chains need at least three A4 pages, got {pages:?}"
            );
        }
        let empty = DepartureReport {
            events: vec![],
            chains: vec![],
            kinds: vec![],
            ..report(0)
        };
        assert!(render(&empty, 0, Lang::En)
            .expect("an empty report renders too")
            .starts_with(b"%PDF-"));
    }
}
