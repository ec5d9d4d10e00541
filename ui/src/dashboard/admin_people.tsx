// Admin → Teams and People: teams with their members and leads, people with their roles,
// one-time password reset links and deactivation.

import { useState } from "react";
import type { NewUserRequest, Role, TeamMember, TeamWithMembers, User } from "../bindings/server";
import { dateTime } from "../shared/format";
import { type Translate, useLang, useT } from "./lang";
import { keys, useChange, useMemberships, useUsers } from "./queries";
import { ActionForm, Card, Empty, ErrorBox, joined, Loaded, useApp } from "./ui";

export function TeamsAdmin() {
  const t = useT();
  const load = joined(useMemberships(), useUsers());
  const create = useChange(
    (api, name: string) => api.createTeam(name),
    [keys.memberships, keys.audit],
  );
  const [name, setName] = useState("");
  return (
    <>
      <Card title={t("newTeam")}>
        <ActionForm
          submit={t("create")}
          done={t("saved")}
          action={async () => {
            await create.mutateAsync(name);
            setName("");
          }}
        >
          <input
            aria-label={t("teamName")}
            placeholder={t("teamName")}
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </ActionForm>
      </Card>
      <Loaded load={load}>
        {([teams, users]) =>
          teams.length === 0 ? (
            <Card>
              <Empty title={t("noTeams")} hint={t("noTeamsAdminHint")} />
            </Card>
          ) : (
            <div className="grid-2">
              {teams.map((team) => (
                <TeamCard key={team.id} team={team} users={users} />
              ))}
            </div>
          )
        }
      </Loaded>
    </>
  );
}

function TeamCard({ team, users }: { team: TeamWithMembers; users: User[] }) {
  const t = useT();
  const [user, setUser] = useState("");
  const [lead, setLead] = useState(false);
  const outside = users.filter(
    (u) => !u.deactivated_at && !team.members.some((m) => m.user_id === u.id),
  );
  // Memberships decide who leads which team: the team pages read them too.
  const touched = [keys.memberships, keys.teams, keys.audit];
  const removal = useChange(
    (api, m: TeamMember) => api.removeMembership(team.id, m.user_id),
    touched,
  );
  const add = useChange(
    (api, v: { user: number; lead: boolean }) => api.setMembership(team.id, v.user, v.lead),
    touched,
  );
  const remove = (m: TeamMember) => {
    if (window.confirm(t("removeConfirm", { person: m.display_name, team: team.name })))
      removal.mutate(m);
  };
  return (
    <Card title={team.name}>
      {removal.error && <ErrorBox message={removal.error.message} code={removal.error.code} />}
      {team.members.length === 0 ? (
        <Empty title={t("noMembers")} />
      ) : (
        <ul className="list">
          {team.members.map((m) => (
            <li key={m.user_id}>
              {m.display_name} <span className="muted">{m.email}</span>
              {m.lead && <span className="pill active">{t("lead")}</span>}
              <span className="spacer" />
              <button type="button" className="ghost danger" onClick={() => remove(m)}>
                {t("removeFromTeam")}
              </button>
            </li>
          ))}
        </ul>
      )}
      {outside.length > 0 && (
        <ActionForm
          submit={t("addToTeam")}
          action={async () => {
            await add.mutateAsync({ user: Number(user), lead });
            setUser("");
          }}
        >
          <select
            aria-label={t("person")}
            required
            value={user}
            onChange={(e) => setUser(e.target.value)}
          >
            <option value="">{t("choosePerson")}</option>
            {outside.map((u) => (
              <option key={u.id} value={u.id}>
                {u.display_name}
              </option>
            ))}
          </select>
          <label className="check">
            <input type="checkbox" checked={lead} onChange={(e) => setLead(e.target.checked)} />
            {t("asLead")}
          </label>
        </ActionForm>
      )}
    </Card>
  );
}

function roleLabel(t: Translate, r: Role): string {
  return r === "admin" ? t("roleAdmin") : r === "lead" ? t("roleLead") : t("roleEmployee");
}

export function UsersAdmin() {
  const t = useT();
  const { lang } = useLang();
  const { me } = useApp();
  const load = useUsers();
  // A deactivated person's devices are revoked with them.
  const deactivation = useChange(
    (api, u: User) => api.deactivateUser(u.id),
    [keys.users, keys.devices, keys.memberships, keys.audit],
  );
  const create = useChange((api, u: NewUserRequest) => api.createUser(u), [keys.users, keys.audit]);
  // The link is shown once, here: only its hash is kept on the server.
  const resetLink = useChange(
    async (api, u: User) => ({ user: u, reset: await api.createPasswordReset(u.id) }),
    [keys.audit],
  );
  const deactivate = (u: User) => {
    if (window.confirm(t("deactivateConfirm", { person: u.display_name }))) deactivation.mutate(u);
  };
  const [form, setForm] = useState({
    email: "",
    display_name: "",
    role: "employee" as Role,
    password: "",
  });
  return (
    <>
      <Card title={t("newPerson")}>
        <ActionForm
          submit={t("create")}
          done={t("saved")}
          action={async () => {
            await create.mutateAsync({
              email: form.email,
              display_name: form.display_name,
              role: form.role,
              ...(form.password ? { password: form.password } : {}),
            });
            setForm({ email: "", display_name: "", role: "employee", password: "" });
          }}
        >
          <input
            aria-label={t("name")}
            placeholder={t("name")}
            required
            value={form.display_name}
            onChange={(e) => setForm({ ...form, display_name: e.target.value })}
          />
          <input
            aria-label={t("email")}
            placeholder={t("email")}
            type="email"
            required
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
          />
          <select
            aria-label={t("role")}
            value={form.role}
            onChange={(e) => setForm({ ...form, role: e.target.value as Role })}
          >
            {(["employee", "lead", "admin"] as const).map((r) => (
              <option key={r} value={r}>
                {roleLabel(t, r)}
              </option>
            ))}
          </select>
          <input
            aria-label={t("passwordOptional")}
            placeholder={t("passwordOptional")}
            type="password"
            autoComplete="new-password"
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </ActionForm>
      </Card>
      <Card title={t("adminUsers")}>
        {deactivation.error && (
          <ErrorBox message={deactivation.error.message} code={deactivation.error.code} />
        )}
        {resetLink.error && (
          <ErrorBox message={resetLink.error.message} code={resetLink.error.code} />
        )}
        {resetLink.data && (
          <p data-testid="reset-link">
            {t("resetLinkFor", {
              person: resetLink.data.user.display_name,
              until: dateTime(resetLink.data.reset.expires_at, lang),
            })}{" "}
            <code className="reset-link">{window.location.origin + resetLink.data.reset.path}</code>
          </p>
        )}
        <Loaded load={load}>
          {(users) => (
            <table className="table">
              <thead>
                <tr>
                  <th>{t("name")}</th>
                  <th>{t("email")}</th>
                  <th>{t("role")}</th>
                  <th>{t("status")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.id}>
                    <td>{u.display_name}</td>
                    <td>{u.email}</td>
                    <td>{roleLabel(t, u.role)}</td>
                    <td>
                      {u.deactivated_at ? (
                        <span className="pill offline">{t("deactivated")}</span>
                      ) : (
                        <span className="pill active">{t("activeAccount")}</span>
                      )}
                    </td>
                    <td>
                      {!u.deactivated_at && (
                        <button
                          type="button"
                          className="ghost"
                          disabled={resetLink.isPending}
                          onClick={() => resetLink.mutate(u)}
                        >
                          {t("resetLink")}
                        </button>
                      )}
                      {!u.deactivated_at && u.id !== me.user.id && (
                        <button type="button" className="danger" onClick={() => deactivate(u)}>
                          {t("deactivate")}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
      </Card>
    </>
  );
}
