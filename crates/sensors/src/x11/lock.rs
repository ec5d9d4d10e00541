//! Whether the desktop says the screen is locked, asked over D-Bus.
//!
//! Desktops report it in different places: the session screensaver service
//! (`org.freedesktop.ScreenSaver` or `org.gnome.ScreenSaver`, method `GetActive`) or logind's
//! `LockedHint` on the system bus. The first service that answers is remembered and asked
//! alone afterwards. A missing bus or service means "not locked", never an error. Every call
//! has a short timeout so a hung bus never stalls sampling; this module never starts a bus,
//! never activates a service and never spawns a process.

use std::time::{Duration, Instant};

use dbus::arg::Variant;
use dbus::channel::{BusType, Channel};
use dbus::Message;

/// Longest wait for one D-Bus answer.
const TIMEOUT: Duration = Duration::from_millis(200);
/// How often to look again for a service when none answered (one may start later).
const PROBE_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bus {
    Session,
    System,
}

/// One place a desktop reports the lock state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Source {
    bus: Bus,
    service: &'static str,
    path: &'static str,
    interface: &'static str,
    /// `Some(property)`: read a boolean property; `None`: call `GetActive`.
    property: Option<&'static str>,
}

/// Session screensavers first: a desktop that never sets logind's `LockedHint` would otherwise
/// answer "unlocked" forever from logind and hide the screensaver's answer.
const SOURCES: [Source; 3] = [
    Source {
        bus: Bus::Session,
        service: "org.freedesktop.ScreenSaver",
        path: "/org/freedesktop/ScreenSaver",
        interface: "org.freedesktop.ScreenSaver",
        property: None,
    },
    Source {
        bus: Bus::Session,
        service: "org.gnome.ScreenSaver",
        path: "/org/gnome/ScreenSaver",
        interface: "org.gnome.ScreenSaver",
        property: None,
    },
    Source {
        bus: Bus::System,
        service: "org.freedesktop.login1",
        // `auto`: the caller's session, or the user's display session when the agent runs
        // outside one (for example as a systemd user service).
        path: "/org/freedesktop/login1/session/auto",
        interface: "org.freedesktop.login1.Session",
        property: Some("LockedHint"),
    },
];

/// Where to find the buses. `None` for the session bus means: take it from the environment
/// (`DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus` when it exists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buses {
    /// Session bus address, e.g. `unix:path=/run/user/1000/bus`.
    pub session: Option<String>,
    /// System bus address; `None` uses the standard system bus.
    pub system: Option<String>,
}

/// Asks the desktop whether the screen is locked; remembers which service answers.
pub(crate) struct LockProbe {
    buses: Buses,
    session: Option<Channel>,
    system: Option<Channel>,
    answering: Option<Source>,
    next_probe: Instant,
}

impl std::fmt::Debug for LockProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockProbe")
            .field("buses", &self.buses)
            .field("answering", &self.answering.map(|s| s.service))
            .finish()
    }
}

impl LockProbe {
    pub(crate) fn new(buses: Buses) -> Self {
        Self {
            buses,
            session: None,
            system: None,
            answering: None,
            next_probe: Instant::now(),
        }
    }

    /// The service that answered last, if any (for diagnostics and tests).
    pub(crate) fn answering(&self) -> Option<&'static str> {
        self.answering.map(|s| s.service)
    }

    /// True when a desktop service says the screen is locked.
    pub(crate) fn locked(&mut self) -> bool {
        if let Some(source) = self.answering {
            match self.ask(source) {
                Some(locked) => return locked,
                None => {
                    tracing::debug!(
                        service = source.service,
                        "screen-lock service stopped answering"
                    );
                    self.answering = None;
                    self.next_probe = Instant::now();
                }
            }
        }
        if Instant::now() < self.next_probe {
            return false;
        }
        self.next_probe = Instant::now() + PROBE_EVERY;
        for source in SOURCES {
            if let Some(locked) = self.ask(source) {
                tracing::debug!(
                    service = source.service,
                    "screen-lock state comes from here"
                );
                self.answering = Some(source);
                return locked;
            }
        }
        false
    }

    /// The source's answer, or `None` when its bus or service is not there.
    fn ask(&mut self, source: Source) -> Option<bool> {
        let channel = self.channel(source.bus)?;
        let message = match source.property {
            None => {
                Message::new_method_call(source.service, source.path, source.interface, "GetActive")
                    .ok()?
            }
            Some(property) => Message::new_method_call(
                source.service,
                source.path,
                "org.freedesktop.DBus.Properties",
                "Get",
            )
            .ok()?
            .append2(source.interface, property),
        };
        // Never start a screensaver daemon just to ask whether it is running.
        let mut message = message;
        message.set_auto_start(false);
        let reply = channel.send_with_reply_and_block(message, TIMEOUT);
        let connected = channel.is_connected();
        let answer = match (reply, source.property) {
            (Ok(reply), None) => reply.read1::<bool>().ok(),
            (Ok(reply), Some(_)) => reply.read1::<Variant<bool>>().ok().map(|v| v.0),
            (Err(_), _) => None,
        };
        if !connected {
            // The bus went away (daemon restarted): reconnect on a later probe.
            *self.slot(source.bus) = None;
        }
        answer
    }

    fn slot(&mut self, bus: Bus) -> &mut Option<Channel> {
        match bus {
            Bus::Session => &mut self.session,
            Bus::System => &mut self.system,
        }
    }

    fn channel(&mut self, bus: Bus) -> Option<&Channel> {
        if self.slot(bus).is_none() {
            let opened = match bus {
                Bus::Session => session_address(&self.buses).and_then(|a| open(&a)),
                Bus::System => match &self.buses.system {
                    Some(address) => open(address),
                    None => Channel::get_private(BusType::System).ok(),
                },
            };
            *self.slot(bus) = opened;
        }
        self.slot(bus).as_ref()
    }
}

/// The session bus address, without libdbus' fallback of launching a bus through X11
/// (`dbus-launch --autolaunch`), which would leave a daemon behind.
fn session_address(buses: &Buses) -> Option<String> {
    if let Some(address) = &buses.session {
        return Some(address.clone());
    }
    if let Some(address) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
        let address = address.to_string_lossy().into_owned();
        if !address.is_empty() && !address.starts_with("autolaunch:") {
            return Some(address);
        }
    }
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")?;
    let socket = std::path::Path::new(&runtime).join("bus");
    socket
        .exists()
        .then(|| format!("unix:path={}", socket.display()))
}

fn open(address: &str) -> Option<Channel> {
    let mut channel = Channel::open_private(address).ok()?;
    channel.register().ok()?;
    Some(channel)
}
