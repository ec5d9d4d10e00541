//! Types shared by the agent, the server and the user interface.
//!
//! Plain data only: no I/O, no clock reads, no business rules beyond validation of a value's
//! own shape. Every timestamp is UTC milliseconds since the Unix epoch ([`Millis`]).

#![forbid(unsafe_code)]

pub mod bindings;
pub mod csv;
pub mod day;
pub mod exports;
pub mod policy;
pub mod policy_error;
pub mod record;
pub mod report;
pub mod text;
pub mod update;
pub mod window;
pub mod wire;

pub use exports::{
    AllowedMedium, AnomalyPolicy, ClientSource, CloudFolder, ExportPolicy, ExportRule,
    LabelledSite, SitePattern, WorkHours,
};
pub use policy::{CategoryRule, IdlePromptMode, Policy, Redaction, UploadPolicy};
pub use policy_error::PolicyError;
pub use record::{
    ActivityMinute, ClockOutReason, DecisionSource, ExportEvent, ExportKind, IdleChoice,
    IdleDecision, IdlePeriod, IdleReason, Record, RecordKind, Severity, WindowSpan,
};
pub use report::{GroupBy, SummaryRow};
pub use update::{Package, UpdatePolicy, UpdateWindow};
pub use window::{Observation, Sample, WindowInfo};

/// UTC milliseconds since the Unix epoch. Used for every timestamp in storage and on the wire.
pub type Millis = i64;
