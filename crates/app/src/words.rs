//! The few words the Rust side shows itself (tray menu, tooltip, window titles), in every
//! language of the app. The UI has its own dictionaries. Pure: no I/O.

use crate::prefs::Lang;

/// Tray and window texts of one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub clock_in: &'static str,
    pub clock_out: &'static str,
    pub pause_short: &'static str,
    pub pause_open: &'static str,
    pub resume: &'static str,
    pub open: &'static str,
    pub quit: &'static str,
    pub clocked_in: &'static str,
    pub clocked_out: &'static str,
    pub paused: &'static str,
    pub today: &'static str,
    pub prompt_title: &'static str,
}

/// The texts of a language.
pub fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            clock_in: "Clock in",
            clock_out: "Clock out",
            pause_short: "Pause for 15 minutes",
            pause_open: "Pause until I resume",
            resume: "Resume tracking",
            open: "Open Worktrace",
            quit: "Quit",
            clocked_in: "Clocked in",
            clocked_out: "Clocked out",
            paused: "Paused",
            today: "today",
            prompt_title: "Worktrace: you were away",
        },
        Lang::Ru => Words {
            clock_in: "Начать работу",
            clock_out: "Закончить работу",
            pause_short: "Пауза на 15 минут",
            pause_open: "Пауза до возобновления",
            resume: "Возобновить учёт",
            open: "Открыть Worktrace",
            quit: "Выйти",
            clocked_in: "На работе",
            clocked_out: "Не на работе",
            paused: "Пауза",
            today: "сегодня",
            prompt_title: "Worktrace: вас не было на месте",
        },
    }
}

/// The tray tooltip: state and today's worked time.
///
/// ```text
/// (En, clocked in, not paused, 3_723_000 ms) → "Worktrace: Clocked in, 1:02 today"
/// (En, clocked in, paused, 0 ms)             → "Worktrace: Paused, 0:00 today"
/// ```
pub fn tooltip(lang: Lang, clocked_in: bool, paused: bool, worked_ms: i64) -> String {
    let w = words(lang);
    let state = match (clocked_in, paused) {
        (_, true) => w.paused,
        (true, false) => w.clocked_in,
        (false, false) => w.clocked_out,
    };
    format!(
        "Worktrace: {state}, {} {}",
        hours_minutes(worked_ms),
        w.today
    )
}

/// `3_723_000` → `1:02` (rounded down to the minute; negative counts as zero).
pub fn hours_minutes(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tooltip_says_state_and_time_in_each_language() {
        assert_eq!(
            tooltip(Lang::En, true, false, 3_723_000),
            "Worktrace: Clocked in, 1:02 today",
            "English tooltip"
        );
        assert!(
            tooltip(Lang::Ru, false, false, 0).contains("Не на работе"),
            "Russian tooltip is translated"
        );
        assert_eq!(
            tooltip(Lang::En, true, true, 0),
            "Worktrace: Paused, 0:00 today",
            "a pause shows instead of the clocked state"
        );
        assert_eq!(hours_minutes(-5), "0:00", "negative time shows as zero");
    }
}
