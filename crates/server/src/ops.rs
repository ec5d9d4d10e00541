//! Organisation operations shared by the `admin` command line and the admin API: first admin,
//! users, teams, memberships, enrollment tokens, device revocation, policies.
//!
//! Each operation checks its input and that every id belongs to the caller's organisation; it
//! must never trust an id from outside the organisation.

mod devices;
pub mod fleet;
mod people;
mod policies;
pub mod risk;
mod tokens;
pub mod watch;

pub use devices::revoke_device;
pub use people::{
    acting_admin, add_team, add_user, check_password, create_admin, deactivate_user, delete_team,
    normalize_email, remove_membership, set_membership, team_in_org, user_in_org,
};
pub use policies::{
    allow_medium_of_alert, cached_policy_for_id, policy_for, policy_for_id, policy_from_layers,
    set_org_policy, set_team_policy, InForce, PolicyCache,
};
pub use tokens::{create_enrollment_token, create_password_reset, RESET_VALID_HOURS};
