//! `worktrace clock-in`, `clock-out`, `decide`, `pause` and `resume`: the request goes to the
//! running agent through the database's command queue and waits for its answer; with no agent
//! running, this process carries it out itself, holding the agent lock.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use worktrace_agent::clock::now_ms;
use worktrace_agent::command::{Command, Reply};
use worktrace_agent::engine;
use worktrace_agent::lock::AgentLock;
use worktrace_agent::pause;
use worktrace_agent::settings::Settings;
use worktrace_store::Store;

/// Sends a command to the running agent, or carries it out directly when none runs (or the
/// agent stopped before it took the command).
pub fn request(settings: &Settings, command: Command, done: &str) -> anyhow::Result<ExitCode> {
    let answered = if AgentLock::is_held(&settings.lock_path()) {
        ask_running_agent(settings, &command)?
    } else {
        None
    };
    let reply = match answered {
        Some(reply) => reply,
        None => carry_out(settings, &command)?,
    };
    match reply {
        Reply { ok: true, .. } => {
            println!("{done}");
            Ok(ExitCode::SUCCESS)
        }
        Reply { error, .. } => bail!(error.unwrap_or_else(|| "the request failed".into())),
    }
}

/// Carries out `command` in this process, holding the agent lock so that no agent starts
/// writing meanwhile.
fn carry_out(settings: &Settings, command: &Command) -> anyhow::Result<Reply> {
    let _lock = AgentLock::acquire(&settings.lock_path())?;
    let mut store = engine::open_store(settings)?;
    let mut tracker = engine::resumed_tracker(settings, &store)?;
    let now = now_ms();
    Ok(match command.apply(&mut tracker, now) {
        Ok(records) => {
            store.append(&records)?;
            pause::PauseFile::save(settings, pause::PauseFile::of(&tracker))
                .context("cannot save the pause state")?;
            Reply::ok()
        }
        Err(e) => Reply::error(e.to_string()),
    })
}

/// How long the running agent may take to pick a command up (it looks at every sample, about
/// once a second) before it counts as stuck.
const TAKE_WITHIN: Duration = Duration::from_secs(10);
/// How long an agent that has picked a command up may take to commit and answer it.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// Queues `command` for the running agent and waits for its answer. `None` when the agent
/// stopped before it took the command: the command is withdrawn, for the caller to carry out.
fn ask_running_agent(settings: &Settings, command: &Command) -> anyhow::Result<Option<Reply>> {
    let store = Store::open(&settings.database_path(), settings.day_clock())?;
    let id = store.push_command(&serde_json::to_string(command)?, now_ms())?;
    let answer = |text: String| -> anyhow::Result<Option<Reply>> {
        serde_json::from_str(&text)
            .map(Some)
            .context("the agent's answer is not readable")
    };
    let asked = Instant::now();
    let mut taken_at: Option<Instant> = None;
    loop {
        if let Some(text) = store.command_result(id)? {
            return answer(text);
        }
        let agent_runs = AgentLock::is_held(&settings.lock_path());
        if taken_at.is_none() && (!agent_runs || asked.elapsed() >= TAKE_WITHIN) {
            // Withdraw the request so that a stuck agent does not carry it out later,
            // unexpectedly; when it is too late for that, the agent has it and answers.
            if store.cancel_command(id, now_ms())? {
                if agent_runs {
                    bail!(
                        "the running agent did not take the request within {} s; it may be \
                         stuck: check `worktrace status`",
                        TAKE_WITHIN.as_secs()
                    );
                }
                return Ok(None);
            }
            taken_at = Some(Instant::now());
        }
        if let Some(taken) = taken_at {
            if let Some(text) = store.command_result(id)? {
                return answer(text);
            }
            if !agent_runs {
                bail!(
                    "the agent stopped while carrying out the request; check `worktrace status` \
                     before asking again"
                );
            }
            if taken.elapsed() >= ANSWER_WITHIN {
                bail!(
                    "the running agent took the request but did not answer within {} s; it may \
                     be stuck: check `worktrace status`",
                    ANSWER_WITHIN.as_secs()
                );
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
