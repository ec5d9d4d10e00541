//! Where the machine-wide settings IT deploys are: the machine's settings file and, on Windows,
//! the registry key that the installer and Group Policy write.

use std::path::PathBuf;

use super::file::ConfigFile;
use super::CONFIG_FILE_NAME;

/// Where the machine-wide settings file is looked for when `WORKTRACE_MACHINE_CONFIG` is unset.
pub fn machine_config_default() -> PathBuf {
    #[cfg(windows)]
    {
        let base = std::env::var_os("ProgramData")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from);
        base.join("Worktrace").join(CONFIG_FILE_NAME)
    }
    #[cfg(not(windows))]
    {
        PathBuf::from("/etc/worktrace").join(CONFIG_FILE_NAME)
    }
}

/// The registry key whose values the installer (`SERVER_URL`, `ENROLLMENT_TOKEN`) and Group
/// Policy write; the agent reads it in the 64-bit view.
pub const POLICY_KEY: &str = r"SOFTWARE\Policies\Worktrace";

/// The settings under [`POLICY_KEY`] in `HKEY_LOCAL_MACHINE`, as a layer; `None` when the key
/// is absent. The value names: `ServerUrl`, `EnrollmentToken`, `CaFile`, `PinSha256` (strings)
/// and `SyncIntervalSecs` (a DWORD).
#[cfg(windows)]
pub(super) fn registry_layer() -> Option<ConfigFile> {
    let key = windows_registry::LOCAL_MACHINE.open(POLICY_KEY).ok()?;
    let text = |name: &str| key.get_string(name).ok();
    let mut layer = ConfigFile::default();
    layer.server.url = text("ServerUrl");
    layer.server.enrollment_token = text("EnrollmentToken");
    layer.server.ca_file = text("CaFile").map(PathBuf::from);
    layer.server.pin_sha256 = text("PinSha256");
    layer.server.sync_interval_secs = key.get_u32("SyncIntervalSecs").ok().map(u64::from);
    Some(layer)
}

#[cfg(not(windows))]
pub(super) fn registry_layer() -> Option<ConfigFile> {
    None
}
