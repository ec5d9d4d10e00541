// Generated from crates/domain by `make bindings`. Do not edit by hand.

export type WindowInfo = { 
/**
 * Application name, e.g. `firefox`, `EXCEL.EXE`, `xterm`.
 */
app: string, 
/**
 * Window title; may be empty (and is emptied by privacy rules before storage).
 */
title: string, 
/**
 * Full path of the executable, when the OS gives it.
 */
exe_path: string | null, 
/**
 * Process id, when the OS gives it.
 */
pid: number | null, 
/**
 * Domain of the page for known browsers, when it can be had (e.g. `mail.example.com`).
 */
domain: string | null, 
/**
 * True for a private/incognito browser window: its title is never stored.
 */
private_browsing: boolean, };

export type Observation = { 
/**
 * The foreground window; `None` when no window has focus (empty desktop).
 */
window: WindowInfo | null, 
/**
 * Milliseconds since the last keyboard or pointer input.
 */
idle_ms: number, 
/**
 * True while the screen is locked (or the screensaver is active).
 */
locked: boolean, };

export type Sample = { 
/**
 * UTC milliseconds.
 */
at: number, window: WindowInfo | null, idle_ms: number, locked: boolean, };

export type WindowSpan = { start: number, end: number, app: string, 
/**
 * Title after privacy rules (may be empty or redacted).
 */
title: string, exe_path: string | null, domain: string | null, 
/**
 * Full hierarchical category name, e.g. `Work > Email`; `Uncategorized` when no rule matched.
 */
category: string, 
/**
 * Milliseconds of the span in which there was keyboard or pointer input (activity level).
 */
input_ms: number, 
/**
 * True when the span lies inside a work session (clocked in).
 */
in_session: boolean, };

export type IdleReason = "no_input" | "locked" | "suspended" | "paused";

export type IdlePeriod = { start: number, end: number, reason: IdleReason, 
/**
 * The foreground app while idle (empty when none); rollups attribute idle time to it.
 */
app: string, category: string, in_session: boolean, };

export type IdleChoice = "keep" | "discard" | "break" | "meeting";

export type DecisionSource = "user" | "policy" | "timeout" | "auto_clock_out";

export type IdleDecision = { idle_start: number, idle_end: number, choice: IdleChoice, source: DecisionSource, decided_at: number, };

export type ClockOutReason = "manual" | "long_idle" | "shift_end";

export type ActivityMinute = { 
/**
 * Start of the minute (a multiple of 60,000).
 */
minute: number, input_seconds: number, observed_seconds: number, };

export type ExportKind = "removable_mounted" | "removable_unmounted" | "file_to_removable" | "file_to_network" | "data_file_created" | "print_job" | "clipboard_bulk" | "upload_site" | "file_to_app";

export type Severity = "info" | "low" | "medium" | "high";

export type ExportEvent = { at: number, 
/**
 * Serialized as `export_kind`: a stored record is tagged `kind` (`"export"`), and one JSON
 * object cannot hold the key twice.
 */
export_kind: ExportKind, severity: Severity, 
/**
 * The app that was in the foreground just before the event.
 */
app_before: string | null, file_name: string | null, 
/**
 * Full path; stays on the PC unless the policy says otherwise.
 */
path: string | null, size_bytes: number | null, 
/**
 * `removable`, `network`, `local`, `printer`, `clipboard`, `web`.
 */
destination_class: string | null, 
/**
 * How many events this one stands for (a burst is one incident with a count).
 */
count: number, 
/**
 * Kind-specific metadata (label, serial, pages, rows/columns...).
 */
details: { [key: string]: unknown }, };

export type RecordKind = "window" | "idle" | "clock_in" | "clock_out" | "decision" | "activity" | "export";

export type Record = { "kind": "window" } & WindowSpan | { "kind": "idle" } & IdlePeriod | { "kind": "clock_in", at: number, } | { "kind": "clock_out", at: number, reason: ClockOutReason, } | { "kind": "decision" } & IdleDecision | { "kind": "activity" } & ActivityMinute | { "kind": "export" } & ExportEvent;

export type IdlePromptMode = "ask" | "always_keep" | "never_keep";

export type CategoryRule = { 
/**
 * Hierarchical name, levels separated by ` > `, e.g. `Work > Email`.
 */
name: string, app: string | null, title: string | null, domain: string | null, 
/**
 * Productivity score from -2 (distracting) to 2 (productive).
 */
score: number, };

export type Redaction = { pattern: string, replacement: string, };

export type UploadPolicy = { 
/**
 * Window titles (after redaction): the title in front in the "who is working now"
 * presence, shown to leads on the team's "now" view.
 */
titles: boolean, 
/**
 * Full paths: of exported files, of the mount point and device of removable media.
 */
paths: boolean, 
/**
 * The current category in the "who is working now" presence.
 */
current_category: boolean, 
/**
 * Browser domains in alerts: the upload site's domain (its label is always sent) and the
 * domain of the sensitive page a file came from.
 */
domains: boolean, 
/**
 * SHA-256 hashes of exported files.
 */
hashes: boolean, 
/**
 * Serial numbers of USB sticks and other removable media.
 */
device_serials: boolean, 
/**
 * Printer names of print jobs.
 */
printer_names: boolean, };

export type WorkHours = { 
/**
 * Local time the working day starts, `HH:MM`.
 */
start: string, 
/**
 * Local time the working day ends, `HH:MM` (after `start`).
 */
end: string, 
/**
 * Working days, lower-case three-letter names: `mon` … `sun`.
 */
days: Array<string>, };

export type LabelledSite = { pattern: string, label: string, };

export type SitePattern = string | LabelledSite;

export type ExportRule = { 
/**
 * Event kinds it applies to; empty = every kind.
 */
kinds: Array<ExportKind>, 
/**
 * File extensions (lower case, no dot); empty = any. `"@data"` stands for the policy's
 * `data_extensions` list.
 */
extensions: Array<string>, 
/**
 * The file (or clipboard copy) is at least this many bytes.
 */
min_size_bytes: number | null, 
/**
 * The incident holds at least this many events (a burst within the burst window).
 */
min_count: number | null, 
/**
 * `true`: only exports from a sensitive app; `false`: only others.
 */
sensitive_source: boolean | null, 
/**
 * Destination classes (`removable`, `network`, `cloud`, `app`, `local`, `printer`,
 * `clipboard`, `web`); empty = any.
 */
destinations: Array<string>, 
/**
 * `true`: only outside work hours; `false`: only inside.
 */
outside_work_hours: boolean | null, severity: Severity, };

export type ClientSource = { label: string, 
/**
 * Patterns on the file name (not the folder).
 */
file_names: Array<string>, 
/**
 * Patterns on the download origin's host name.
 */
domains: Array<string>, };

export type AllowedMedium = { 
/**
 * What the admin calls it (shown with its events), e.g. "IT backup disk".
 */
name: string | null, vendor: string | null, model: string | null, serial: string | null, 
/**
 * The volume label.
 */
label: string | null, };

export type CloudFolder = { 
/**
 * The service, as events name it ("Mail.ru Cloud").
 */
label: string, 
/**
 * The folder; `~` is the home folder.
 */
path: string, };

export type AnomalyPolicy = { enabled: boolean, 
/**
 * 300: three times the usual.
 */
factor_percent: number, 
/**
 * Fewer files (or copies, visits, jobs) than this in a day are never unusual.
 */
min_files: number, 
/**
 * Days before the day that make its baseline.
 */
baseline_days: number, 
/**
 * The person's risk view lists unusual days of this many days back; older ones fade.
 */
fade_days: number, };

export type ExportPolicy = { 
/**
 * Master switch: with `false` nothing below is watched.
 */
enabled: boolean, 
/**
 * Folders watched (with their subfolders) for new data files; `~` is the home folder.
 */
watched_folders: Array<string>, 
/**
 * File extensions that are data files (lower case, no dot).
 */
data_extensions: Array<string>, 
/**
 * Watch mounts of removable media and every file written to them.
 */
removable: boolean, 
/**
 * Mounts under these folders count as removable media even when the device does not say
 * so (desktops mount USB sticks, card readers and opened disk images there).
 */
removable_paths: Array<string>, 
/**
 * Watch files written to network and other remote file systems.
 */
network: boolean, 
/**
 * Watch the folders that cloud-sync clients upload (Yandex.Disk, Dropbox, OneDrive,
 * Nextcloud, ownCloud, found from their settings) and `cloud_folders`.
 */
cloud: boolean, 
/**
 * More cloud-sync folders (`~` is the home folder), each with the service's name: for
 * clients whose settings are not read (e.g. Mail.ru Cloud, Google Drive for desktop).
 */
cloud_folders: Array<CloudFolder>, 
/**
 * File-system types that count as network/remote (as in /proc/self/mountinfo).
 */
network_fs_types: Array<string>, 
/**
 * Print jobs (Linux: from the local CUPS server).
 */
print: boolean, 
/**
 * Clipboard bulk copies (size and shape only; never the content).
 */
clipboard: boolean, 
/**
 * A clipboard copy of at least this many bytes is a bulk copy…
 */
clipboard_min_bytes: number, 
/**
 * …or of at least this many lines.
 */
clipboard_min_lines: number, 
/**
 * A data file in a watched folder opened by a messenger or mail client (Linux).
 */
messengers: boolean, 
/**
 * Messengers and mail clients (regular expressions on the process name, each with the
 * label an event shows: "sent via Telegram").
 */
messenger_apps: Array<SitePattern>, 
/**
 * Time on upload/webmail domains right after a data-file event.
 */
uploads: boolean, 
/**
 * Browser domains (regular expressions, each with the label an alert shows) of cloud
 * storage, file sharing and webmail.
 */
upload_domains: Array<SitePattern>, 
/**
 * Upload sites by window title (regular expressions with labels), for browsers that do not
 * report a domain (on Linux none does): the page titles of cloud storage and webmail.
 */
upload_titles: Array<SitePattern>, 
/**
 * An upload site counts when visited within this many seconds after a data-file event.
 */
upload_window_secs: number, 
/**
 * Files up to this size get a SHA-256 (0: never hash).
 */
hash_max_bytes: number, 
/**
 * A data file within this many seconds of a sensitive app being active is an export from it.
 */
sensitive_window_secs: number, 
/**
 * Sensitive apps (regular expressions on the app name): CRM, accounting, database tools.
 */
sensitive_apps: Array<string>, 
/**
 * Sensitive windows by title (regular expressions).
 */
sensitive_titles: Array<string>, 
/**
 * Sensitive browser domains (regular expressions).
 */
sensitive_domains: Array<string>, 
/**
 * Removable media the company allows: plugging one in is info, not an alert.
 */
allowed_media: Array<AllowedMedium>, 
/**
 * Sources of client data (CRMs) a new data file is matched against, by its name and the
 * domain it was downloaded from; a match makes it an export from that source.
 */
client_sources: Array<ClientSource>, 
/**
 * Events of one kind to one destination with gaps under this many seconds are one incident.
 */
burst_quiet_secs: number, 
/**
 * An incident is closed (and a new one begins) after this many seconds at the latest.
 */
burst_max_secs: number, work_hours: WorkHours, 
/**
 * Severity rules (see [`ExportRule`]). A policy that sets `rules` replaces the whole list.
 */
rules: Array<ExportRule>, 
/**
 * Alerts for a day far above the person's usual exports and their team's (computed by
 * the company server; see [`AnomalyPolicy`]).
 */
anomaly: AnomalyPolicy, };

export type UpdateWindow = { from: string, to: string, };

export type UpdatePolicy = { 
/**
 * Whether agents ask the server for updates at all.
 */
enabled: boolean, 
/**
 * The channel whose newest release the agents take.
 */
channel: string, 
/**
 * A version every agent takes, older or newer than its own (the one way back to an
 * older version); absent: the channel's newest.
 */
pin: string | null, 
/**
 * The share of PCs (by a stable hash of the device and the version) offered a new
 * release, 0 to 100: raise it step by step to roll a release out.
 */
rollout_percent: number, 
/**
 * When updates may be installed (local time of the PC); absent: any time.
 */
window: UpdateWindow | null, 
/**
 * Seconds between two checks, 10 to 86400.
 */
check_interval_secs: number, };

export type Policy = { 
/**
 * Seconds without input after which the PC is idle (back-dated to the last input).
 */
idle_threshold_secs: number, idle_prompt: IdlePromptMode, 
/**
 * Seconds the idle prompt waits for an answer before `idle_prompt_default` applies.
 */
idle_prompt_timeout_secs: number, idle_prompt_default: IdleChoice, 
/**
 * Seconds of idle after which the session is clocked out at the last input; 0 disables.
 */
auto_clock_out_idle_secs: number, 
/**
 * Record activity while not clocked in.
 */
track_outside_sessions: boolean, 
/**
 * Whether the employee may pause tracking.
 */
allow_pause: boolean, categories: Array<CategoryRule>, 
/**
 * Applied to titles before anything is stored.
 */
redactions: Array<Redaction>, 
/**
 * Apps (regular expressions on the app name) stored as the app name only: no title, path or domain.
 */
excluded_apps: Array<string>, 
/**
 * Title patterns that mark a private/incognito browser window; its title is never stored.
 */
private_title_patterns: Array<string>, 
/**
 * What may leave the PC (see [`UploadPolicy`]).
 */
upload: UploadPolicy, 
/**
 * Data-export detection (see [`ExportPolicy`]).
 */
exports: ExportPolicy, 
/**
 * A departure watch is in force for this person: the server raised the export policy
 * ([`ExportPolicy::raised`]) and says so here, so the employee's policy view shows it.
 * Set by the server only, never by a stored policy.
 */
watch: boolean, 
/**
 * Agent updates from the company server (see [`UpdatePolicy`]).
 */
update: UpdatePolicy, };

export type GroupBy = "app" | "category" | "title" | "hour" | "day";

export type SummaryRow = { 
/**
 * App name, category, title, `YYYY-MM-DD HH:00` (local) or `YYYY-MM-DD` (work day).
 */
key: string, 
/**
 * Time with input-bearing foreground windows, not idle.
 */
active_ms: number, 
/**
 * Idle time (no input, locked, suspended).
 */
idle_ms: number, 
/**
 * Worked time: active time in a session plus idle time kept as work.
 */
clocked_ms: number, 
/**
 * Time with input, for the activity level (`input_ms / active_ms`).
 */
input_ms: number, };

export type EnrollRequest = { 
/**
 * The token an admin created for the employee who owns this PC.
 */
token: string, 
/**
 * A human description of the PC, e.g. `alice-laptop (Linux)`.
 */
description: string, 
/**
 * The agent database's own random id, the same for every enrollment of that database.
 * When the same person enrolls the same database again (its history is uploaded again
 * under the new device), the new device takes over the older devices' rows, so nothing
 * is counted twice. Absent from agents that predate it.
 */
install_id?: string, 
/**
 * The account the agent runs as (`asmith`, `ACME\asmith`): with a fleet token, the
 * server enrolls the PC as the person with this login. Absent from older agents.
 */
account?: string, };

export type EnrollResponse = { device_id: number, 
/**
 * Sent as `Authorization: Bearer <device_secret>` on every later request.
 */
device_secret: string, 
/**
 * The policy in force for the device's owner.
 */
policy: Policy, };

export type ChainHead = { seq: number, 
/**
 * Lower-case hex of the last record's hash.
 */
hash: string, };

export type RollupItem = { 
/**
 * Work day in the employee's time zone, `YYYY-MM-DD`.
 */
day: string, 
/**
 * Hour of the day 0..=23; absent for the whole-day rollup.
 */
hour: number | null, app: string, category: string, active_ms: number, idle_ms: number, clocked_ms: number, input_ms: number, revision: number, };

export type SessionItem = { 
/**
 * Work day of the clock-in, `YYYY-MM-DD`: at most 2 days from the UTC date of `start`
 * (the server refuses the batch otherwise).
 */
day: string, start: number, end: number | null, clock_out_reason: ClockOutReason | null, };

export type DecisionItem = { 
/**
 * Work day of `decision.idle_start`, `YYYY-MM-DD`: at most 2 days from its UTC date.
 */
day: string, decision: IdleDecision, };

export type AlertItem = { id: number, event: ExportEvent, };

export type Presence = { at: number, clocked_in: boolean, idle: boolean, category: string | null, title?: string, };

export type ChainBreakItem = { last_good_seq: number, resumes_seq: number, 
/**
 * When the PC salvaged its database.
 */
noted_at: number, };

export type ChainProof = { 
/**
 * The chain head of the last batch the server acknowledged (seq 0 and an empty hash
 * before the first).
 */
since: ChainHead, 
/**
 * The stored link (`prev_hash`, hex) of record `since.seq + 1`: the hash of record
 * `since.seq` as it is stored now. Absent when the batch covers no new record.
 */
next_prev: string | null, 
/**
 * How many records are stored after `since.seq` up to `chain_head.seq`.
 */
records: number, 
/**
 * The sequence numbers of the export records among them: each one's alert is in this
 * batch or an earlier one.
 */
exports: Array<number>, 
/**
 * Where the PC lost records to a damaged database that it salvaged, not yet reported.
 */
breaks: Array<ChainBreakItem>, 
/**
 * [`Policy::fingerprint`] of the policy the agent applies.
 */
policy_sha256: string, };

export type IngestBatch = { 
/**
 * The device's own batch counter, increasing by one per new batch.
 */
batch_seq: number, chain_head: ChainHead, rollups: Array<RollupItem>, sessions: Array<SessionItem>, decisions: Array<DecisionItem>, alerts: Array<AlertItem>, presence: Presence | null, 
/**
 * What of the device's record chain the batch covers, for the server's tamper checks.
 * Absent from agents that predate it (their batches get only the head checks).
 */
chain?: ChainProof, };

export type ChainStatus = "ok" | "backwards" | "fork" | "rewritten" | "records_missing" | "alert_missing" | "salvaged";

export type Dropped = { 
/**
 * Items dated before the server's retention (older than it keeps history).
 */
too_old: number, 
/**
 * Items dated further ahead of the server's clock than the allowed clock skew.
 */
in_future: number, 
/**
 * Rollups with a duration longer than their hour (2 h: the hour that repeats when the
 * clocks go back) or day (25 h, a DST day), or that with the device's other rollups of
 * the hour or day would add up to longer than it.
 */
too_long: number, 
/**
 * The presence report was dated ahead of the server's clock beyond the allowed skew; it
 * was kept as of the moment the server received it.
 */
presence_clamped: boolean, };

export type IngestAck = { batch_seq: number, 
/**
 * True when this batch had been received before and nothing changed now.
 */
duplicate: boolean, 
/**
 * Rollups stored (new keys or newer revisions); older revisions are counted as ignored.
 */
rollups_applied: number, rollups_ignored: number, sessions: number, decisions: number, alerts: number, chain_status: ChainStatus, 
/**
 * Items the server did not store because their times cannot be true (see [`Dropped`]).
 * Absent from servers that predate it.
 */
dropped: Dropped, 
/**
 * The policy in force now (organisation policy with the team's overrides merged).
 */
policy: Policy, };

export type Package = "exe" | "msi" | "deb";

export type UpdateProblem = { 
/**
 * The version that was offered.
 */
version: string, 
/**
 * What went wrong, in words.
 */
message: string, at: number, };

export type UpdateCheck = { 
/**
 * The running agent's version.
 */
version: string, 
/**
 * [`platform`] of the running agent.
 */
platform: string, 
/**
 * How the running agent was installed.
 */
package: Package, 
/**
 * The last update that failed, until one succeeds.
 */
problem?: UpdateProblem, };

export type UpdateOffer = { release_id: number, version: string, platform: string, package: Package, channel: string, size: number, 
/**
 * Lower-case hex SHA-256 of the file.
 */
sha256: string, 
/**
 * The minisign signature, as the `.minisig` file holds it.
 */
signature: string, 
/**
 * The policy pins this version (the agent then takes it even when it is older).
 */
pinned: boolean, 
/**
 * Where to download the file (a path on the same server; `Range` requests resume).
 */
download: string, };

export type UpdateAnswer = { 
/**
 * The release to install; absent when the agent is up to date, updates are off or this
 * PC is not in the rollout yet.
 */
offer: UpdateOffer | null, };
