//! `worktrace config check`: whether the settings and the policy in them are valid, and where
//! the settings in force came from.

use std::process::ExitCode;

use worktrace_agent::settings::Settings;

pub fn config_check(settings: &Settings) -> anyhow::Result<ExitCode> {
    // Settings::load already checked ranges; compiling the policy checks every pattern.
    worktrace_tracker::Classifier::new(&settings.policy).map_err(|e| {
        let file = settings
            .config_path
            .as_ref()
            .map(|p| p.display().to_string());
        anyhow::anyhow!(
            "{}: [policy] {e}",
            file.unwrap_or_else(|| "(defaults)".into())
        )
    })?;
    match &settings.config_path {
        Some(path) => println!("ok: {} is valid", path.display()),
        None => println!("ok: no config file; using the defaults"),
    }
    // What IT set for the whole machine wins over the user's file; say where it came from.
    if let Some(path) = &settings.machine_config_path {
        println!("machine-wide settings: {} (valid)", path.display());
    }
    if settings.machine_policy {
        println!(
            "machine policy: HKEY_LOCAL_MACHINE\\{}",
            worktrace_agent::settings::POLICY_KEY
        );
    }
    match &settings.server.url {
        Some(url) => println!(
            "company server: {url}{}",
            if settings.server.enrollment_token.is_some() {
                " (an enrollment token is set)"
            } else {
                ""
            }
        ),
        None => println!("company server: none in the settings"),
    }
    println!("data directory: {}", settings.data_dir.display());
    println!(
        "time zone: {}, day starts at {}",
        settings.time_zone,
        settings.day_start.format("%H:%M")
    );
    if let Some(problem) = &settings.time_zone_problem {
        println!("warning: {problem}");
    }
    Ok(ExitCode::SUCCESS)
}
