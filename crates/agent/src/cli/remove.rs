//! `worktrace remove-data`: removing what Worktrace recorded on this PC, for this user or (an
//! administrator's uninstall) for every user, after the user confirmed it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use worktrace_agent::lock::AgentLock;
use worktrace_agent::settings::Settings;
use worktrace_store::Store;

pub fn remove_data(settings: &Settings, all_users: bool, yes: bool) -> anyhow::Result<ExitCode> {
    use worktrace_agent::remove;
    if !yes {
        bail!(
            "this removes every record Worktrace kept{}; it cannot be undone. Run it again with \
             --yes to go ahead",
            if all_users {
                " for every user of this PC"
            } else {
                " for you on this PC"
            }
        );
    }
    let folders: Vec<PathBuf> = if all_users {
        remove::profiles()
            .iter()
            .flat_map(|p| remove::user_folders(p))
            .collect()
    } else {
        if AgentLock::is_held(&settings.lock_path()) {
            bail!("the agent is running; stop it (quit the tray, or Ctrl-C `worktrace run`) first");
        }
        // The device secret goes with the data: it is of no use without the database.
        let database = settings.database_path();
        let opened = database
            .exists()
            .then(|| Store::open(&database, settings.day_clock()).ok())
            .flatten();
        if let Some(store) = opened {
            if let Ok(Some(url)) = store.sync_state().map(|s| s.server_url) {
                if let Err(e) = worktrace_agent::secret::delete(store.device_id(), &url) {
                    eprintln!("worktrace: the device secret stays in the keychain: {e}");
                }
            }
        }
        vec![settings.data_dir.clone()]
    };
    let done = remove::remove(&folders);
    for f in &done.removed {
        println!("removed {}", f.display());
    }
    for (f, why) in &done.left {
        eprintln!("worktrace: left {}: {why}", f.display());
    }
    if done.removed.is_empty() && done.left.is_empty() {
        println!("there was no Worktrace data to remove");
    }
    Ok(if done.left.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
