//! The tracking state machine: timestamped samples, clock-in/out and idle answers in; final
//! records out, in time order.
//!
//! Pure: no I/O, no clock reads, no threads; every time comes with a sample or as `now`.
//! It must never record a window the policy's privacy rules have not been applied to, never
//! record time twice, and never let a record end before it starts.
//!
//! # Semantics
//! 1. **Privacy first.** Every sample's window goes through [`Classifier::privatize`] and then
//!    the category rules before anything else. Two samples are equal when the privatized
//!    window (app, title, exe_path, domain) and the category are equal. No window (empty
//!    desktop) is recorded as app `""`, `Uncategorized`.
//! 2. **Sessions.** Records are made while clocked in, or always when the policy's
//!    `track_outside_sessions` is set; `in_session` says which. Otherwise only the status is
//!    kept up to date.
//! 3. **Interval attribution.** `(prev.at, cur.at]` belongs to the state seen in `cur` when
//!    `0 < dt <= pulsetime`. An equal sample extends the open span (heartbeat merging, no
//!    string is copied); a different one closes it and opens the next at `prev.at`.
//! 4. **Gaps and clock jumps.** `dt > pulsetime` closes everything at `prev.at`; inside a session
//!    the gap becomes an idle period `Suspended` (app `""`), which is work only if kept.
//!    `dt <= 0` closes everything too; nothing at or before the high-water mark (the latest end
//!    ever emitted) is recorded again, so records never overlap.
//! 5. **Idle.** `idle_ms >= idle_threshold` means idle since the last input, `cur.at - idle_ms`;
//!    a locked screen is idle from `prev.at`. Back-dating is never earlier than an input the
//!    tracker already saw, a record already emitted, a clock-in/out or a gap. Because of
//!    back-dating, closed spans stay *pending* (in [`Tracker::open_records`], not yet returned)
//!    until input at or after their end proves them, or idle cuts them at its start.
//! 6. **Idle end.** The first sample with input ends idle at `cur.at - idle_ms` (never before
//!    `prev.at`); from there to `cur.at` is active. In a session the idle period gets a decision
//!    by `idle_prompt`: always keep / never keep at once (source Policy), or a queued
//!    [`IdlePrompt`] answered by [`Tracker::decide`] (User) or, at its deadline, by the policy's
//!    default (Timeout). Idle periods of zero length are not recorded.
//! 7. **Auto clock-out.** Idle in a session lasting `auto_clock_out_idle_secs` (0 = off) ends the
//!    session at the idle start: `ClockOut { at: idle_start, reason: LongIdle }`. The idle after it
//!    is outside the session. A gap counts as idle for this.
//! 8. **Activity.** An attributed interval with input (`cur.idle_ms < dt`) adds its length to the
//!    span's `input_ms`. In a session, every observed millisecond (active or idle, not gaps) and
//!    every credited one go into per-minute [`ActivityMinute`] records, emitted once nothing in
//!    the minute can change any more (or at clock-out). Nothing about which keys, ever.
//! 9. **Clock in/out.** `clock_in(now)` closes what is open, emits `ClockIn { at: now }`, and the
//!    next span starts at `now`. `clock_out(now)` first gives the time up to `now` to the last
//!    state (when the last sample is within pulsetime; else the session ends at that sample;
//!    with no sample since start or resume, the time up to `now` is a `Suspended` gap),
//!    closes everything, decides an open idle period by the rules above, flushes activity and
//!    emits `ClockOut { at, Manual }`. Prompts survive clock-out. Clock operations never go
//!    back before the high-water mark.
//! 10. **Order.** Window, idle, clock-in and clock-out records come in one stream without
//!     overlap: each one starts at or after the end of every such record before it. Decisions
//!     follow the idle period they decide; activity minutes come in minute order.
//! 11. **Pause.** Where the policy's `allow_pause` is on and something is tracked, `pause(now,
//!     until)` closes what is open like a clock operation and stops looking at samples: no window,
//!     title, input or idle is recorded until `unpause(now)`, the `until` instant (a sample at or
//!     after it ends the pause there) or a clock operation. The paused time becomes one idle
//!     period `Paused` (app `""`); in a session it is decided at once as a `Break` by the
//!     employee (source User), so it never counts as work and never asks. Gaps during a pause
//!     are part of it; auto clock-out does not apply to it. Prompts still time out.
//!
//! ```text
//! pulsetime 5 s, threshold 180 s, clocked in at 0:
//! observe(at 1 s, xterm, idle 0)        -> []                 span xterm [0, 1 s] open
//! observe(at 2 s, xterm, idle 0)        -> []                 extended to 2 s
//! observe(at 3 s, firefox, idle 0)      -> [Window xterm 0..2 s]   firefox [2 s, 3 s] open
//! observe(at 200 s, firefox, idle 190 s)-> [Window firefox 2..10 s] idle since 10 s open
//! observe(at 201 s, firefox, idle 0)    -> [Idle 10..201 s, Decision or prompt]
//! ```

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use worktrace_domain::{
    ClockOutReason, DecisionSource, IdleChoice, IdleDecision, IdlePeriod, IdlePromptMode,
    IdleReason, Millis, Policy, Record, Sample, WindowInfo, WindowSpan,
};

use crate::activity::Activity;
use crate::classify::{Classifier, View};
use crate::error::{Error, Result};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

/// Tuning that is not policy: how samples are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerConfig {
    /// Longest distance between two samples that still counts as continuous observation.
    pub pulsetime_ms: i64,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            pulsetime_ms: 5_000,
        }
    }
}

/// An idle period inside a work session that waits for the employee's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdlePrompt {
    pub idle_start: Millis,
    pub idle_end: Millis,
    pub reason: IdleReason,
    /// From this instant on, the policy's `idle_prompt_default` applies.
    pub deadline: Millis,
}

impl IdlePrompt {
    /// The prompts still waiting among stored records: in-session idle periods that no decision
    /// answers, with their deadline from the policy's timeout. Pure; the caller chooses the range.
    ///
    /// ```text
    /// [Idle 10–20 in session, Decision for 10, Idle 30–40 in session, Idle 50–60 outside]
    ///   → [IdlePrompt { idle_start: 30, idle_end: 40, deadline: 40 + timeout }]
    /// ```
    pub fn undecided(records: &[Record], policy: &Policy) -> Vec<IdlePrompt> {
        if policy.idle_prompt != IdlePromptMode::Ask {
            return Vec::new();
        }
        let decided: std::collections::HashSet<Millis> = records
            .iter()
            .filter_map(|r| match r {
                Record::Decision(d) => Some(d.idle_start),
                _ => None,
            })
            .collect();
        let timeout = i64::from(policy.idle_prompt_timeout_secs) * 1000;
        records
            .iter()
            .filter_map(|r| match r {
                Record::Idle(p) if p.in_session && !decided.contains(&p.start) => {
                    Some(IdlePrompt {
                        idle_start: p.start,
                        idle_end: p.end,
                        reason: p.reason,
                        deadline: p.end.saturating_add(timeout),
                    })
                }
                _ => None,
            })
            .collect()
    }
}

/// What the tracker knows right now, for the status line and the desktop app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerStatus {
    pub clocked_in_since: Option<Millis>,
    /// The foreground window of the latest sample, after the privacy rules.
    pub current: Option<WindowInfo>,
    /// Its category name.
    pub category: Option<String>,
    /// Start of the idle period in progress (back-dated to the last input).
    pub idle_since: Option<Millis>,
    pub locked: bool,
    /// When the latest automatic clock-out after long idle happened (its session end).
    pub last_auto_clock_out: Option<Millis>,
    pub pending_prompts: Vec<IdlePrompt>,
    /// Start of the pause in progress.
    pub paused_since: Option<Millis>,
    /// When the pause in progress ends by itself (`None`: when the employee resumes).
    pub paused_until: Option<Millis>,
}

/// The pause in progress (rule 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pause {
    start: Millis,
    until: Option<Millis>,
    /// The latest instant a sample showed during the pause: it ends no earlier, even when the
    /// clock later jumps back (the time was seen as paused).
    reached: Millis,
}

/// The idle period in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OpenIdle {
    start: Millis,
    end: Millis,
    reason: IdleReason,
    app: String,
    category: String,
    in_session: bool,
    /// False while neither in a session nor tracking outside: kept for the status only.
    recorded: bool,
}

/// "No foreground window" as a window: recorded as app `""`.
const NO_WINDOW: View<'static> = View {
    app: "",
    title: Cow::Borrowed(""),
    exe_path: None,
    pid: None,
    domain: None,
    private_browsing: false,
};

/// A view of an already privatized window (the stored current state).
fn view_of(w: &WindowInfo) -> View<'_> {
    View {
        app: &w.app,
        title: Cow::Borrowed(&w.title),
        exe_path: w.exe_path.as_deref(),
        pid: w.pid,
        domain: w.domain.as_deref(),
        private_browsing: w.private_browsing,
    }
}

fn span_matches(
    classifier: &Classifier,
    s: &WindowSpan,
    v: &View<'_>,
    rule: Option<usize>,
) -> bool {
    s.app == v.app
        && s.title == v.title.as_ref()
        && s.exe_path.as_deref() == v.exe_path
        && s.domain.as_deref() == v.domain
        && s.category == classifier.category_name(rule)
}

/// The tracking state machine. See the module documentation for its rules.
#[derive(Debug, Clone)]
pub struct Tracker {
    classifier: Classifier,
    policy: Policy,
    pulsetime: Millis,
    session: Option<Millis>,
    /// Time of the latest sample or clock operation (or the resume point).
    prev_at: Option<Millis>,
    /// Time of the latest real sample, for clock-out.
    last_sample: Option<Millis>,
    /// End of the latest emitted window/idle/clock record: nothing is recorded at or before it.
    high_water: Millis,
    /// Idle is never back-dated before this (gaps, clock operations, idle starts).
    barrier: Millis,
    /// The latest input any sample showed.
    last_input: Millis,
    /// End of the last interval credited with input (rule 8). Every credited interval starts
    /// at or before `last_input`, so only this one can reach past a later idle start.
    credit_end: Millis,
    current: Option<WindowInfo>,
    current_rule: Option<usize>,
    locked: bool,
    span: Option<WindowSpan>,
    /// Closed spans that idle back-dating may still cut, oldest first.
    pending: Vec<WindowSpan>,
    idle: Option<OpenIdle>,
    prompts: Vec<IdlePrompt>,
    activity: Activity,
    last_auto_clock_out: Option<Millis>,
    paused: Option<Pause>,
}

impl Tracker {
    /// A tracker with no session and no history.
    pub fn new(policy: &Policy, config: TrackerConfig) -> Result<Tracker> {
        if config.pulsetime_ms <= 0 {
            return Err(Error::Pulsetime {
                value: config.pulsetime_ms,
            });
        }
        Ok(Tracker {
            classifier: Classifier::new(policy)?,
            policy: policy.clone(),
            pulsetime: config.pulsetime_ms,
            session: None,
            prev_at: None,
            last_sample: None,
            high_water: Millis::MIN,
            barrier: Millis::MIN,
            last_input: Millis::MIN,
            credit_end: Millis::MIN,
            current: None,
            current_rule: None,
            locked: false,
            span: None,
            pending: Vec::new(),
            idle: None,
            prompts: Vec::new(),
            activity: Activity::default(),
            last_auto_clock_out: None,
            paused: None,
        })
    }

    /// Switches to a new policy. Open records keep their data; a sample that the new rules
    /// classify differently starts a new span. An invalid policy changes nothing.
    pub fn set_policy(&mut self, policy: &Policy) -> Result<()> {
        let classifier = Classifier::new(policy)?;
        self.current_rule = self.current.as_ref().and_then(|w| {
            let v = view_of(w);
            classifier.rule_index(v.app, &v.title, v.domain)
        });
        self.classifier = classifier;
        self.policy = policy.clone();
        Ok(())
    }

    /// After a restart, before the first sample: the open work session (from the store) and the
    /// end of the latest stored record. Nothing is ever recorded before `high_water`; inside a
    /// session, a first sample more than pulsetime after the later of `high_water` and the
    /// session start is a gap (idle `Suspended`: the agent was not running). With nothing stored
    /// (`high_water` 0) and no session there is no earlier instant, so no gap.
    ///
    /// ```text
    /// resume(Some(09:00), 08:00) → first sample 09:30 → Idle Suspended 09:00–09:30 (in session)
    /// resume(None, 0)            → first sample 09:30 → nothing before 09:30
    /// ```
    pub fn resume(&mut self, session_since: Option<Millis>, high_water: Millis) {
        self.session = session_since;
        self.high_water = self.high_water.max(high_water);
        self.barrier = self.barrier.max(high_water);
        // The gap never starts before the session: time before clock-in is not the session's.
        let from = session_since.map_or(high_water, |since| since.max(high_water));
        if from > 0 {
            self.prev_at = Some(self.prev_at.map_or(from, |p| p.max(from)));
        }
    }

    /// Feeds one sample; returns the records that became final, in time order.
    pub fn observe(&mut self, sample: &Sample) -> Vec<Record> {
        let mut out = Vec::new();
        let c = sample.at;
        if let Some(pause) = self.paused {
            match pause.until {
                Some(until) if c >= until => self.end_pause(until, until, &mut out),
                _ => {
                    // Paused: the sample's window and input are not looked at (rule 11).
                    self.current = None;
                    self.current_rule = None;
                    self.locked = false;
                    self.prev_at = Some(c);
                    self.paused = Some(Pause {
                        reached: pause.reached.max(c),
                        ..pause
                    });
                    self.last_sample = Some(c);
                    self.expire_prompts(c, &mut out);
                    return out;
                }
            }
        }
        let idle_ms = i64::try_from(sample.idle_ms).unwrap_or(i64::MAX);
        let threshold = i64::from(self.policy.idle_threshold_secs) * 1000;
        let idle_now = sample.locked || idle_ms >= threshold;
        let input_at = c.saturating_sub(idle_ms);

        let view = sample.window.as_ref().map(|w| self.classifier.view(w));
        let rule = view
            .as_ref()
            .and_then(|v| self.classifier.rule_index(v.app, &v.title, v.domain));
        match (&view, &self.current) {
            (Some(v), Some(w)) if v.same_as(w) => {}
            (Some(v), _) => self.current = Some(v.to_window()),
            (None, _) => self.current = None,
        }
        self.current_rule = rule;
        self.locked = sample.locked;
        let view = view.unwrap_or(NO_WINDOW);
        let obs = Obs {
            view: &view,
            rule,
            idle_now,
            locked: sample.locked,
            idle_ms,
            input_at,
            threshold,
        };

        let prev = self.prev_at.replace(c);
        self.last_sample = Some(c);
        match prev {
            None => self.start_fresh(c, &obs),
            Some(p) if c <= p => {
                // Like after a gap, the sample starts afresh (records only after the mark).
                // Inputs and barriers seen on the abandoned, later timeline no longer apply:
                // what was recorded there is protected by the high-water mark.
                self.close_all(c, &mut out);
                self.barrier = self.high_water;
                self.last_input = self.last_input.min(c);
                self.start_fresh(c, &obs);
            }
            Some(p) if c - p > self.pulsetime => {
                self.close_all(c, &mut out);
                self.record_gap(p, c, &mut out);
                self.start_fresh(c, &obs);
            }
            Some(_) if c <= self.high_water => {}
            Some(p) => self.attribute(p.max(self.high_water), c, &obs, &mut out),
        }
        self.expire_prompts(c, &mut out);
        self.activity.emit_settled(self.floor(), &mut out);
        out
    }

    /// Starts a work session at `now` (never before what is already recorded).
    pub fn clock_in(&mut self, now: Millis) -> Result<Vec<Record>> {
        if let Some(since) = self.session {
            return Err(Error::AlreadyClockedIn { since });
        }
        let mut out = Vec::new();
        self.end_pause_at(now, &mut out);
        self.bring_to(now, &mut out);
        let idle = self.idle.clone();
        self.close_all(now, &mut out);
        let at = now
            .max(self.high_water)
            .max(self.prev_at.unwrap_or(Millis::MIN));
        out.push(Record::ClockIn { at });
        self.high_water = self.high_water.max(at);
        self.barrier = self.barrier.max(at);
        self.session = Some(at);
        self.prev_at = Some(at);
        if let Some(idle) = idle {
            // Still idle: the session's idle time starts with the session.
            self.open_idle(at, at, idle.reason, idle.app, idle.category);
        }
        Ok(out)
    }

    /// Ends the work session at `now`, or at the latest sample when that is older than
    /// pulsetime (the agent did not see the time in between).
    pub fn clock_out(&mut self, now: Millis) -> Result<Vec<Record>> {
        let Some(since) = self.session else {
            return Err(Error::NotClockedIn);
        };
        let mut out = Vec::new();
        self.end_pause_at(now, &mut out);
        self.bring_to(now, &mut out);
        if let Some(mut idle) = self.idle.take() {
            // Idle long enough for the automatic clock-out that no sample came to apply.
            let end = idle.end;
            let ended = self.auto_clock_out(&mut idle, end, &mut out);
            self.idle = Some(idle);
            if ended {
                return Ok(out);
            }
        }
        let at = match self.last_sample {
            Some(p) if now > p && now - p <= self.pulsetime => now,
            Some(p) => p,
            None => {
                // Nothing observed since start (the agent is not running): the time up to now
                // is a gap, idle `Suspended`, exactly as when the agent comes back after a stop.
                let from = self.prev_at.unwrap_or(since);
                self.close_all(now, &mut out);
                self.record_gap(from, now, &mut out);
                if self.session.is_none() {
                    return Ok(out);
                }
                now
            }
        };
        let idle = self.idle.clone();
        self.close_all(now, &mut out);
        // After closing, so that the session covers everything recorded in it.
        let at = at.max(self.high_water).max(since);
        self.activity.flush(&mut out);
        out.push(Record::ClockOut {
            at,
            reason: ClockOutReason::Manual,
        });
        self.high_water = self.high_water.max(at);
        self.barrier = self.barrier.max(at);
        self.session = None;
        self.prev_at = Some(self.prev_at.map_or(at, |p| p.max(at)));
        if let Some(idle) = idle {
            self.open_idle(at, at, idle.reason, idle.app, idle.category);
        }
        Ok(out)
    }

    /// Pauses tracking from `now` until [`unpause`](Self::unpause), `until` or a clock
    /// operation (rule 11). Returns the records closed by it.
    pub fn pause(&mut self, now: Millis, until: Option<Millis>) -> Result<Vec<Record>> {
        if !self.policy.allow_pause {
            return Err(Error::PauseNotAllowed);
        }
        if let Some(p) = self.paused {
            return Err(Error::AlreadyPaused { since: p.start });
        }
        if !self.recording() {
            return Err(Error::NothingToPause);
        }
        if let Some(until) = until.filter(|u| *u <= now) {
            return Err(Error::PauseEnd { until, now });
        }
        let mut out = Vec::new();
        self.bring_to(now, &mut out);
        self.close_all(now, &mut out);
        if let Some(p) = self.prev_at.filter(|p| *p < now) {
            // Not observed since `p` (no sample within pulsetime): a gap, as rule 4 says.
            self.record_gap(p, now, &mut out);
        }
        let at = now
            .max(self.high_water)
            .max(self.prev_at.unwrap_or(Millis::MIN));
        self.high_water = self.high_water.max(at);
        self.barrier = self.barrier.max(at);
        self.prev_at = Some(at);
        self.current = None;
        self.current_rule = None;
        self.paused = Some(Pause {
            start: at,
            until: until.map(|u| u.max(at)),
            reached: at,
        });
        Ok(out)
    }

    /// Ends the pause at `now` (or at its `until`, when that came first).
    pub fn unpause(&mut self, now: Millis) -> Result<Vec<Record>> {
        if self.paused.is_none() {
            return Err(Error::NotPaused);
        }
        let mut out = Vec::new();
        self.end_pause_at(now, &mut out);
        Ok(out)
    }

    /// After a restart (following [`resume`](Self::resume)): the pause that was in progress.
    /// The part before the stored high-water mark is recorded already, so the pause goes on
    /// from there.
    pub fn restore_pause(&mut self, since: Millis, until: Option<Millis>) {
        let start = since.max(self.high_water);
        self.barrier = self.barrier.max(start);
        self.prev_at = Some(self.prev_at.map_or(start, |p| p.max(start)));
        self.paused = Some(Pause {
            start,
            until,
            reached: start,
        });
    }

    /// Answers the idle prompt for the idle period that started at `idle_start`.
    pub fn decide(
        &mut self,
        idle_start: Millis,
        choice: IdleChoice,
        now: Millis,
    ) -> Result<Vec<Record>> {
        let index = self
            .prompts
            .iter()
            .position(|p| p.idle_start == idle_start)
            .ok_or(Error::NoSuchPrompt { idle_start })?;
        let prompt = self.prompts.remove(index);
        Ok(vec![decision(&prompt, choice, DecisionSource::User, now)])
    }

    /// After a restart: idle prompts that were waiting (the store knows them as in-session idle
    /// periods without a decision). Prompts already known are not added twice.
    pub fn restore_prompts(&mut self, prompts: impl IntoIterator<Item = IdlePrompt>) {
        for prompt in prompts {
            if !self
                .prompts
                .iter()
                .any(|p| p.idle_start == prompt.idle_start)
            {
                self.prompts.push(prompt);
            }
        }
        self.prompts.sort_by_key(|p| p.idle_start);
    }

    /// Idle periods awaiting the employee's answer, oldest first.
    pub fn pending_prompts(&self) -> &[IdlePrompt] {
        &self.prompts
    }

    /// Records that are not final yet (pending and open spans, the open idle period, activity
    /// minutes in progress), ending at the latest sample. Saving them lets a crash lose at most
    /// one checkpoint interval; after a restart they count as final. An activity minute saved
    /// here may get a second record for its rest after the restart: the two add up.
    pub fn open_records(&self) -> Vec<Record> {
        let mut records: Vec<Record> = self
            .pending
            .iter()
            .chain(self.span.as_ref())
            .filter(|s| s.end > s.start)
            .cloned()
            .map(Record::Window)
            .collect();
        if let Some(idle) = self.idle.as_ref().filter(|i| i.recorded && i.end > i.start) {
            records.push(Record::Idle(idle_record(idle)));
        }
        if let Some(pause) = self.paused {
            records.extend(self.pause_records(pause, pause.reached, pause.reached));
        }
        records.extend(self.activity.open_records().map(Record::Activity));
        records
    }

    /// The pause in progress: its start and when it ends by itself. Cheap (no copies), for
    /// callers that look every sample.
    pub fn pause_state(&self) -> Option<(Millis, Option<Millis>)> {
        self.paused.map(|p| (p.start, p.until))
    }

    /// What the tracker knows right now.
    pub fn status(&self) -> TrackerStatus {
        TrackerStatus {
            clocked_in_since: self.session,
            current: self.current.clone(),
            category: self
                .current
                .as_ref()
                .map(|_| self.classifier.category_name(self.current_rule).to_owned()),
            idle_since: self.idle.as_ref().map(|i| i.start),
            locked: self.locked,
            last_auto_clock_out: self.last_auto_clock_out,
            pending_prompts: self.prompts.clone(),
            paused_since: self.pause_state().map(|(since, _)| since),
            paused_until: self.pause_state().and_then(|(_, until)| until),
        }
    }

    // ----- internals -----

    fn recording(&self) -> bool {
        self.session.is_some() || self.policy.track_outside_sessions
    }

    /// Idle may start no earlier than this.
    fn floor(&self) -> Millis {
        self.high_water.max(self.barrier).max(self.last_input)
    }

    /// A first sample, or the first after a gap: nothing before `c` was observed.
    fn start_fresh(&mut self, c: Millis, obs: &Obs<'_, '_>) {
        self.barrier = self.barrier.max(c);
        if obs.idle_now {
            if c >= self.high_water {
                let reason = obs.reason();
                self.open_idle_view(c, c, reason, obs.view, obs.rule);
            }
        } else {
            self.last_input = self.last_input.max(obs.input_at.min(c));
        }
    }

    /// Gives `(lo, c]` (`0 < c - lo <= pulsetime`) to the state seen in the sample.
    fn attribute(&mut self, lo: Millis, c: Millis, obs: &Obs<'_, '_>, out: &mut Vec<Record>) {
        self.sync_recording(lo, out);
        let in_session = self.session.is_some();
        if !obs.idle_now {
            self.last_input = self.last_input.max(obs.input_at.min(c));
        }
        if let Some(idle) = self.idle.as_mut() {
            if obs.idle_now {
                let from = idle.end.max(lo);
                idle.end = c;
                if in_session {
                    self.activity.add(from, c, false);
                }
                self.check_auto_clock_out(c, out);
                return;
            }
            // Input again: idle ends at the input, never before what it already covers.
            let end = obs.input_at.clamp(lo, c);
            let from = idle.end.max(lo);
            idle.end = end;
            if in_session {
                self.activity.add(from, end, false);
            }
            self.finish_idle(c, out);
            self.active(end, c, obs.view, obs.rule, true, out);
            self.release_pending(out);
            return;
        }
        if obs.idle_now {
            let mut candidate = if obs.locked { lo } else { obs.input_at };
            if obs.idle_ms >= obs.threshold {
                candidate = candidate.min(obs.input_at);
            }
            let start = candidate.max(self.floor()).min(c);
            if start > lo {
                let credit = obs.input_at > lo;
                self.active(lo, start, obs.view, obs.rule, credit, out);
            }
            self.cut_spans(start, out);
            if in_session {
                self.activity.add(start.max(lo), c, false);
            }
            let reason = obs.reason();
            self.open_idle_view(start, c, reason, obs.view, obs.rule);
            self.check_auto_clock_out(c, out);
            return;
        }
        let credit = obs.idle_ms < c - lo;
        self.active(lo, c, obs.view, obs.rule, credit, out);
        self.release_pending(out);
    }

    /// Gives `(a, b]` to a window: extends the open span or closes it and opens the next.
    fn active(
        &mut self,
        a: Millis,
        b: Millis,
        view: &View<'_>,
        rule: Option<usize>,
        credit: bool,
        out: &mut Vec<Record>,
    ) {
        if b <= a {
            return;
        }
        let in_session = self.session.is_some();
        if in_session {
            self.activity.add(a, b, credit);
        }
        if !self.recording() {
            return;
        }
        let input = if credit { b - a } else { 0 };
        if credit {
            self.credit_end = b;
        }
        if let Some(span) = self.span.as_mut() {
            if span.end == a
                && span.in_session == in_session
                && span_matches(&self.classifier, span, view, rule)
            {
                // Heartbeat merge: the common path, no allocation.
                span.end = b;
                span.input_ms += input;
                return;
            }
        }
        self.close_span(out);
        self.span = Some(WindowSpan {
            start: a,
            end: b,
            app: view.app.to_owned(),
            title: view.title.clone().into_owned(),
            exe_path: view.exe_path.map(str::to_owned),
            domain: view.domain.map(str::to_owned),
            category: self.classifier.category_name(rule).to_owned(),
            input_ms: input,
            in_session,
        });
    }

    /// Closes and emits records whose recording the policy switched off, or starts recording
    /// an idle period that was kept for the status only.
    fn sync_recording(&mut self, lo: Millis, out: &mut Vec<Record>) {
        if self.recording() {
            if let Some(idle) = self.idle.as_mut().filter(|i| !i.recorded) {
                idle.recorded = true;
                idle.start = idle.start.max(lo);
                idle.end = idle.end.max(idle.start);
            }
            return;
        }
        self.flush_spans(out);
        if self.idle.as_ref().is_some_and(|i| i.recorded) {
            let idle = self.idle.clone();
            self.finish_idle(lo, out);
            if let Some(i) = idle {
                self.open_idle(i.end, i.end, i.reason, i.app, i.category);
            }
        }
    }

    /// Extends the last state up to `now` when `now` is within pulsetime of the latest sample.
    fn bring_to(&mut self, now: Millis, out: &mut Vec<Record>) {
        let Some(p) = self.prev_at else { return };
        // Nothing observed yet (fresh or resumed tracker): there is no state to extend, and
        // unobserved time is never active.
        if self.last_sample.is_none() {
            return;
        }
        if now <= p || now - p > self.pulsetime || now <= self.high_water {
            return;
        }
        let lo = p.max(self.high_water);
        self.sync_recording(lo, out);
        let in_session = self.session.is_some();
        if let Some(idle) = self.idle.as_mut() {
            let from = idle.end.max(lo);
            idle.end = now;
            if in_session {
                self.activity.add(from, now, false);
            }
        } else {
            let current = self.current.clone();
            let view = current.as_ref().map_or(NO_WINDOW, view_of);
            self.active(lo, now, &view, self.current_rule, false, out);
        }
        self.prev_at = Some(now);
    }

    fn emit_span(&mut self, span: WindowSpan, out: &mut Vec<Record>) {
        if span.end > span.start {
            self.high_water = self.high_water.max(span.end);
            out.push(Record::Window(span));
        }
    }

    fn close_span(&mut self, out: &mut Vec<Record>) {
        if let Some(span) = self.span.take() {
            self.pending.push(span);
        }
        self.release_pending(out);
    }

    /// Emits the pending spans that nothing can cut any more.
    fn release_pending(&mut self, out: &mut Vec<Record>) {
        let floor = self.floor();
        let n = self.pending.iter().take_while(|s| s.end <= floor).count();
        for span in self.pending.drain(..n).collect::<Vec<_>>() {
            self.emit_span(span, out);
        }
    }

    /// Emits every span, pending or open, as it is.
    fn flush_spans(&mut self, out: &mut Vec<Record>) {
        self.cut_spans(Millis::MAX, out);
    }

    /// Emits every span, cut at `at` (idle started there): later parts belong to the idle.
    ///
    /// ```text
    /// pending [0,10] [10,20], open [20,25]; cut_spans(15) -> [0,10] [10,15]; [20,25] dropped
    /// ```
    fn cut_spans(&mut self, at: Millis, out: &mut Vec<Record>) {
        let mut spans = std::mem::take(&mut self.pending);
        spans.extend(self.span.take());
        for mut span in spans {
            if span.start >= at {
                continue;
            }
            if span.end > at {
                // The credited time the cut takes away: the part of the last credited interval
                // after `at` (it was credited whole, but it is idle from `at` on).
                let credited_after = self
                    .credit_end
                    .min(span.end)
                    .saturating_sub(at.max(span.start));
                span.input_ms -= credited_after.max(0);
                span.end = at;
                span.input_ms = span.input_ms.clamp(0, span.end - span.start);
            }
            self.emit_span(span, out);
        }
    }

    fn open_idle_view(
        &mut self,
        start: Millis,
        end: Millis,
        reason: IdleReason,
        view: &View<'_>,
        rule: Option<usize>,
    ) {
        let category = self.classifier.category_name(rule).to_owned();
        self.open_idle(start, end, reason, view.app.to_owned(), category);
    }

    fn open_idle(
        &mut self,
        start: Millis,
        end: Millis,
        reason: IdleReason,
        app: String,
        category: String,
    ) {
        // Nothing before an idle start can change any more.
        self.barrier = self.barrier.max(start);
        self.idle = Some(OpenIdle {
            start,
            end,
            reason,
            app,
            category,
            in_session: self.session.is_some(),
            recorded: self.recording(),
        });
    }

    /// Ends the open idle period at its current end: automatic clock-out if it was long enough,
    /// the idle record, and its decision (policy, or a prompt).
    fn finish_idle(&mut self, decided_at: Millis, out: &mut Vec<Record>) {
        let Some(mut idle) = self.idle.take() else {
            return;
        };
        let end = idle.end;
        self.auto_clock_out(&mut idle, end, out);
        if idle.end <= idle.start {
            return;
        }
        if idle.recorded {
            self.high_water = self.high_water.max(idle.end);
            out.push(Record::Idle(idle_record(&idle)));
        }
        self.barrier = self.barrier.max(idle.end);
        if idle.in_session {
            let prompt = IdlePrompt {
                idle_start: idle.start,
                idle_end: idle.end,
                reason: idle.reason,
                deadline: idle
                    .end
                    .saturating_add(i64::from(self.policy.idle_prompt_timeout_secs) * 1000),
            };
            match self.policy.idle_prompt {
                IdlePromptMode::AlwaysKeep => out.push(decision(
                    &prompt,
                    IdleChoice::Keep,
                    DecisionSource::Policy,
                    decided_at,
                )),
                IdlePromptMode::NeverKeep => out.push(decision(
                    &prompt,
                    IdleChoice::Discard,
                    DecisionSource::Policy,
                    decided_at,
                )),
                IdlePromptMode::Ask => self.prompts.push(prompt),
            }
        }
    }

    fn check_auto_clock_out(&mut self, t: Millis, out: &mut Vec<Record>) {
        if let Some(mut idle) = self.idle.take() {
            self.auto_clock_out(&mut idle, t, out);
            self.idle = Some(idle);
        }
    }

    /// Ends the session at the idle start when the idle has lasted the policy's auto clock-out
    /// by `t`. The idle period then lies outside the session. Returns whether it happened.
    fn auto_clock_out(&mut self, idle: &mut OpenIdle, t: Millis, out: &mut Vec<Record>) -> bool {
        let limit = i64::from(self.policy.auto_clock_out_idle_secs) * 1000;
        if limit == 0 || !idle.in_session || self.session.is_none() || t - idle.start < limit {
            return false;
        }
        let at = idle.start;
        self.flush_spans(out);
        if idle.reason != IdleReason::Suspended {
            // Observed idle time after the session end is no longer session activity.
            self.activity.remove(at, idle.end);
        }
        self.activity.flush(out);
        out.push(Record::ClockOut {
            at,
            reason: ClockOutReason::LongIdle,
        });
        self.high_water = self.high_water.max(at);
        self.barrier = self.barrier.max(at);
        self.session = None;
        self.last_auto_clock_out = Some(at);
        idle.in_session = false;
        idle.recorded = self.policy.track_outside_sessions;
        true
    }

    /// Closes everything open at its current end (clock jump, gap, clock operation).
    fn close_all(&mut self, decided_at: Millis, out: &mut Vec<Record>) {
        self.flush_spans(out);
        self.finish_idle(decided_at, out);
        self.barrier = self.barrier.max(self.high_water);
    }

    /// A gap `(p, c]` without samples: idle `Suspended` inside a session.
    fn record_gap(&mut self, p: Millis, c: Millis, out: &mut Vec<Record>) {
        let lo = p.max(self.high_water);
        if self.session.is_some() && c > lo {
            self.idle = Some(OpenIdle {
                start: lo,
                end: c,
                reason: IdleReason::Suspended,
                app: String::new(),
                category: crate::classify::UNCATEGORIZED.to_owned(),
                in_session: true,
                recorded: true,
            });
            self.finish_idle(c, out);
        }
        self.barrier = self.barrier.max(c);
    }

    /// Ends the pause (if any) at `now`, or at its `until` when that came first.
    fn end_pause_at(&mut self, now: Millis, out: &mut Vec<Record>) {
        if let Some(pause) = self.paused {
            let end = pause.until.map_or(now, |u| u.min(now));
            self.end_pause(end, now, out);
        }
    }

    /// Ends the pause at `end`: its idle period `Paused` and, in a session, its `Break`.
    fn end_pause(&mut self, end: Millis, decided_at: Millis, out: &mut Vec<Record>) {
        let Some(pause) = self.paused.take() else {
            return;
        };
        let end = end.max(pause.reached);
        out.extend(self.pause_records(pause, end, decided_at));
        self.high_water = self.high_water.max(end);
        self.barrier = self.barrier.max(end);
        self.prev_at = Some(end);
        self.last_sample = Some(end);
    }

    /// The records of a pause up to `end` (none when it is empty or nothing is tracked).
    fn pause_records(&self, pause: Pause, end: Millis, decided_at: Millis) -> Vec<Record> {
        if end <= pause.start || !self.recording() {
            return Vec::new();
        }
        let in_session = self.session.is_some();
        let mut out = vec![Record::Idle(IdlePeriod {
            start: pause.start,
            end,
            reason: IdleReason::Paused,
            app: String::new(),
            category: crate::classify::UNCATEGORIZED.to_owned(),
            in_session,
        })];
        if in_session {
            out.push(Record::Decision(IdleDecision {
                idle_start: pause.start,
                idle_end: end,
                choice: IdleChoice::Break,
                source: DecisionSource::User,
                decided_at,
            }));
        }
        out
    }

    fn expire_prompts(&mut self, c: Millis, out: &mut Vec<Record>) {
        if !self.prompts.iter().any(|p| p.deadline <= c) {
            return;
        }
        let choice = self.policy.idle_prompt_default;
        let (due, waiting): (Vec<_>, Vec<_>) =
            self.prompts.drain(..).partition(|p| p.deadline <= c);
        self.prompts = waiting;
        out.extend(
            due.iter()
                .map(|p| decision(p, choice, DecisionSource::Timeout, c)),
        );
    }
}

/// One sample's facts, privatized and categorized.
struct Obs<'v, 's> {
    view: &'v View<'s>,
    rule: Option<usize>,
    idle_now: bool,
    locked: bool,
    idle_ms: i64,
    input_at: Millis,
    threshold: i64,
}

impl Obs<'_, '_> {
    fn reason(&self) -> IdleReason {
        if self.locked {
            IdleReason::Locked
        } else {
            IdleReason::NoInput
        }
    }
}

fn idle_record(idle: &OpenIdle) -> IdlePeriod {
    IdlePeriod {
        start: idle.start,
        end: idle.end,
        reason: idle.reason,
        app: idle.app.clone(),
        category: idle.category.clone(),
        in_session: idle.in_session,
    }
}

fn decision(
    prompt: &IdlePrompt,
    choice: IdleChoice,
    source: DecisionSource,
    decided_at: Millis,
) -> Record {
    Record::Decision(IdleDecision {
        idle_start: prompt.idle_start,
        idle_end: prompt.idle_end,
        choice,
        source,
        decided_at,
    })
}
