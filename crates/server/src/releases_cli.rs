//! `worktrace-server admin release …`: add the vendor's signed agent releases, list them, move
//! them between channels, remove them.
//!
//! The server operator runs these on the server (they reach the database directly); releases
//! belong to the server, not to one organisation, so they are logged here rather than in an
//! organisation's audit log.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;
use worktrace_server::http::auth::now_ms;
use worktrace_server::release::NewRelease;
use worktrace_server::store::Store;

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Add a signed agent release: the file and its minisign signature, whose trusted comment
    /// names it (`worktrace-release linux-x86_64 exe 0.2.0`). Prints the release's id.
    Add {
        /// The release file (the `worktrace` executable, `worktrace.msi`, the agent .deb).
        file: PathBuf,
        /// Its signature (default: FILE.minisig).
        #[arg(long)]
        signature: Option<PathBuf>,
        /// The channel it goes to (the policy's `update.channel` picks one).
        #[arg(long, default_value = "stable")]
        channel: String,
        /// The platform it must be signed for (e.g. windows-x86_64): a check, nothing more.
        #[arg(long)]
        platform: Option<String>,
    },
    /// List the stored releases.
    List,
    /// Move a release to another channel (e.g. from beta to stable).
    Channel {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        channel: String,
    },
    /// Remove a release: it is no longer offered (agents that took it keep it).
    Remove {
        #[arg(long)]
        id: i64,
    },
}

pub async fn run(store: Store, cmd: ReleaseCommand) -> anyhow::Result<()> {
    match cmd {
        ReleaseCommand::Add {
            file,
            signature,
            channel,
            platform,
        } => {
            let sig_path = signature.unwrap_or_else(|| {
                let mut p = file.clone().into_os_string();
                p.push(".minisig");
                PathBuf::from(p)
            });
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let sig = std::fs::read_to_string(&sig_path).with_context(|| {
                format!(
                    "cannot read the signature {} (sign with minisign -S -t \"worktrace-release \
                     <platform> <package> <version>\" -m FILE)",
                    sig_path.display()
                )
            })?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "release".to_owned());
            let release =
                NewRelease::from_signed(&name, &bytes, &sig, &channel, platform.as_deref())
                    .map_err(anyhow::Error::msg)?;
            let Some(id) = store.add_release(&release, bytes, now_ms()).await? else {
                bail!(
                    "release {} {} {} is stored already; remove it first to replace it",
                    release.platform,
                    release.package,
                    release.version
                );
            };
            tracing::info!(
                id,
                platform = %release.platform,
                version = %release.version,
                channel = %release.channel,
                "release added"
            );
            println!(
                "{id}\t{} {} {} on {} ({} bytes, sha256 {})",
                release.platform,
                release.package,
                release.version,
                release.channel,
                release.size,
                release.sha256
            );
        }
        ReleaseCommand::List => {
            for r in store.list_releases().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{} bytes\t{}",
                    r.id, r.platform, r.package, r.version, r.channel, r.size, r.file_name
                );
            }
        }
        ReleaseCommand::Channel { id, channel } => {
            if !worktrace_domain::update::is_channel(&channel) {
                bail!(
                    "{channel:?} is not a channel name; use 1 to 32 lower-case letters, digits \
                     and -"
                );
            }
            if !store.set_release_channel(id, &channel).await? {
                bail!("there is no release {id}; see `worktrace-server admin release list`");
            }
            println!("release {id} is on {channel}");
        }
        ReleaseCommand::Remove { id } => {
            if !store.remove_release(id).await? {
                bail!("there is no release {id}; see `worktrace-server admin release list`");
            }
            println!("release {id} removed");
        }
    }
    Ok(())
}
