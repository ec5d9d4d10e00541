//! The current Windows time zone's key name (`W. Europe Standard Time`), as the registry and
//! `GetDynamicTimeZoneInformation` name it.

use windows_sys::Win32::System::Time::{
    GetDynamicTimeZoneInformation, DYNAMIC_TIME_ZONE_INFORMATION, TIME_ZONE_ID_INVALID,
};

use crate::{Error, Result};

/// The key name of the zone the system is set to.
pub fn key_name() -> Result<String> {
    let mut info = DYNAMIC_TIME_ZONE_INFORMATION::default();
    // SAFETY: `info` is a valid, writable DYNAMIC_TIME_ZONE_INFORMATION.
    let answer = unsafe { GetDynamicTimeZoneInformation(&mut info) };
    if answer == TIME_ZONE_ID_INVALID {
        return Err(Error::Os {
            call: "GetDynamicTimeZoneInformation",
            reason: std::io::Error::last_os_error().to_string(),
        });
    }
    let name = &info.TimeZoneKeyName;
    let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
    let name = String::from_utf16_lossy(&name[..len]);
    if name.is_empty() {
        return Err(Error::TimeZone {
            reason: "Windows reports no time zone key name".into(),
        });
    }
    Ok(name)
}
