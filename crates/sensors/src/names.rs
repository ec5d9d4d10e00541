//! Pure helpers that turn what an OS reports into the names Worktrace shows.
//!
//! Pure: no I/O, no OS calls.

#![forbid(unsafe_code)]

/// The file name of an executable path, for either path separator (Windows paths are read
/// on every platform, e.g. in tests and reports).
///
/// ```text
/// "C:\\Program Files\\Microsoft Office\\EXCEL.EXE" -> Some("EXCEL.EXE")
/// "/usr/bin/xterm"                                 -> Some("xterm")
/// "" or "C:\\"                                     -> None
/// ```
pub fn exe_file_name(path: &str) -> Option<String> {
    path.rsplit(['\\', '/'])
        .next()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn takes_the_last_component_with_either_separator() {
        let cases = [
            (
                "C:\\Program Files\\Microsoft Office\\EXCEL.EXE",
                Some("EXCEL.EXE"),
            ),
            ("/usr/bin/xterm", Some("xterm")),
            ("LockApp.exe", Some("LockApp.exe")),
            ("C:\\", None),
            ("", None),
        ];
        for (path, want) in cases {
            assert_eq!(
                exe_file_name(path).as_deref(),
                want,
                "file name of {path:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn a_name_never_contains_a_separator(path in ".{0,40}") {
            if let Some(name) = exe_file_name(&path) {
                prop_assert!(!name.contains(['\\', '/']) && !name.is_empty());
            }
        }
    }
}
