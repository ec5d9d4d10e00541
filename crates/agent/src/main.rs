//! `worktrace`: the headless agent and its reports.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use worktrace_agent::command::{Command, Reply};
use worktrace_agent::engine::{self, Engine, RunOptions};
use worktrace_agent::lock::AgentLock;
use worktrace_agent::report::{self, format_duration, Format};
use worktrace_agent::settings::{Settings, Sources};
use worktrace_domain::{GroupBy, IdleChoice, Millis};
use worktrace_store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "worktrace",
    version,
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
    /// Clocked in since when, today's active and idle time, the current app.
    Status,
    /// Time by app, category, title, hour or day.
    Report(ReportArgs),
    /// Check the record chain of the database and name the first broken record.
    Verify,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WORKTRACE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("worktrace: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&Sources::from_env(cli.config, cli.data_dir))?;
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
        Cmd::Status => status(&settings),
        Cmd::Report(args) => report(&settings, &args),
        Cmd::Verify => verify(&settings),
        Cmd::Config {
            command: ConfigCmd::Check,
        } => config_check(&settings),
    }
}

fn run(settings: Settings, clock_in: bool, status_line: bool) -> anyhow::Result<ExitCode> {
    let sensor = worktrace_sensors::platform_sensor()?;
    let stop = engine::stop_flag()?;
    let data_dir = settings.data_dir.clone();
    let engine = Engine::start(settings, sensor)?;
    eprintln!(
        "worktrace: tracking into {} (Ctrl-C stops)",
        data_dir.display()
    );
    engine.run(
        &RunOptions {
            clock_in,
            status_line,
        },
        &stop,
    )?;
    Ok(ExitCode::SUCCESS)
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
        let now = engine::now_ms();
        let records = match &command {
            Command::ClockIn => tracker.clock_in(now),
            Command::ClockOut => tracker.clock_out(now),
            Command::Decide { idle_start, choice } => tracker.decide(*idle_start, *choice, now),
        };
        match records {
            Ok(records) => {
                store.append(&records)?;
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
    let store = Store::open(&settings.database_path(), engine::day_clock(settings))?;
    let id = store.push_command(&serde_json::to_string(command)?, engine::now_ms())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(text) = store.command_result(id)? {
            return serde_json::from_str(&text).context("the agent's answer is not readable");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Withdraw the request so a stuck agent does not carry it out later, unexpectedly.
    if !store.cancel_command(id, engine::now_ms())? {
        if let Some(text) = store.command_result(id)? {
            return serde_json::from_str(&text).context("the agent's answer is not readable");
        }
    }
    bail!("the running agent did not answer within 10 s; it may be stuck: check `worktrace status`")
}

fn status(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_path(), engine::day_clock(settings))?;
    let clock = engine::day_clock(settings);
    let now = engine::now_ms();
    match store.session_open_since()? {
        Some(since) => println!(
            "Clocked in since {} ({})",
            report::local_time(since, &clock),
            format_duration(now - since)
        ),
        None => println!("Clocked out"),
    }
    let today = report::work_day(now, &clock);
    let rows = store.summary(today, today, GroupBy::Day)?;
    let (active, idle, worked) = rows.iter().fold((0, 0, 0), |(a, i, w), r| {
        (a + r.active_ms, i + r.idle_ms, w + r.clocked_ms)
    });
    println!(
        "Today ({today}): active {}, idle {}, worked {}",
        format_duration(active),
        format_duration(idle),
        format_duration(worked)
    );
    match engine::read_status(settings) {
        Some(s) => {
            let current = match (&s.app, &s.category) {
                _ if s.locked => "screen locked".to_owned(),
                _ if s.idle_since.is_some() => "idle".to_owned(),
                (Some(app), Some(cat)) => format!("{app} ({cat})"),
                (Some(app), None) => app.clone(),
                _ => "no window".to_owned(),
            };
            println!("Agent: running (process {}), now: {current}", s.pid);
            for (start, end) in &s.pending_prompts {
                println!(
                    "Idle {}–{} waits for a decision: worktrace decide {start} keep|discard|break|meeting",
                    report::local_time(*start, &clock),
                    report::local_time(*end, &clock)
                );
            }
            if let Some(at) = s.last_auto_clock_out {
                println!(
                    "Clocked out automatically after long idle at {}",
                    report::local_time(at, &clock)
                );
            }
            if let Some(problem) = s.problem {
                println!("Problem: {problem}");
            }
        }
        None => println!("Agent: not running (start it with `worktrace run`)"),
    }
    Ok(ExitCode::SUCCESS)
}

fn report(settings: &Settings, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let clock = engine::day_clock(settings);
    let today = report::work_day(engine::now_ms(), &clock);
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

fn verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_path(), engine::day_clock(settings))?;
    let report = store.verify()?;
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
    println!("data directory: {}", settings.data_dir.display());
    println!(
        "time zone: {}, day starts at {}",
        settings.time_zone,
        settings.day_start.format("%H:%M")
    );
    Ok(ExitCode::SUCCESS)
}
