//! The system's time zone as an IANA name (`Europe/Berlin`), read from the OS: on Windows the
//! current zone's Windows name (`W. Europe Standard Time`) mapped through CLDR's
//! `windowsZones` table (the `windows-timezones` crate), elsewhere what `iana-time-zone` finds.
//!
//! Never guesses: a zone that cannot be read or mapped is an error that says what to set.

use crate::{Error, Result};

/// The IANA name of the system's current time zone.
pub fn system_time_zone() -> Result<String> {
    #[cfg(windows)]
    {
        windows_to_iana(&crate::windows::zone::key_name()?)
    }
    #[cfg(not(windows))]
    {
        iana_time_zone::get_timezone().map_err(|e| Error::TimeZone {
            reason: e.to_string(),
        })
    }
}

/// CLDR's world-wide default IANA zone for a Windows zone name.
///
/// `"W. Europe Standard Time"` → `"Europe/Berlin"`; `"UTC"` → `"Etc/UTC"`;
/// `"Mars Standard Time"` → an error naming it.
pub fn windows_to_iana(windows_name: &str) -> Result<String> {
    windows_name
        .trim()
        .parse::<windows_timezones::WindowsTimezone>()
        .map(|tz| tz.tzdb_id().to_owned())
        .map_err(|_| Error::TimeZone {
            reason: format!(
                "Windows names the time zone {windows_name:?}, which is not in the CLDR table"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_zone_names_map_to_their_iana_zones() {
        for (windows, iana) in [
            ("W. Europe Standard Time", "Europe/Berlin"),
            ("Russian Standard Time", "Europe/Moscow"),
            ("Pacific Standard Time", "America/Los_Angeles"),
            ("India Standard Time", "Asia/Calcutta"),
            ("Dateline Standard Time", "Etc/GMT+12"),
            ("UTC", "Etc/UTC"),
            ("GMT Standard Time", "Europe/London"),
        ] {
            assert_eq!(
                windows_to_iana(windows).ok().as_deref(),
                Some(iana),
                "{windows}"
            );
        }
    }

    #[test]
    fn an_unknown_windows_zone_is_an_error_that_names_it() {
        let err = windows_to_iana("Mars Standard Time").expect_err("not a Windows zone");
        assert!(err.to_string().contains("Mars Standard Time"), "{err}");
    }
}
