//! `worktrace`: the headless agent and its reports. This file is the command line (its
//! arguments) and which command runs; the commands themselves are in `cli`.

#![forbid(unsafe_code)]

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use worktrace_agent::command::{Command, MAX_PAUSE_MINUTES};
use worktrace_agent::report::Format;
use worktrace_agent::settings::{Settings, Sources};
use worktrace_agent::sync;
use worktrace_domain::{GroupBy, IdleChoice, Millis};

use cli::config::config_check;
use cli::database::{repair, verify};
use cli::remove::remove_data;
use cli::report::{exports, report};
use cli::request::request;
use cli::run::run;
use cli::status::status;
use cli::sync::{enroll, sent, sync_command};
use cli::update::apply_spool;

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
    /// Updates installed by the system (run as root or SYSTEM by the package).
    Update {
        #[command(subcommand)]
        command: UpdateCmd,
    },
}

#[derive(Debug, Subcommand)]
enum UpdateCmd {
    /// Install the signed deb or msi releases users' agents left in DIR (checked again:
    /// signature, platform, package kind, newer than installed), record the results there and
    /// remove the files. Reads no user settings.
    ApplySpool {
        /// The spool folder (/var/lib/worktrace/updates, %ProgramData%\Worktrace\updates).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Windows: make the scheduled task that runs `update apply-spool` on the spool as SYSTEM
    /// every 15 minutes (the MSI does this at install).
    Schedule,
    /// Windows: remove that task (the MSI does this at uninstall).
    Unschedule,
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
    // The system's side of updates reads no user settings.
    if let Cmd::Update { command } = &cli.command {
        return update_command(command);
    }
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
        Cmd::Update { command } => update_command(&command),
    }
}

fn update_command(command: &UpdateCmd) -> anyhow::Result<ExitCode> {
    use worktrace_agent::update::{spool, task};
    match command {
        UpdateCmd::ApplySpool { dir } => apply_spool(dir),
        UpdateCmd::Schedule => {
            task::schedule(&spool::dir())?;
            println!("scheduled task {} made", task::TASK_NAME);
            Ok(ExitCode::SUCCESS)
        }
        UpdateCmd::Unschedule => {
            task::unschedule()?;
            println!("scheduled task {} removed", task::TASK_NAME);
            Ok(ExitCode::SUCCESS)
        }
    }
}
