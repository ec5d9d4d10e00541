//! The printable timesheet report: a team's time per person and day over a date range, laid out
//! on A4 pages as a PDF, in English or Russian (the bundled DejaVu Sans covers Cyrillic).
//!
//! Pure: takes already-authorised, already-summed rows and returns the document's bytes; no
//! I/O, no clock reads, no authorization decisions.

pub mod departure;

use printpdf::{IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point};

use crate::error::{Error, Result};

/// DejaVu Sans (licence in `assets/DejaVuSans-LICENSE.txt`), embedded so names in any script
/// print the same on every server.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Language of the report's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    /// `ru`, `ru-RU` → Russian; anything else → English.
    pub fn parse(s: &str) -> Lang {
        if s.to_ascii_lowercase().starts_with("ru") {
            Lang::Ru
        } else {
            Lang::En
        }
    }
}

struct Labels {
    title: &'static str,
    team: &'static str,
    period: &'static str,
    generated: &'static str,
    columns: [&'static str; 7],
    per_person: &'static str,
    empty: &'static str,
    page: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::En => Labels {
            title: "Timesheet",
            team: "Team",
            period: "Period",
            generated: "Generated (UTC)",
            columns: [
                "Day",
                "Person",
                "Sessions",
                "Clocked, h",
                "Active, h",
                "Idle, h",
                "Activity",
            ],
            per_person: "Totals per person",
            empty: "No recorded time in this period.",
            page: "Page",
        },
        Lang::Ru => Labels {
            title: "Табель учёта времени",
            team: "Команда",
            period: "Период",
            generated: "Сформирован (UTC)",
            columns: [
                "День",
                "Сотрудник",
                "Сессии",
                "Отмечено, ч",
                "Активно, ч",
                "Простой, ч",
                "Активность",
            ],
            per_person: "Итого по сотрудникам",
            empty: "За этот период нет учтённого времени.",
            page: "Стр.",
        },
    }
}

/// One line of the timesheet: one person's totals on one day (or over the whole period).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// `YYYY-MM-DD`, or empty on a per-person total.
    pub day: String,
    pub name: String,
    pub sessions: u32,
    pub clocked_ms: i64,
    pub active_ms: i64,
    pub idle_ms: i64,
    /// Share of active time with input, 0..1.
    pub activity_level: f64,
}

/// What the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Timesheet {
    pub team: String,
    pub from: String,
    pub to: String,
    /// When it was generated, UTC milliseconds (passed in: this module reads no clock).
    pub generated_at: i64,
    /// Per person per day, in print order.
    pub rows: Vec<ReportRow>,
}

/// Sums each person's rows over the period, in the order people first appear.
///
/// ```text
/// [(03-03, Ann, 2h), (03-03, Bob, 1h), (03-04, Ann, 3h)] → [(Ann, 5h), (Bob, 1h)]
/// ```
pub fn per_person(rows: &[ReportRow]) -> Vec<ReportRow> {
    let mut out: Vec<ReportRow> = Vec::new();
    for r in rows {
        let i = match out.iter().position(|o| o.name == r.name) {
            Some(i) => i,
            None => {
                out.push(ReportRow {
                    day: String::new(),
                    name: r.name.clone(),
                    sessions: 0,
                    clocked_ms: 0,
                    active_ms: 0,
                    idle_ms: 0,
                    activity_level: 0.0,
                });
                out.len() - 1
            }
        };
        let o = &mut out[i];
        // Input time is not kept on the row; weight each day's level by its active time.
        let input = o.activity_level * o.active_ms as f64 + r.activity_level * r.active_ms as f64;
        o.sessions += r.sessions;
        o.clocked_ms += r.clocked_ms;
        o.active_ms += r.active_ms;
        o.idle_ms += r.idle_ms;
        o.activity_level = if o.active_ms > 0 {
            (input / o.active_ms as f64).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    out
}

fn hours(ms: i64) -> String {
    format!("{:.2}", ms as f64 / 3_600_000.0)
}

/// Cuts text to `max` characters (not bytes: names may be Cyrillic), marking the cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 15.0;
const ROW_H: f32 = 6.0;
const COLUMNS_X: [f32; 7] = [15.0, 37.0, 92.0, 108.0, 130.0, 151.0, 172.0];

struct Pages {
    doc: printpdf::PdfDocumentReference,
    font: IndirectFontRef,
    layer: PdfLayerReference,
    y: f32,
    page: u32,
    page_label: &'static str,
}

impl Pages {
    fn text(&self, s: &str, size: f32, x: f32, y: f32) {
        self.layer.use_text(s, size, Mm(x), Mm(y), &self.font);
    }

    fn rule(&self, y: f32) {
        self.layer.add_line(Line {
            points: vec![
                (Point::new(Mm(MARGIN), Mm(y)), false),
                (Point::new(Mm(PAGE_W - MARGIN), Mm(y)), false),
            ],
            is_closed: false,
        });
    }

    fn footer(&self) {
        self.text(
            &format!("{} {}", self.page_label, self.page),
            8.0,
            MARGIN,
            10.0,
        );
    }

    /// Room for `rows` more rows, else a new page.
    fn ensure(&mut self, rows: f32) {
        if self.y - rows * ROW_H < 20.0 {
            self.footer();
            let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "report");
            self.layer = self.doc.get_page(page).get_layer(layer);
            self.page += 1;
            self.y = PAGE_H - MARGIN - 5.0;
        }
    }

    /// One line of cells at the column positions `xs`.
    fn cells<S: AsRef<str>>(&mut self, xs: &[f32], cells: &[S], size: f32) {
        self.ensure(1.0);
        for (x, c) in xs.iter().zip(cells) {
            self.text(c.as_ref(), size, *x, self.y);
        }
        self.y -= ROW_H;
    }

    /// Column headings at `xs`, underlined.
    fn headings(&mut self, xs: &[f32], columns: &[&str]) {
        self.ensure(2.0);
        for (x, c) in xs.iter().zip(columns) {
            self.text(c, 8.5, *x, self.y);
        }
        self.rule(self.y - 2.0);
        self.y -= ROW_H + 1.0;
    }

    fn header_row(&mut self, columns: &[&str; 7]) {
        self.headings(&COLUMNS_X, columns);
    }

    fn row(&mut self, r: &ReportRow) {
        let cells = [
            r.day.clone(),
            clip(&r.name, 30),
            r.sessions.to_string(),
            hours(r.clocked_ms),
            hours(r.active_ms),
            hours(r.idle_ms),
            format!("{} %", (r.activity_level * 100.0).round()),
        ];
        self.cells(&COLUMNS_X, &cells, 9.0);
    }
}

/// A new A4 document with its first page, the bundled font and the page footer's label.
fn pages(title: &str, page_label: &'static str) -> Result<Pages> {
    let (doc, page, layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "report");
    let font = doc
        .add_external_font(std::io::Cursor::new(FONT))
        .map_err(pdf_error)?;
    let layer = doc.get_page(page).get_layer(layer);
    Ok(Pages {
        doc,
        font,
        layer,
        y: PAGE_H - MARGIN - 5.0,
        page: 1,
        page_label,
    })
}

/// `YYYY-MM-DD HH:MM` (UTC) of an instant.
fn utc_minute(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn pdf_error(e: impl std::fmt::Display) -> Error {
    Error::Pdf(e.to_string())
}

/// Lays the timesheet out as a PDF: a title block, one row per person per day, then each
/// person's totals. Long reports continue on further pages with the column headings repeated.
pub fn render(sheet: &Timesheet, lang: Lang) -> Result<Vec<u8>> {
    let l = labels(lang);
    // The document-info title is written without a text encoding marker, so viewers garble
    // anything but ASCII there; the page itself carries the team's name in any script.
    let title = format!("Worktrace timesheet {} - {}", sheet.from, sheet.to);
    let mut p = pages(&title, l.page)?;
    let generated = utc_minute(sheet.generated_at);
    p.text(&format!("Worktrace · {}", l.title), 16.0, MARGIN, p.y);
    p.y -= 9.0;
    p.text(&format!("{}: {}", l.team, sheet.team), 11.0, MARGIN, p.y);
    p.y -= 6.0;
    p.text(
        &format!("{}: {} – {}", l.period, sheet.from, sheet.to),
        11.0,
        MARGIN,
        p.y,
    );
    p.y -= 6.0;
    p.text(&format!("{}: {generated}", l.generated), 9.0, MARGIN, p.y);
    p.y -= 12.0;
    if sheet.rows.is_empty() {
        p.text(l.empty, 11.0, MARGIN, p.y);
    } else {
        p.header_row(&l.columns);
        for r in &sheet.rows {
            p.row(r);
        }
        p.y -= 6.0;
        p.ensure(4.0);
        p.text(l.per_person, 12.0, MARGIN, p.y);
        p.y -= 8.0;
        let mut columns = l.columns;
        columns[0] = "";
        p.header_row(&columns);
        for r in per_person(&sheet.rows) {
            p.row(&r);
        }
    }
    p.footer();
    p.doc.save_to_bytes().map_err(pdf_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: &str, name: &str, hours: i64, level: f64) -> ReportRow {
        ReportRow {
            day: day.into(),
            name: name.into(),
            sessions: 1,
            clocked_ms: hours * 3_600_000,
            active_ms: hours * 3_600_000,
            idle_ms: 0,
            activity_level: level,
        }
    }

    #[test]
    fn people_are_summed_with_activity_weighted_by_time() {
        let rows = [
            row("2025-03-03", "Ann", 2, 1.0),
            row("2025-03-03", "Bob", 1, 0.5),
            row("2025-03-04", "Ann", 2, 0.0),
        ];
        let out = per_person(&rows);
        assert_eq!(out.len(), 2, "one total per person");
        assert_eq!(
            out[0].name, "Ann",
            "people keep the order they first appear in"
        );
        assert_eq!(out[0].active_ms, 4 * 3_600_000, "Ann's two days add up");
        assert_eq!(out[0].sessions, 2, "sessions add up");
        assert!(
            (out[0].activity_level - 0.5).abs() < 1e-9,
            "2h at 100 % and 2h at 0 % is 50 %, not the mean of levels by row count"
        );
    }

    #[test]
    fn names_are_clipped_by_characters_not_bytes() {
        assert_eq!(clip("Анна", 10), "Анна", "short names stay whole");
        assert_eq!(
            clip("Александра Константиновна", 8),
            "Алексан…",
            "no split inside a letter"
        );
    }

    #[test]
    fn a_long_russian_report_is_a_multi_page_pdf() {
        let rows: Vec<ReportRow> = (0..120)
            .map(|i| {
                row(
                    &format!("2025-03-{:02}", i % 28 + 1),
                    "Анна Сотрудникова",
                    8,
                    0.7,
                )
            })
            .collect();
        let sheet = Timesheet {
            team: "Отдел продаж".into(),
            from: "2025-03-01".into(),
            to: "2025-03-28".into(),
            generated_at: 1_741_000_000_000,
            rows,
        };
        let bytes = render(&sheet, Lang::Ru).expect("renders");
        assert!(
            bytes.starts_with(b"%PDF-"),
            "a PDF file starts with its magic"
        );
        let text = String::from_utf8_lossy(&bytes);
        // The page tree's `/Count N`: how many pages the document has.
        let pages = text
            .split("/Count")
            .skip(1)
            .filter_map(|rest| {
                let digits: String = rest
                    .trim_start()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse::<u32>().ok()
            })
            .max();
        assert!(
            pages.is_some_and(|n| n >= 3),
            "120 rows and their totals need at least three A4 pages, got {pages:?}"
        );
        let empty = Timesheet {
            rows: vec![],
            ..sheet
        };
        let bytes = render(&empty, Lang::En).expect("an empty period renders too");
        assert!(
            bytes.starts_with(b"%PDF-"),
            "an empty report is still a PDF"
        );
    }
}
