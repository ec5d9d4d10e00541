//! A scripted sensor for deterministic tests of callers (engine, tracker drivers).
//!
//! It never touches the OS; it must never be used by the shipped agent as a stand-in for a
//! real reading.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;

use worktrace_domain::Observation;

use crate::{Result, Sensor};

type Step = Box<dyn FnMut(u64) -> Result<Observation> + Send>;

/// A [`Sensor`] that answers from a script instead of the OS.
///
/// - [`FakeSensor::new`]: observations in order; after the last one it keeps answering the
///   last (a steady desktop), or an empty desktop if the script was empty.
/// - [`FakeSensor::scripted`]: the same with errors in between (a display that goes away).
/// - [`FakeSensor::from_fn`]: computed from the call number (0, 1, 2, ...).
pub struct FakeSensor {
    script: VecDeque<Result<Observation>>,
    last: Option<Result<Observation>>,
    step: Option<Step>,
    calls: u64,
}

impl FakeSensor {
    /// Answers `observations` in order, then repeats the last one.
    pub fn new(observations: Vec<Observation>) -> Self {
        Self::scripted(observations.into_iter().map(Ok).collect())
    }

    /// Answers `steps` (readings or errors) in order, then repeats the last one.
    pub fn scripted(steps: Vec<Result<Observation>>) -> Self {
        Self {
            script: steps.into(),
            last: None,
            step: None,
            calls: 0,
        }
    }

    /// Answers `step(n)` on the n-th call, counting from 0.
    pub fn from_fn(step: impl FnMut(u64) -> Result<Observation> + Send + 'static) -> Self {
        Self {
            script: VecDeque::new(),
            last: None,
            step: Some(Box::new(step)),
            calls: 0,
        }
    }

    /// How many times [`Sensor::observe`] was called.
    pub fn calls(&self) -> u64 {
        self.calls
    }
}

impl Sensor for FakeSensor {
    fn observe(&mut self) -> Result<Observation> {
        let n = self.calls;
        self.calls += 1;
        if let Some(step) = self.step.as_mut() {
            return step(n);
        }
        if let Some(next) = self.script.pop_front() {
            self.last = Some(next.clone());
            return next;
        }
        match &self.last {
            Some(last) => last.clone(),
            None => Ok(Observation {
                window: None,
                idle_ms: 0,
                locked: false,
            }),
        }
    }
}

impl fmt::Debug for FakeSensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeSensor")
            .field("remaining", &self.script.len())
            .field("computed", &self.step.is_some())
            .field("calls", &self.calls)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use worktrace_domain::WindowInfo;

    fn at(app: &str, idle_ms: u64) -> Observation {
        Observation {
            window: Some(WindowInfo::new(app, "t")),
            idle_ms,
            locked: false,
        }
    }

    #[test]
    fn answers_the_script_in_order_then_holds_the_last_reading() {
        let mut s = FakeSensor::new(vec![at("a", 0), at("b", 5)]);
        assert_eq!(
            s.observe(),
            Ok(at("a", 0)),
            "first scripted reading comes first"
        );
        assert_eq!(s.observe(), Ok(at("b", 5)), "then the second");
        assert_eq!(
            s.observe(),
            Ok(at("b", 5)),
            "a finished script holds its last reading"
        );
        assert_eq!(s.calls(), 3, "every call is counted");
    }

    #[test]
    fn replays_errors_where_the_script_has_them() {
        let lost = Error::ConnectionLost {
            display: ":9".into(),
            reason: "gone".into(),
        };
        let mut s = FakeSensor::scripted(vec![Ok(at("a", 0)), Err(lost.clone()), Ok(at("a", 1))]);
        assert!(s.observe().is_ok(), "reading before the outage");
        assert_eq!(
            s.observe(),
            Err(lost),
            "the scripted outage is reported as an error"
        );
        assert_eq!(
            s.observe(),
            Ok(at("a", 1)),
            "and the sensor recovers after it"
        );
    }

    #[test]
    fn an_empty_script_is_an_empty_desktop() {
        let mut s = FakeSensor::new(Vec::new());
        let o = s.observe().expect("an empty script still answers");
        assert!(
            o.window.is_none() && o.idle_ms == 0 && !o.locked,
            "nothing in front: {o:?}"
        );
    }

    #[test]
    fn from_fn_sees_the_call_number() {
        let mut s = FakeSensor::from_fn(|n| Ok(at("a", n * 1000)));
        let idle: Vec<u64> = (0..3)
            .map(|_| s.observe().map(|o| o.idle_ms).unwrap_or(0))
            .collect();
        assert_eq!(
            idle,
            vec![0, 1000, 2000],
            "the closure gets 0, 1, 2 in order"
        );
    }

    #[test]
    fn works_behind_the_trait_object_the_engine_holds() {
        let mut boxed: Box<dyn Sensor> = Box::new(FakeSensor::new(vec![at("x", 7)]));
        assert_eq!(
            boxed.observe(),
            Ok(at("x", 7)),
            "dynamic dispatch reaches the script"
        );
    }
}
