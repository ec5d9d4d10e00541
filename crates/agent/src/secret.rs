//! The device secret in the OS keychain (Secret Service on Linux, Credential Manager on
//! Windows, Keychain on macOS).
//!
//! The secret must never reach the database, a config file, a log or an error message: it is
//! held in [`DeviceSecret`], whose `Debug` prints nothing of it.

/// The keychain service name under which Worktrace keeps device secrets.
pub const SERVICE: &str = "worktrace";

/// A device secret as the server issued it.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceSecret(String);

impl std::fmt::Debug for DeviceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceSecret(…)")
    }
}

impl DeviceSecret {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret for the `Authorization` header; nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A keychain failure, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the OS keychain holds no device secret for this PC and {server}: enroll it again with \
         `worktrace enroll --server URL --token TOKEN`"
    )]
    Missing { server: String },
    #[error("the OS keychain cannot be used ({detail}); {KEYCHAIN_HINT}")]
    Unavailable { detail: String },
}

/// What must be in place for the keychain to work, on this system.
#[cfg(windows)]
const KEYCHAIN_HINT: &str = "Windows Credential Manager must be available to your user account \
     (it is not for some service and guest accounts, or when the user profile failed to load)";
#[cfg(target_os = "macos")]
const KEYCHAIN_HINT: &str = "your login keychain must be unlocked";
#[cfg(not(any(windows, target_os = "macos")))]
const KEYCHAIN_HINT: &str = "on Linux a Secret Service (GNOME Keyring, KWallet) must be running \
     and unlocked in your session";

pub type Result<T> = std::result::Result<T, SecretError>;

/// The keychain entry name: this database's own device id and the server, so two data folders
/// or two servers never share a secret.
fn account(local_device_id: &str, server_url: &str) -> String {
    format!("{local_device_id}@{server_url}")
}

#[cfg(any(target_os = "linux", windows, target_os = "macos"))]
mod os {
    use super::*;

    fn unavailable(e: keyring::Error) -> SecretError {
        // keyring's messages name the backend and the failure, never the secret.
        SecretError::Unavailable {
            detail: e.to_string(),
        }
    }

    fn entry(local_device_id: &str, server_url: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(SERVICE, &account(local_device_id, server_url)).map_err(unavailable)
    }

    pub fn save(local_device_id: &str, server_url: &str, secret: &DeviceSecret) -> Result<()> {
        entry(local_device_id, server_url)?
            .set_password(secret.expose())
            .map_err(unavailable)
    }

    pub fn load(local_device_id: &str, server_url: &str) -> Result<DeviceSecret> {
        match entry(local_device_id, server_url)?.get_password() {
            Ok(secret) => Ok(DeviceSecret(secret)),
            Err(keyring::Error::NoEntry) => Err(SecretError::Missing {
                server: server_url.to_owned(),
            }),
            Err(e) => Err(unavailable(e)),
        }
    }

    pub fn delete(local_device_id: &str, server_url: &str) -> Result<()> {
        match entry(local_device_id, server_url)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
mod os {
    use super::*;

    fn none() -> SecretError {
        SecretError::Unavailable {
            detail: "this operating system has no supported keychain".into(),
        }
    }

    pub fn save(_: &str, _: &str, _: &DeviceSecret) -> Result<()> {
        Err(none())
    }

    pub fn load(_: &str, _: &str) -> Result<DeviceSecret> {
        Err(none())
    }

    pub fn delete(_: &str, _: &str) -> Result<()> {
        Err(none())
    }
}

/// Stores the secret of this PC (`local_device_id` is the database's id) for `server_url`.
pub fn save(local_device_id: &str, server_url: &str, secret: &DeviceSecret) -> Result<()> {
    os::save(local_device_id, server_url, secret)
}

/// Reads the secret back.
pub fn load(local_device_id: &str, server_url: &str) -> Result<DeviceSecret> {
    os::load(local_device_id, server_url)
}

/// Removes the secret (a missing one is not an error).
pub fn delete(local_device_id: &str, server_url: &str) -> Result<()> {
    os::delete(local_device_id, server_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let secret = DeviceSecret::new("s3cr3t-value".into());
        let shown = format!("{secret:?}");
        assert!(
            !shown.contains("s3cr3t"),
            "a secret in a log line would leak it: {shown}"
        );
        assert_eq!(
            account("abc", "https://wt.example"),
            "abc@https://wt.example"
        );
    }
}
