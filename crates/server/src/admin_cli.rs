//! `worktrace-server admin …`: the organisation managed from the command line (first admin,
//! users, teams, memberships, enrollment and fleet tokens, password resets, device revocation,
//! agent releases). Every change is audited under the admin named by `--by`, or under
//! "server CLI" where `--by` may be left out. Passwords are read from standard input.

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::Subcommand;
use worktrace_server::http::auth::now_ms;
use worktrace_server::model::{Actor, Role, Team, User};
use worktrace_server::ops;
use worktrace_server::store::Store;

use crate::releases_cli;

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create the organisation (if new) and an admin; reads the password from standard input.
    CreateAdmin {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Add a person; with --password-stdin they can log in to the dashboard.
    AddUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, lead or employee.
        #[arg(long, default_value = "employee")]
        role: String,
        #[arg(long)]
        password_stdin: bool,
        /// The admin who does it (e-mail), for the audit log; without it the change is
        /// recorded as made by the server CLI.
        #[arg(long)]
        by: Option<String>,
        /// Organisation name (needed only when the server holds several).
        #[arg(long)]
        org: Option<String>,
    },
    /// Create a team.
    AddTeam {
        #[arg(long)]
        name: String,
        /// The admin who does it (e-mail), for the audit log; without it the change is
        /// recorded as made by the server CLI.
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        org: Option<String>,
    },
    /// Put a person in a team (as lead with --lead).
    AddMember {
        #[arg(long)]
        team: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        lead: bool,
        /// The admin who does it (e-mail), for the audit log; without it the change is
        /// recorded as made by the server CLI.
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        org: Option<String>,
    },
    /// Create a one-time enrollment token for a PC of this person; prints the token.
    EnrollmentToken {
        #[arg(long)]
        email: String,
        #[arg(long, default_value_t = 72)]
        valid_hours: u32,
        /// The admin who does it (e-mail), for the audit log; without it the change is
        /// recorded as made by the server CLI.
        #[arg(long)]
        by: Option<String>,
    },
    /// Create a fleet token: one token for an installer (the MSI's ENROLLMENT_TOKEN, the
    /// Linux settings' enrollment_token) that enrolls up to --max-uses PCs, each as the person
    /// whose login (set-login) is the PC's account name, else whose e-mail address starts with
    /// it. Prints the token.
    FleetToken {
        /// What it is for, shown in the audit log (e.g. "Office PCs, spring roll-out").
        #[arg(long)]
        label: String,
        #[arg(long, default_value_t = ops::fleet::DEFAULT_VALID_HOURS)]
        valid_hours: u32,
        #[arg(long, default_value_t = ops::fleet::DEFAULT_MAX_USES)]
        max_uses: u32,
        #[arg(long)]
        org: Option<String>,
        /// The admin who does it (e-mail), for the audit log; without it the change is
        /// recorded as made by the server CLI.
        #[arg(long)]
        by: Option<String>,
    },
    /// List the organisation's fleet tokens: id, label, PCs enrolled of the limit, expiry,
    /// revocation (never the tokens themselves).
    FleetTokens {
        #[arg(long)]
        org: Option<String>,
    },
    /// Revoke a fleet token: it enrolls no more PCs (those it enrolled stay enrolled).
    RevokeFleetToken {
        #[arg(long)]
        id: i64,
        /// The admin who does it (e-mail), for the audit log; without it the change is
        /// recorded as made by the server CLI.
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        org: Option<String>,
    },
    /// Set a person's login on the organisation's PCs (their account name, without a domain):
    /// a fleet token enrolls a PC whose account has it as this person.
    SetLogin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        login: String,
        /// The admin who does it (e-mail), for the audit log; without it the change is
        /// recorded as made by the server CLI.
        #[arg(long)]
        by: Option<String>,
    },
    /// List devices with their chain flags.
    Devices {
        #[arg(long)]
        org: Option<String>,
    },
    /// Deactivate a person: no more logins (open sessions end at once), devices revoked,
    /// history kept. Recorded in the audit log under the admin named by --by.
    DeactivateUser {
        #[arg(long)]
        email: String,
        /// The admin who does it (e-mail), for the audit log.
        #[arg(long)]
        by: String,
        #[arg(long)]
        org: Option<String>,
    },
    /// Create a one-time password-reset link for a person and print it: opening it in the
    /// dashboard sets a new password and ends all their sessions. Recorded in the audit log
    /// under --by.
    PasswordReset {
        #[arg(long)]
        email: String,
        /// The admin who does it (e-mail), for the audit log.
        #[arg(long)]
        by: String,
        /// Hours until the link expires (1 to 168).
        #[arg(long, default_value_t = ops::RESET_VALID_HOURS)]
        valid_hours: u32,
        /// The dashboard's address as people reach it, to print the whole link.
        #[arg(long)]
        base_url: Option<String>,
        #[arg(long)]
        org: Option<String>,
    },
    /// Take a person out of a team. Recorded in the audit log under --by.
    RemoveMember {
        #[arg(long)]
        team: String,
        #[arg(long)]
        email: String,
        /// The admin who does it (e-mail), for the audit log.
        #[arg(long)]
        by: String,
        #[arg(long)]
        org: Option<String>,
    },
    /// Delete a team with its memberships and policy overrides; people and data stay.
    /// Recorded in the audit log under --by.
    DeleteTeam {
        #[arg(long)]
        name: String,
        /// The admin who does it (e-mail), for the audit log.
        #[arg(long)]
        by: String,
        #[arg(long)]
        org: Option<String>,
    },
    /// Agent releases the server offers its PCs (signed by the vendor).
    #[command(subcommand)]
    Release(releases_cli::ReleaseCommand),
    /// Revoke a device: it is refused from its next request on.
    RevokeDevice {
        #[arg(long)]
        device: i64,
        /// The admin who does it (e-mail), for the audit log; without it the change is
        /// recorded as made by the server CLI.
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        org: Option<String>,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("give the password on standard input, e.g. `read -rs PW; echo \"$PW\" | worktrace-server admin …`");
    }
    Ok(password)
}

async fn org_id(store: &Store, name: Option<&str>) -> anyhow::Result<i64> {
    if let Some(name) = name {
        return store
            .org_by_name(name)
            .await?
            .with_context(|| format!("there is no organisation named {name:?}"));
    }
    match store.list_orgs().await?.as_slice() {
        [(id, _)] => Ok(*id),
        [] => {
            bail!("there is no organisation yet; start with `worktrace-server admin create-admin`")
        }
        _ => bail!("the server holds several organisations; name one with --org"),
    }
}

async fn user_in(store: &Store, org: i64, email: &str) -> anyhow::Result<User> {
    let email = ops::normalize_email(email)?;
    Ok(store
        .user_by_email(&email)
        .await?
        .filter(|(u, _)| u.org_id == org)
        .with_context(|| format!("there is no user {email}"))?
        .0)
}

async fn team_named(store: &Store, org: i64, name: &str) -> anyhow::Result<Team> {
    store
        .list_teams(org)
        .await?
        .into_iter()
        .find(|t| t.name == name)
        .with_context(|| format!("there is no team named {name:?}"))
}

/// The active admin named by `--by`, who is recorded as doing the change.
async fn acting(store: &Store, org: i64, email: &str) -> anyhow::Result<User> {
    let admin = user_in(store, org, email).await?;
    Ok(ops::acting_admin(store.as_ref(), org, admin.id).await?)
}

/// Who the audit log names for a change: the admin of an optional `--by`, else the server CLI.
async fn actor(store: &Store, org: i64, by: Option<&str>) -> anyhow::Result<Actor> {
    Ok(match by {
        Some(email) => Actor::Admin(acting(store, org, email).await?.id),
        None => Actor::ServerCli,
    })
}

/// `2025-03-03 09:00 UTC` for a time in UTC milliseconds.
fn iso(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| at.to_string())
}

pub(crate) async fn admin(store: Store, cmd: AdminCommand, memory_kib: u32) -> anyhow::Result<()> {
    let now = now_ms();
    let s = store.as_ref();
    match cmd {
        AdminCommand::Release(cmd) => releases_cli::run(store, cmd).await?,
        AdminCommand::CreateAdmin { org, email, name } => {
            let password = read_password()?;
            let user =
                ops::create_admin(s, &org, &email, &name, &password, memory_kib, now).await?;
            println!(
                "created admin {} (user {}) in organisation {org:?}",
                user.email, user.id
            );
        }
        AdminCommand::AddUser {
            email,
            name,
            role,
            password_stdin,
            by,
            org,
        } => {
            let role = Role::parse(&role)
                .with_context(|| format!("unknown role {role:?}; use admin, lead or employee"))?;
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let org = org_id(&store, org.as_deref()).await?;
            let actor = actor(&store, org, by.as_deref()).await?;
            let user = ops::add_user(
                s,
                org,
                actor,
                &email,
                &name,
                role,
                password.as_deref(),
                memory_kib,
                now,
            )
            .await?;
            println!(
                "created {} {} (user {})",
                role.as_str(),
                user.email,
                user.id
            );
        }
        AdminCommand::AddTeam { name, by, org } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = actor(&store, org, by.as_deref()).await?;
            let team = ops::add_team(s, org, actor, &name, now).await?;
            println!("created team {:?} (team {})", team.name, team.id);
        }
        AdminCommand::AddMember {
            team,
            email,
            lead,
            by,
            org,
        } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = actor(&store, org, by.as_deref()).await?;
            let team = store
                .list_teams(org)
                .await?
                .into_iter()
                .find(|t| t.name == team)
                .with_context(|| format!("there is no team named {team:?}"))?;
            let email = ops::normalize_email(&email)?;
            let user = store
                .user_by_email(&email)
                .await?
                .filter(|(u, _)| u.org_id == org)
                .with_context(|| format!("there is no user {email}"))?
                .0;
            ops::set_membership(s, org, actor, team.id, user.id, lead, now).await?;
            let what = if lead { "lead" } else { "member" };
            println!("{} is now {what} of {:?}", user.email, team.name);
        }
        AdminCommand::EnrollmentToken {
            email,
            valid_hours,
            by,
        } => {
            let email = ops::normalize_email(&email)?;
            let (user, _) = store
                .user_by_email(&email)
                .await?
                .with_context(|| format!("there is no user {email}"))?;
            let actor = actor(&store, user.org_id, by.as_deref()).await?;
            let (token, _) =
                ops::create_enrollment_token(s, user.org_id, actor, user.id, valid_hours, now)
                    .await?;
            println!("{token}");
        }
        AdminCommand::FleetToken {
            label,
            valid_hours,
            max_uses,
            org,
            by,
        } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = actor(&store, org, by.as_deref()).await?;
            let (token, _) =
                ops::fleet::create_fleet_token(s, org, actor, &label, valid_hours, max_uses, now)
                    .await?;
            println!("{token}");
        }
        AdminCommand::FleetTokens { org } => {
            let org = org_id(&store, org.as_deref()).await?;
            for t in store.list_fleet_tokens(org).await? {
                let state = match t.revoked_at {
                    Some(at) => format!("revoked {}", iso(at)),
                    None if t.expires_at <= now => format!("expired {}", iso(t.expires_at)),
                    None if t.uses >= t.max_uses => "used up".to_owned(),
                    None => format!("valid until {}", iso(t.expires_at)),
                };
                println!(
                    "{}\t{}\t{} of {} PCs\t{state}",
                    t.id, t.label, t.uses, t.max_uses
                );
            }
        }
        AdminCommand::RevokeFleetToken { id, by, org } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = actor(&store, org, by.as_deref()).await?;
            ops::fleet::revoke_fleet_token(s, org, actor, id, now).await?;
            println!("fleet token {id} revoked");
        }
        AdminCommand::SetLogin { email, login, by } => {
            let email = ops::normalize_email(&email)?;
            let (user, _) = store
                .user_by_email(&email)
                .await?
                .with_context(|| format!("there is no user {email}"))?;
            let actor = actor(&store, user.org_id, by.as_deref()).await?;
            let login =
                ops::fleet::set_person_login(s, user.org_id, actor, user.id, &login, now).await?;
            println!("{email}: login {login}");
        }
        AdminCommand::Devices { org } => {
            let org = org_id(&store, org.as_deref()).await?;
            for d in store.list_devices(org).await? {
                println!(
                    "{}\tuser {}\t{}\t{}\t{}",
                    d.id,
                    d.user_id,
                    d.description,
                    if d.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    d.chain_flag
                        .as_deref()
                        .map_or("chain ok".to_owned(), |f| format!("CHAIN {f}"))
                );
                if let Some(detail) = &d.chain_detail {
                    println!("\t{detail}");
                }
                if let Some(reported) = &d.policy_reported {
                    println!("\tPOLICY differs: it reported applying policy {reported}");
                }
                if let Some(version) = &d.agent_version {
                    println!(
                        "\tagent {version} ({} {})",
                        d.agent_platform.as_deref().unwrap_or("?"),
                        d.agent_package.as_deref().unwrap_or("?")
                    );
                }
                if let Some(problem) = &d.update_problem {
                    println!("\tUPDATE failed: {problem}");
                }
                if d.dropped_items > 0 {
                    println!(
                        "\t{} items left out of its uploads, last {}",
                        d.dropped_items,
                        d.dropped_reason.as_deref().unwrap_or("?")
                    );
                }
            }
        }
        AdminCommand::DeactivateUser { email, by, org } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = acting(&store, org, &by).await?;
            let user = user_in(&store, org, &email).await?;
            ops::deactivate_user(s, org, Actor::Admin(actor.id), user.id, now).await?;
            println!(
                "{} deactivated: sessions ended, devices revoked",
                user.email
            );
        }
        AdminCommand::PasswordReset {
            email,
            by,
            valid_hours,
            base_url,
            org,
        } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = acting(&store, org, &by).await?;
            let user = user_in(&store, org, &email).await?;
            let (token, _) =
                ops::create_password_reset(s, org, actor.id, user.id, valid_hours, now).await?;
            let base = base_url.as_deref().unwrap_or("").trim_end_matches('/');
            println!("{base}/reset-password#{token}");
            eprintln!(
                "give this link to {} only; it works once, within {valid_hours} hours",
                user.email
            );
        }
        AdminCommand::RemoveMember {
            team,
            email,
            by,
            org,
        } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = acting(&store, org, &by).await?;
            let team = team_named(&store, org, &team).await?;
            let user = user_in(&store, org, &email).await?;
            ops::remove_membership(s, org, Actor::Admin(actor.id), team.id, user.id, now).await?;
            println!("{} is no longer in {:?}", user.email, team.name);
        }
        AdminCommand::DeleteTeam { name, by, org } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = acting(&store, org, &by).await?;
            let team = team_named(&store, org, &name).await?;
            ops::delete_team(s, org, Actor::Admin(actor.id), team.id, now).await?;
            println!("team {:?} deleted", team.name);
        }
        AdminCommand::RevokeDevice { device, by, org } => {
            let org = org_id(&store, org.as_deref()).await?;
            let actor = actor(&store, org, by.as_deref()).await?;
            ops::revoke_device(s, org, actor, device, now).await?;
            println!("device {device} revoked");
        }
    }
    Ok(())
}
