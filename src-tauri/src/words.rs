//! The few words the Rust side shows itself (tray menu, tooltip, window titles), in every
//! language of the app. The UI has its own dictionaries. Pure: no I/O.

use crate::prefs::Lang;

/// Tray and window texts of one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub clock_in: &'static str,
    pub clock_out: &'static str,
    pub open: &'static str,
    pub quit: &'static str,
    pub clocked_in: &'static str,
    pub clocked_out: &'static str,
    pub today: &'static str,
    pub prompt_title: &'static str,
}

/// The texts of a language.
pub fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            clock_in: "Clock in",
            clock_out: "Clock out",
            open: "Open Worktrace",
            quit: "Quit",
            clocked_in: "Clocked in",
            clocked_out: "Clocked out",
            today: "today",
            prompt_title: "Worktrace: you were away",
        },
        Lang::Ru => Words {
            clock_in: "Начать работу",
            clock_out: "Закончить работу",
            open: "Открыть Worktrace",
            quit: "Выйти",
            clocked_in: "На работе",
            clocked_out: "Не на работе",
            today: "сегодня",
            prompt_title: "Worktrace: вас не было на месте",
        },
    }
}

/// The tray tooltip: state and today's worked time.
///
/// ```text
/// (En, clocked in, 3_723_000 ms) → "Worktrace: Clocked in, 1:02 today"
/// ```
pub fn tooltip(lang: Lang, clocked_in: bool, worked_ms: i64) -> String {
    let w = words(lang);
    let state = if clocked_in {
        w.clocked_in
    } else {
        w.clocked_out
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
            tooltip(Lang::En, true, 3_723_000),
            "Worktrace: Clocked in, 1:02 today",
            "English tooltip"
        );
        assert!(
            tooltip(Lang::Ru, false, 0).contains("Не на работе"),
            "Russian tooltip is translated"
        );
        assert_eq!(hours_minutes(-5), "0:00", "negative time shows as zero");
    }
}
