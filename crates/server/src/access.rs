//! Who may see whose data: admins their organisation, team leads the members of the teams they
//! lead, everyone their own data.
//!
//! Pure: decisions from already-loaded facts, no I/O. Callers answer every "no" about a
//! specific team or person as 404, so a denial never reveals that the thing exists.

use crate::model::{Membership, Role, Team, User};

/// The person asking, with the teams they lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user: User,
    /// Teams in which the viewer's membership is marked lead.
    pub led_teams: Vec<i64>,
}

impl Viewer {
    /// Builds a viewer from the person and their memberships.
    pub fn new(user: User, memberships: &[Membership]) -> Self {
        let led_teams = memberships
            .iter()
            .filter(|m| m.is_lead)
            .map(|m| m.team_id)
            .collect();
        Self { user, led_teams }
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// Team views need an admin or the lead of at least one team.
    pub fn may_use_dashboard(&self) -> bool {
        self.is_admin() || !self.led_teams.is_empty()
    }

    /// ```text
    /// admin of the team's org      → true
    /// lead of that very team       → true
    /// anyone else / other org      → false
    /// ```
    pub fn may_see_team(&self, team: &Team) -> bool {
        team.org_id == self.user.org_id && (self.is_admin() || self.led_teams.contains(&team.id))
    }

    /// Whether the viewer may read `subject`'s data; `subject_teams` are the subject's
    /// memberships.
    ///
    /// ```text
    /// self                                   → true
    /// admin, same org                        → true
    /// lead of a team the subject belongs to  → true
    /// otherwise (incl. other org)            → false
    /// ```
    pub fn may_see_person(&self, subject: &User, subject_teams: &[Membership]) -> bool {
        subject.org_id == self.user.org_id
            && (subject.id == self.user.id
                || self.is_admin()
                || subject_teams
                    .iter()
                    .any(|m| self.led_teams.contains(&m.team_id)))
    }

    /// Whether the viewer may mark `subject` as leaving, change or end their watch and read
    /// their departure report: an admin of their organisation or the lead of one of their
    /// teams, never the person themselves.
    ///
    /// ```text
    /// admin, same org, someone else          → true
    /// lead of a team the subject belongs to  → true
    /// self (even an admin), other org        → false
    /// ```
    pub fn may_watch(&self, subject: &User, subject_teams: &[Membership]) -> bool {
        subject.id != self.user.id && self.may_see_person(subject, subject_teams)
    }

    /// How the audit log names the viewer acting on a watch.
    pub fn actor(&self) -> crate::model::Actor {
        match self.is_admin() {
            true => crate::model::Actor::Admin(self.user.id),
            false => crate::model::Actor::Lead(self.user.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(id: i64, org: i64, role: Role) -> User {
        User {
            id,
            org_id: org,
            email: format!("u{id}@x"),
            display_name: format!("U{id}"),
            role,
            deactivated_at: None,
        }
    }

    fn member(team: i64, user: i64, lead: bool) -> Membership {
        Membership {
            team_id: team,
            user_id: user,
            is_lead: lead,
        }
    }

    #[test]
    fn leads_see_only_their_teams() {
        let lead = Viewer::new(
            user(1, 1, Role::Lead),
            &[member(10, 1, true), member(11, 1, false)],
        );
        assert!(
            lead.may_see_team(&Team {
                id: 10,
                org_id: 1,
                name: "A".into()
            }),
            "led team"
        );
        assert!(
            !lead.may_see_team(&Team {
                id: 11,
                org_id: 1,
                name: "B".into()
            }),
            "being a plain member of a team is not leading it"
        );
        assert!(lead.may_see_person(&user(2, 1, Role::Employee), &[member(10, 2, false)]));
        assert!(!lead.may_see_person(&user(3, 1, Role::Employee), &[member(11, 3, false)]));
        assert!(lead.may_watch(&user(2, 1, Role::Employee), &[member(10, 2, false)]));
        assert!(
            !lead.may_watch(&user(1, 1, Role::Lead), &[member(10, 1, true)]),
            "nobody watches themselves"
        );
        let admin = Viewer::new(user(5, 1, Role::Admin), &[]);
        assert!(admin.may_watch(&user(3, 1, Role::Employee), &[]));
        assert!(!admin.may_watch(&user(3, 2, Role::Employee), &[]));
    }

    proptest! {
        #[test]
        fn nobody_sees_across_organisations(
            viewer_org in 1i64..4, subject_org in 1i64..4, role in 0u8..3,
            teams in proptest::collection::vec((1i64..6, any::<bool>()), 0..5),
            subject_teams in proptest::collection::vec(1i64..6, 0..5),
        ) {
            let role = [Role::Admin, Role::Lead, Role::Employee][usize::from(role)];
            let memberships: Vec<_> = teams.iter().map(|(t, l)| member(*t, 1, *l)).collect();
            let viewer = Viewer::new(user(1, viewer_org, role), &memberships);
            let subject_ms: Vec<_> = subject_teams.iter().map(|t| member(*t, 2, false)).collect();
            let subject = user(2, subject_org, Role::Employee);
            let sees = viewer.may_see_person(&subject, &subject_ms);
            if viewer_org != subject_org {
                prop_assert!(!sees, "another organisation's people are never visible");
            } else if role != Role::Admin {
                let shares_led_team = subject_teams.iter().any(|t| viewer.led_teams.contains(t));
                prop_assert_eq!(sees, shares_led_team, "a non-admin sees exactly led members");
            }
        }
    }
}
