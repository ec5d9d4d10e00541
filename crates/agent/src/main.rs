//! `worktrace`: the headless agent and its reports.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use worktrace_agent::clock::now_ms;
use worktrace_agent::command::{Command, Reply, MAX_PAUSE_MINUTES};
use worktrace_agent::engine::{self, Engine, RunEnd, RunOptions};
use worktrace_agent::lock::AgentLock;
use worktrace_agent::report::{self, format_duration, Format};
use worktrace_agent::settings::{Settings, Sources};
use worktrace_agent::sync::{self, SecretCache, SyncError};
use worktrace_agent::update;
use worktrace_agent::{pause, status};
use worktrace_domain::{GroupBy, IdleChoice, Millis};
use worktrace_store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "worktrace",
    version = worktrace_agent::version::current(),
    about = "Worktrace: a private, exact record of your work time"
)]
struct Cli {
    /// Folder of the database (default: the platform data directory).
    #[arg(long, global = true, env = "WORKTRACE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Settings file (default: worktrace.toml in the platform config directory).
    #[arg(long, global = true, env = "WORKTRACE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Track in the foreground until stopped (Ctrl-C), with a live status line.
    Run {
        /// Clock in at start (unless already clocked in).
        #[arg(long)]
        clock_in: bool,
        /// No live status line.
        #[arg(long)]
        quiet: bool,
    },
    /// Start a work session.
    ClockIn,
    /// End the work session.
    ClockOut,
    /// Answer the idle prompt for the idle period that started at IDLE_START (ms, see `status`).
    Decide {
        idle_start: Millis,
        #[arg(value_enum)]
        choice: Choice,
    },
    /// Pause tracking where the company's policy allows it: no window, title or idle time is
    /// recorded until `worktrace resume`; in a work session the time counts as a break.
    /// Export detection goes on.
    Pause {
        /// End the pause by itself after this many minutes (1 to 1440).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PAUSE_MINUTES)))]
        minutes: Option<u32>,
    },
    /// End the pause.
    Resume,
    /// Clocked in since when, today's active and idle time, the current app.
    Status,
    /// Time by app, category, title, hour or day.
    Report(ReportArgs),
    /// Check the record chain of the database and name the first broken record.
    Verify,
    /// Salvage a damaged database: keep it aside and copy what can still be read into a new
    /// one (the running agent does this by itself when it starts on a damaged database).
    Repair,
    /// Enroll this PC with the company server (default: [server] url and enrollment_token of
    /// the config file). The device secret goes to the OS keychain.
    Enroll {
        /// The server, e.g. https://worktrace.example.com
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// The one-time enrollment token from IT.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
    },
    /// Upload state; with --now, upload what is queued now.
    Sync {
        /// Upload now instead of waiting for the next round.
        #[arg(long)]
        now: bool,
    },
    /// What was sent to the company server: the last batches exactly as sent (JSON).
    Sent {
        /// How many batches, newest first.
        #[arg(long, default_value_t = 10, value_name = "N")]
        last: usize,
    },
    /// Data-export events (USB sticks, exported files, print jobs, clipboard bulk copies,
    /// upload sites): one row per incident.
    Exports(ExportsArgs),
    /// Remove what Worktrace recorded on this PC: your data folder (the database and the
    /// files beside it) and the device secret; with --all-users (an administrator's uninstall,
    /// the MSI's REMOVE_DATA=1) the Worktrace folders of every user profile. Cannot be undone.
    RemoveData {
        /// Every user profile of this PC, not only yours.
        #[arg(long)]
        all_users: bool,
        /// Confirms the removal (nothing is removed without it).
        #[arg(long)]
        yes: bool,
    },
    /// Settings commands.
    Config {
        #[command(subcommand)]
        command: ConfigCmd,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Choice {
    Keep,
    Discard,
    Break,
    Meeting,
}

impl From<Choice> for IdleChoice {
    fn from(c: Choice) -> Self {
        match c {
            Choice::Keep => IdleChoice::Keep,
            Choice::Discard => IdleChoice::Discard,
            Choice::Break => IdleChoice::Break,
            Choice::Meeting => IdleChoice::Meeting,
        }
    }
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Read the settings file and the policy in it, and say what is wrong.
    Check,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// One work day: YYYY-MM-DD, today or yesterday (default: today).
    #[arg(long, conflicts_with_all = ["week", "from", "to"])]
    day: Option<String>,
    /// The week (Monday to Sunday) containing DATE (default: this week).
    #[arg(long, num_args = 0..=1, default_missing_value = "today", value_name = "DATE")]
    week: Option<String>,
    /// First day of a range (with --to).
    #[arg(long, requires = "to", conflicts_with = "week")]
    from: Option<String>,
    /// Last day of a range (with --from).
    #[arg(long, requires = "from", conflicts_with = "week")]
    to: Option<String>,
    /// Grouping.
    #[arg(long, value_enum, default_value = "app")]
    by: By,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct ExportsArgs {
    /// First work day: YYYY-MM-DD, today or yesterday (default: today).
    #[arg(long)]
    from: Option<String>,
    /// Last work day (default: the --from day, else today).
    #[arg(long)]
    to: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Every stored record instead of one row per incident.
    #[arg(long)]
    records: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum By {
    App,
    Category,
    Title,
    Hour,
    Day,
}

impl From<By> for GroupBy {
    fn from(b: By) -> Self {
        match b {
            By::App => GroupBy::App,
            By::Category => GroupBy::Category,
            By::Title => GroupBy::Title,
            By::Hour => GroupBy::Hour,
            By::Day => GroupBy::Day,
        }
    }
}

fn main() -> ExitCode {
    worktrace_agent::init_logging();
    let cli = Cli::parse();
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("worktrace: {}", worktrace_agent::one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&Sources::from_env(cli.config, cli.data_dir))?;
    // While enrolled, the company server's policy is the one in force.
    let settings = sync::with_server_policy(settings);
    match cli.command {
        Cmd::Run { clock_in, quiet } => run(settings, clock_in, !quiet),
        Cmd::ClockIn => request(&settings, Command::ClockIn, "clocked in"),
        Cmd::ClockOut => request(&settings, Command::ClockOut, "clocked out"),
        Cmd::Decide { idle_start, choice } => request(
            &settings,
            Command::Decide {
                idle_start,
                choice: choice.into(),
            },
            "decision saved",
        ),
        Cmd::Pause { minutes } => request(
            &settings,
            Command::Pause { minutes },
            &match minutes {
                Some(m) => format!("paused for {m} min (worktrace resume ends it sooner)"),
                None => "paused until `worktrace resume`".to_owned(),
            },
        ),
        Cmd::Resume => request(&settings, Command::Resume, "tracking again"),
        Cmd::Status => status(&settings),
        Cmd::Report(args) => report(&settings, &args),
        Cmd::Verify => verify(&settings),
        Cmd::Repair => repair(&settings),
        Cmd::Enroll { server, token } => enroll(&settings, server, token),
        Cmd::Sync { now } => sync_command(&settings, now),
        Cmd::Sent { last } => sent(&settings, last),
        Cmd::Exports(args) => exports(&settings, &args),
        Cmd::RemoveData { all_users, yes } => remove_data(&settings, all_users, yes),
        Cmd::Config {
            command: ConfigCmd::Check,
        } => config_check(&settings),
    }
}

fn run(settings: Settings, clock_in: bool, status_line: bool) -> anyhow::Result<ExitCode> {
    let sensor = worktrace_sensors::platform_sensor()?;
    let stop = engine::stop_flag()?;
    let data_dir = settings.data_dir.clone();
    let engine = Engine::start_with(settings.clone(), sensor, update::Updates::Install)?;
    eprintln!(
        "worktrace: tracking into {} (Ctrl-C stops)",
        data_dir.display()
    );
    let ran = engine.run(
        &RunOptions {
            clock_in,
            status_line,
        },
        &stop,
    );
    // Saved (or failed for good): a logoff the OS holds for the agent may go on.
    worktrace_sensors::saved_after_stop();
    match ran? {
        RunEnd::Stopped => Ok(ExitCode::SUCCESS),
        // Returns only when no agent could be started again.
        RunEnd::Update(ready) => Err(update::apply(&ready, &settings, now_ms())),
    }
}

/// Sends a command to the running agent, or carries it out directly when none runs.
fn request(settings: &Settings, command: Command, done: &str) -> anyhow::Result<ExitCode> {
    let reply = if AgentLock::is_held(&settings.lock_path()) {
        ask_running_agent(settings, &command)?
    } else {
        // Hold the lock so that no agent starts writing while this process does.
        let _lock = AgentLock::acquire(&settings.lock_path())?;
        let mut store = engine::open_store(settings)?;
        let mut tracker = engine::resumed_tracker(settings, &store)?;
        let now = now_ms();
        match command.apply(&mut tracker, now) {
            Ok(records) => {
                store.append(&records)?;
                pause::PauseFile::save(settings, pause::PauseFile::of(&tracker))
                    .context("cannot save the pause state")?;
                Reply::ok()
            }
            Err(e) => Reply::error(e.to_string()),
        }
    };
    match reply {
        Reply { ok: true, .. } => {
            println!("{done}");
            Ok(ExitCode::SUCCESS)
        }
        Reply { error, .. } => bail!(error.unwrap_or_else(|| "the request failed".into())),
    }
}

fn ask_running_agent(settings: &Settings, command: &Command) -> anyhow::Result<Reply> {
    let store = Store::open(&settings.database_path(), settings.day_clock())?;
    let id = store.push_command(&serde_json::to_string(command)?, now_ms())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(text) = store.command_result(id)? {
            return serde_json::from_str(&text).context("the agent's answer is not readable");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Withdraw the request so a stuck agent does not carry it out later, unexpectedly.
    if !store.cancel_command(id, now_ms())? {
        if let Some(text) = store.command_result(id)? {
            return serde_json::from_str(&text).context("the agent's answer is not readable");
        }
    }
    bail!("the running agent did not answer within 10 s; it may be stuck: check `worktrace status`")
}

fn status(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_path(), settings.day_clock())?;
    let clock = settings.day_clock();
    let now = now_ms();
    let session = store.session_open_since()?;
    match session {
        Some(since) => println!(
            "Clocked in since {} ({})",
            report::local_time(since, &clock),
            format_duration(now - since)
        ),
        None => println!("Clocked out"),
    }
    if let Some(pause) = pause::PauseFile::load(settings) {
        let until = pause.until.map_or(String::new(), |u| {
            format!(" until {}", report::local_time(u, &clock))
        });
        println!(
            "Paused since {}{until}: nothing is recorded; `worktrace resume` ends the pause",
            report::local_time(pause.since, &clock)
        );
    }
    let today = clock.work_day(now);
    let rows = store.summary(today, today, GroupBy::Day)?;
    let (day_from, day_to) = clock.day_range(today);
    let counts = store.export_counts(day_from, day_to)?;
    if counts.total() > 0 || settings.policy.exports.enabled {
        use worktrace_domain::Severity;
        println!(
            "Exports today: {} (high {}, medium {}, low {}, info {}); `worktrace exports` lists them",
            counts.total(),
            counts.of(Severity::High),
            counts.of(Severity::Medium),
            counts.of(Severity::Low),
            counts.of(Severity::Info)
        );
    }
    let agent = status::read_status(settings);
    // The running agent's open span is not in the record chain yet; count it too. Open active
    // time is worked time inside a session; open idle is not, until it is decided.
    let (open_active, open_idle) = agent
        .as_ref()
        .map_or((0, 0), |s| (s.open_active_ms, s.open_idle_ms));
    let open_worked = if session.is_some() { open_active } else { 0 };
    let (active, idle, worked) = rows
        .iter()
        .fold((open_active, open_idle, open_worked), |(a, i, w), r| {
            (a + r.active_ms, i + r.idle_ms, w + r.clocked_ms)
        });
    println!(
        "Today ({today}): active {}, idle {}, worked {}",
        format_duration(active),
        format_duration(idle),
        format_duration(worked)
    );
    if let Some(problem) = &settings.time_zone_problem {
        println!("Time zone: {problem} (set [agent] time_zone)");
    }
    match agent {
        Some(s) => {
            let current = match (&s.app, &s.category) {
                _ if s.paused_since.is_some() => "paused".to_owned(),
                _ if s.locked => "screen locked".to_owned(),
                _ if s.idle_since.is_some() => "idle".to_owned(),
                (Some(app), Some(cat)) => format!("{app} ({cat})"),
                (Some(app), None) => app.clone(),
                _ => "no window".to_owned(),
            };
            println!("Agent: running (process {}), now: {current}", s.pid);
            for p in &s.pending_prompts {
                println!(
                    "Idle {}–{} waits for a decision: worktrace decide {} keep|discard|break|meeting",
                    report::local_time(p.start, &clock),
                    report::local_time(p.end, &clock),
                    p.start
                );
            }
            if let Some(at) = s.last_auto_clock_out {
                println!(
                    "Clocked out automatically after long idle at {}",
                    report::local_time(at, &clock)
                );
            }
            match s.exports_since {
                Some(at) => println!(
                    "Export detection: on since {}",
                    report::local_time(at, &clock)
                ),
                None => println!("Export detection: off"),
            }
            if s.watch {
                println!(
                    "Departure watch: in force (the company marked you as leaving: export \
                     events are rated higher and sent at once)"
                );
            }
            if let Some(problem) = s.problem {
                println!("Problem: {problem}");
            }
        }
        None => println!("Agent: not running (start it with `worktrace run`)"),
    }
    print_sync_state(&store, &clock, now)?;
    print_update_state(settings, &clock);
    Ok(ExitCode::SUCCESS)
}

fn remove_data(settings: &Settings, all_users: bool, yes: bool) -> anyhow::Result<ExitCode> {
    use worktrace_agent::remove;
    if !yes {
        bail!(
            "this removes every record Worktrace kept{}; it cannot be undone. Run it again with \
             --yes to go ahead",
            if all_users {
                " for every user of this PC"
            } else {
                " for you on this PC"
            }
        );
    }
    let folders: Vec<PathBuf> = if all_users {
        remove::profiles()
            .iter()
            .flat_map(|p| remove::user_folders(p))
            .collect()
    } else {
        if AgentLock::is_held(&settings.lock_path()) {
            bail!("the agent is running; stop it (quit the tray, or Ctrl-C `worktrace run`) first");
        }
        // The device secret goes with the data: it is of no use without the database.
        let database = settings.database_path();
        let opened = database
            .exists()
            .then(|| Store::open(&database, settings.day_clock()).ok())
            .flatten();
        if let Some(store) = opened {
            if let Ok(Some(url)) = store.sync_state().map(|s| s.server_url) {
                if let Err(e) = worktrace_agent::secret::delete(store.device_id(), &url) {
                    eprintln!("worktrace: the device secret stays in the keychain: {e}");
                }
            }
        }
        vec![settings.data_dir.clone()]
    };
    let done = remove::remove(&folders);
    for f in &done.removed {
        println!("removed {}", f.display());
    }
    for (f, why) in &done.left {
        eprintln!("worktrace: left {}: {why}", f.display());
    }
    if done.removed.is_empty() && done.left.is_empty() {
        println!("there was no Worktrace data to remove");
    }
    Ok(if done.left.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The update part of `status`: this version, and the last update's outcome.
fn print_update_state(settings: &Settings, clock: &worktrace_store::DayClock) {
    let state = update::state::UpdateState::load(&settings.data_dir);
    println!("Version: {}", worktrace_agent::version::current());
    if let Some(p) = &state.problem {
        println!(
            "Update: {} was not installed ({}): {}",
            p.version,
            report::local_time(p.at, clock),
            p.message
        );
    } else if let Some((version, at)) = &state.installed {
        println!(
            "Update: updated to {version} at {}",
            report::local_time(*at, clock)
        );
    }
}

/// The upload part of `status` and `sync`: enrolled where, last success, queue, last error.
fn print_sync_state(
    store: &Store,
    clock: &worktrace_store::DayClock,
    now: Millis,
) -> anyhow::Result<()> {
    let state = store.sync_state()?;
    let when = |at: Millis| {
        format!(
            "{} ({} ago)",
            report::local_time(at, clock),
            format_duration(now.saturating_sub(at).max(0))
        )
    };
    let (Some(url), Some(device)) = (&state.server_url, state.device) else {
        println!(
            "Sync: not enrolled; nothing leaves this PC ({} items would be queued)",
            state.queued
        );
        return Ok(());
    };
    match state.revoked_at {
        Some(at) => println!(
            "Sync: STOPPED since {}: the server revoked this PC's access. Nothing more is sent              and all data stays on this PC; to upload again, ask IT for a new enrollment token              and run `worktrace enroll`",
            when(at)
        ),
        None => println!("Sync: enrolled with {url} as device {device}"),
    }
    match state.last_success_at {
        Some(at) => println!("Last upload: {}", when(at)),
        None => println!("Last upload: never"),
    }
    let pending = state
        .pending_batch
        .map(|b| format!("; batch {b} waits for the server's answer"))
        .unwrap_or_default();
    println!("Queued: {} items{pending}", state.queued);
    if let (Some(error), None) = (&state.last_error, state.revoked_at) {
        let at = state.last_attempt_at.map(when).unwrap_or_default();
        println!("Last error ({at}): {error}");
    }
    Ok(())
}

fn enroll(
    settings: &Settings,
    server: Option<String>,
    token: Option<String>,
) -> anyhow::Result<ExitCode> {
    let server = server
        .or_else(|| settings.server.url.clone())
        .context("no server given: use --server URL, or set [server] url in the config file")?;
    let token = token
        .or_else(|| settings.server.enrollment_token.clone())
        .context(
            "no enrollment token given: use --token TOKEN (from IT), or set [server]              enrollment_token in the config file",
        )?;
    let mut store = Store::open(&settings.database_path(), settings.day_clock())?;
    let device = sync::enroll(&mut store, settings, &server, &token)?;
    let url = store.sync_state()?.server_url.unwrap_or(server);
    println!(
        "enrolled with {url} as device {device}; the device secret is kept in the OS keychain"
    );
    if AgentLock::is_held(&settings.lock_path()) {
        println!("the running agent starts uploading within a few seconds");
    }
    Ok(ExitCode::SUCCESS)
}

fn sync_command(settings: &Settings, now: bool) -> anyhow::Result<ExitCode> {
    let clock = settings.day_clock();
    let mut store = Store::open(&settings.database_path(), clock)?;
    if !now {
        print_sync_state(&store, &clock, now_ms())?;
        return Ok(ExitCode::SUCCESS);
    }
    // Safe beside a running agent's upload thread: the pending batch is claimed in a
    // transaction and acknowledged at most once, so two uploaders never send different batches
    // under one number.
    match sync::run_round(
        &mut store,
        settings,
        &mut SecretCache::default(),
        None,
        now_ms,
    ) {
        Ok(report) if report.batches == 0 => println!("nothing to send"),
        Ok(report) => {
            let duplicates = match report.duplicates {
                0 => String::new(),
                n => format!(" ({n} the server already had)"),
            };
            println!(
                "sent {} batches with {} items{duplicates}",
                report.batches, report.items
            );
        }
        Err(e @ SyncError::Revoked(_)) => bail!(e),
        Err(e) => {
            let queued = store.sync_state().map(|s| s.queued).unwrap_or(0);
            bail!("{e} ({queued} items stay queued)")
        }
    }
    print_sync_state(&store, &clock, now_ms())?;
    Ok(ExitCode::SUCCESS)
}

fn sent(settings: &Settings, last: usize) -> anyhow::Result<ExitCode> {
    let clock = settings.day_clock();
    let store = Store::open(&settings.database_path(), clock)?;
    let batches = store.sent_batches(last)?;
    if batches.is_empty() {
        println!("nothing was sent from this PC yet");
    }
    for b in batches {
        let again = if b.duplicate {
            " (sent again: the first answer was lost)"
        } else {
            ""
        };
        println!(
            "# batch {} to {}, acknowledged {}{again}",
            b.batch_seq,
            b.server,
            report::local_time(b.acked_at, &clock)
        );
        println!("{}", b.body);
    }
    Ok(ExitCode::SUCCESS)
}

fn report(settings: &Settings, args: &ReportArgs) -> anyhow::Result<ExitCode> {
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

fn exports(settings: &Settings, args: &ExportsArgs) -> anyhow::Result<ExitCode> {
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

fn repair(settings: &Settings) -> anyhow::Result<ExitCode> {
    // Nothing else may write while the file is moved: a running agent repairs at its start.
    let _lock = AgentLock::acquire(&settings.lock_path())?;
    let path = settings.database_path();
    if let Ok(store) = Store::open(&path, settings.day_clock()) {
        if store.quick_check()?.is_none() && store.verify()?.first_broken.is_none() {
            println!("ok: {} is sound; nothing to repair", path.display());
            return Ok(ExitCode::SUCCESS);
        }
    }
    let report = worktrace_store::salvage(&path, &settings.day_clock(), now_ms())?;
    println!("{}", worktrace_agent::report::salvage_line(&report));
    Ok(ExitCode::SUCCESS)
}

fn verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_path(), settings.day_clock())?;
    let report = store.verify()?;
    let clock = settings.day_clock();
    for b in &report.breaks {
        println!(
            "note: {} record(s) after record {} were lost when a damaged database was salvaged \
             on {} (kept as {}); the chain resumes at record {}",
            b.lost,
            b.last_good_seq,
            report::local_time(b.noted_at, &clock),
            b.damaged_file,
            b.resumes_seq
        );
    }
    match report.first_broken {
        None => {
            println!("ok: {} records, chain intact", report.records);
            Ok(ExitCode::SUCCESS)
        }
        Some(broken) => {
            println!("BROKEN: record {}: {}", broken.seq, broken.reason);
            Ok(ExitCode::FAILURE)
        }
    }
}

fn config_check(settings: &Settings) -> anyhow::Result<ExitCode> {
    // Settings::load already checked ranges; compiling the policy checks every pattern.
    worktrace_tracker::Classifier::new(&settings.policy).map_err(|e| {
        let file = settings
            .config_path
            .as_ref()
            .map(|p| p.display().to_string());
        anyhow::anyhow!(
            "{}: [policy] {e}",
            file.unwrap_or_else(|| "(defaults)".into())
        )
    })?;
    match &settings.config_path {
        Some(path) => println!("ok: {} is valid", path.display()),
        None => println!("ok: no config file; using the defaults"),
    }
    // What IT set for the whole machine wins over the user's file; say where it came from.
    if let Some(path) = &settings.machine_config_path {
        println!("machine-wide settings: {} (valid)", path.display());
    }
    if settings.machine_policy {
        println!(
            "machine policy: HKEY_LOCAL_MACHINE\\{}",
            worktrace_agent::settings::POLICY_KEY
        );
    }
    match &settings.server.url {
        Some(url) => println!(
            "company server: {url}{}",
            if settings.server.enrollment_token.is_some() {
                " (an enrollment token is set)"
            } else {
                ""
            }
        ),
        None => println!("company server: none in the settings"),
    }
    println!("data directory: {}", settings.data_dir.display());
    println!(
        "time zone: {}, day starts at {}",
        settings.time_zone,
        settings.day_start.format("%H:%M")
    );
    if let Some(problem) = &settings.time_zone_problem {
        println!("warning: {problem}");
    }
    Ok(ExitCode::SUCCESS)
}
