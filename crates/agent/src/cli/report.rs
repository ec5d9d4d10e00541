//! `worktrace report` and `worktrace exports`: the days asked for, read from the database and
//! printed as a table, CSV or JSON.

use std::process::ExitCode;

use anyhow::bail;
use worktrace_agent::clock::now_ms;
use worktrace_agent::report;
use worktrace_agent::settings::Settings;
use worktrace_domain::GroupBy;
use worktrace_store::Store;

use crate::{ExportsArgs, ReportArgs};

pub fn report(settings: &Settings, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let clock = settings.day_clock();
    let today = clock.work_day(now_ms());
    let date = |text: &str| report::parse_date(text, today).map_err(anyhow::Error::msg);
    let (first, last) = match (&args.day, &args.week, &args.from, &args.to) {
        (Some(day), ..) => (date(day)?, date(day)?),
        (None, Some(week), ..) => report::week_of(date(week)?),
        (None, None, Some(from), Some(to)) => (date(from)?, date(to)?),
        _ => (today, today),
    };
    if first > last {
        bail!("--from {first} is after --to {last}; give the earlier day first");
    }
    let store = Store::open(&settings.database_path(), clock)?;
    let by: GroupBy = args.by.into();
    let rows = store.summary(first, last, by)?;
    print!("{}", report::render(&rows, by, args.format));
    Ok(ExitCode::SUCCESS)
}

pub fn exports(settings: &Settings, args: &ExportsArgs) -> anyhow::Result<ExitCode> {
    let clock = settings.day_clock();
    let today = clock.work_day(now_ms());
    let date = |text: &str| report::parse_date(text, today).map_err(anyhow::Error::msg);
    let first = args.from.as_deref().map(date).transpose()?.unwrap_or(today);
    let last = match (&args.to, &args.from) {
        (Some(to), _) => date(to)?,
        (None, Some(_)) => first,
        (None, None) => today,
    };
    if first > last {
        bail!("--from {first} is after --to {last}; give the earlier day first");
    }
    let (from_ms, _) = clock.day_range(first);
    let (_, to_ms) = clock.day_range(last);
    let store = Store::open(&settings.database_path(), clock)?;
    let rows = if args.records {
        store.export_events(from_ms, to_ms)?
    } else {
        store.export_incidents(from_ms, to_ms)?
    };
    print!(
        "{}",
        worktrace_agent::exports::render(&rows, &clock, args.format)
    );
    Ok(ExitCode::SUCCESS)
}
