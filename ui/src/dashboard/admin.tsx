// Admin pages: teams and memberships, people, devices (with revoke and chain warnings),
// enrollment tokens (shown once), the policy (organisation and per-team overrides, edited as
// JSON with the server's validation message shown) and the audit log with CSV export. Every
// change shows the server's message where it was made and reads again what it changed (the
// audit log included: every admin change is in it, with the thing before and after).

import { useEffect, useState } from "react";
import type {
  AuditRow,
  Device,
  NewUserRequest,
  Role,
  TeamMember,
  TeamWithMembers,
  User,
} from "../bindings/server";
import { toAppError } from "../shared/error";
import { dateTime } from "../shared/format";
import { FleetAdmin } from "./fleet";
import { FleetTokensAdmin } from "./fleet_tokens";
import type { Key } from "./i18n";
import { type Translate, useLang, useT } from "./lang";
import { useLastSeen } from "./overview";
import {
  keys,
  useAudit,
  useChange,
  useDevices,
  useMemberships,
  usePolicy,
  useUsers,
} from "./queries";
import { ADMIN_SECTIONS, type AdminSection } from "./route";
import {
  ActionForm,
  Card,
  Empty,
  ErrorBox,
  joined,
  Link,
  Loaded,
  NumberField,
  TokenOnce,
  useApp,
} from "./ui";

const SECTION_KEYS: Record<AdminSection, Key> = {
  teams: "adminTeams",
  users: "adminUsers",
  devices: "adminDevices",
  updates: "adminUpdates",
  tokens: "adminTokens",
  policy: "adminPolicy",
  audit: "adminAudit",
};

export function Admin({ section }: { section: AdminSection }) {
  const t = useT();
  const { me } = useApp();
  if (me.user.role !== "admin") {
    return (
      <div className="empty not-found" data-testid="not-found">
        <h2>{t("forbiddenTitle")}</h2>
        <p>{t("adminOnly")}</p>
      </div>
    );
  }
  return (
    <div className="stack">
      <div className="page-head">
        <h1>{t("navAdmin")}</h1>
      </div>
      <nav className="tabs" aria-label={t("navAdmin")}>
        {ADMIN_SECTIONS.map((s) => (
          <Link key={s} href={`/admin/${s}`} className={s === section ? "active" : ""}>
            {t(SECTION_KEYS[s])}
          </Link>
        ))}
      </nav>
      {section === "teams" && <TeamsAdmin />}
      {section === "users" && <UsersAdmin />}
      {section === "devices" && <DevicesAdmin />}
      {section === "updates" && <FleetAdmin />}
      {section === "tokens" && (
        <>
          <TokensAdmin />
          <FleetTokensAdmin />
        </>
      )}
      {section === "policy" && <PolicyAdmin />}
      {section === "audit" && <AuditAdmin />}
    </div>
  );
}

function TeamsAdmin() {
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

/** One changed key of an admin change, as the audit view shows it. */
export type ChangedKey = { key: string; from: string; to: string };

/** How a value before or after a change reads: text as it is, nothing as "—", else JSON. */
function shown(v: unknown): string {
  if (v === null || v === undefined) return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * The changed keys of an audit entry's diff, in key order.
 *
 * `{"upload.paths": [false, true], "role": [null, "lead"]}`
 *   → `[{key: "role", from: "—", to: "lead"}, {key: "upload.paths", from: "false", to: "true"}]`
 */
export function changedKeys(diff: AuditRow["diff"]): ChangedKey[] {
  if (!diff) return [];
  return Object.keys(diff)
    .sort()
    .map((key) => {
      const pair = diff[key];
      const [from, to] = Array.isArray(pair) ? pair : [undefined, undefined];
      return { key, from: shown(from), to: shown(to) };
    });
}

/** An admin change's diff, and the whole thing before and after on request. */
function AuditChange({ row }: { row: AuditRow }) {
  const t = useT();
  const keys = changedKeys(row.diff);
  if (!row.target_kind) return null;
  return (
    <>
      {keys.length > 0 && (
        <ul className="audit-diff" data-testid="audit-diff">
          {keys.map((k) => (
            <li key={k.key}>
              <code>{k.key}</code>: {k.from} → {k.to}
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>{t("beforeAfter")}</summary>
        <div className="audit-states">
          <div>
            <strong>{t("before")}</strong>
            <pre data-testid="audit-before">
              {row.before ? JSON.stringify(row.before, null, 2) : "—"}
            </pre>
          </div>
          <div>
            <strong>{t("after")}</strong>
            <pre data-testid="audit-after">
              {row.after ? JSON.stringify(row.after, null, 2) : "—"}
            </pre>
          </div>
        </div>
      </details>
    </>
  );
}

function roleLabel(t: Translate, r: Role): string {
  return r === "admin" ? t("roleAdmin") : r === "lead" ? t("roleLead") : t("roleEmployee");
}

function UsersAdmin() {
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

function DevicesAdmin() {
  const t = useT();
  const { lang } = useLang();
  const lastSeen = useLastSeen();
  const load = joined(useDevices(), useUsers());
  const revocation = useChange(
    (api, d: Device) => api.revokeDevice(d.id),
    [keys.devices, keys.audit],
  );
  const revoke = (d: Device) => {
    if (window.confirm(t("revokeConfirm", { device: d.description }))) revocation.mutate(d);
  };
  const now = Date.now();
  return (
    <Card title={t("adminDevices")}>
      {revocation.error && (
        <ErrorBox message={revocation.error.message} code={revocation.error.code} />
      )}
      <Loaded load={load}>
        {([devices, users]) =>
          devices.length === 0 ? (
            <Empty title={t("noDevices")} hint={t("noDevicesHint")} />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>{t("device")}</th>
                  <th>{t("person")}</th>
                  <th>{t("enrolled")}</th>
                  <th>{t("lastSeen")}</th>
                  <th>{t("status")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {devices.map((d) => (
                  <tr key={d.id}>
                    <td>{d.description}</td>
                    <td>
                      {users.find((u) => u.id === d.user_id)?.display_name ?? `#${d.user_id}`}
                    </td>
                    <td>{dateTime(d.created_at, lang)}</td>
                    <td>{lastSeen(d.last_seen_at, now)}</td>
                    <td>
                      {d.revoked_at ? (
                        <span className="pill offline">{t("revoked")}</span>
                      ) : d.chain_flag || d.policy_flag_at ? (
                        <>
                          {d.chain_flag && (
                            <span className="pill warn" title={t("chainFlagHint")}>
                              {t("chainFlag", { flag: d.chain_flag })}
                            </span>
                          )}
                          {d.policy_flag_at && (
                            <span className="pill warn" title={t("policyFlagHint")}>
                              {t("policyFlag")}
                            </span>
                          )}
                          {d.chain_detail && <div className="muted">{d.chain_detail}</div>}
                        </>
                      ) : (
                        <span className="pill active">{t("ok")}</span>
                      )}
                    </td>
                    <td>
                      {!d.revoked_at && (
                        <button type="button" className="danger" onClick={() => revoke(d)}>
                          {t("revoke")}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Card>
  );
}

function TokensAdmin() {
  const t = useT();
  const load = useUsers();
  const [user, setUser] = useState("");
  const [hours, setHours] = useState(72);
  // The token is shown once, from the answer; it is never read again.
  const create = useChange(
    (api, v: { user: number; hours: number }) => api.createToken(v.user, v.hours),
    [keys.audit],
  );
  const token = create.data;
  return (
    <Card title={t("newToken")}>
      <p className="muted">{t("tokenHint")}</p>
      <Loaded load={load}>
        {(users) => (
          <ActionForm
            submit={t("createToken")}
            action={() => create.mutateAsync({ user: Number(user), hours })}
          >
            <select
              aria-label={t("person")}
              required
              value={user}
              onChange={(e) => setUser(e.target.value)}
            >
              <option value="">{t("choosePerson")}</option>
              {users
                .filter((u) => !u.deactivated_at)
                .map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.display_name} ({u.email})
                  </option>
                ))}
            </select>
            <NumberField
              label={t("validHours")}
              min={1}
              max={8760}
              value={hours}
              onChange={setHours}
            />
          </ActionForm>
        )}
      </Loaded>
      {token && <TokenOnce token={token} testId="token" />}
    </Card>
  );
}

/** Parses the editor's text: "{…}" → the object; otherwise the reason, to show. */
export function parsePolicyText(
  text: string,
): { ok: true; value: object } | { ok: false; error: string } {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      return { ok: false, error: "not_object" };
    }
    return { ok: true, value: v };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

function PolicyAdmin() {
  const t = useT();
  const [scope, setScope] = useState<"org" | number>("org");
  const load = joined(usePolicy(), useMemberships());
  const [text, setText] = useState("");
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);
  const [saved, setSaved] = useState(false);
  const put = useChange(
    (api, v: { scope: "org" | number; policy: object }) =>
      v.scope === "org" ? api.putPolicy(v.policy) : api.putTeamPolicy(v.scope, v.policy),
    [keys.policy, keys.memberships, keys.audit],
  );

  // The editor starts from the stored policy of the chosen scope, and again after a save.
  const [org, teams] = load.status === "success" ? load.data : [undefined, undefined];
  useEffect(() => {
    if (org === undefined || teams === undefined) return;
    const value =
      scope === "org" ? org : (teams.find((x) => x.id === scope)?.policy_override ?? {});
    setText(JSON.stringify(value, null, 2));
    setError(null);
    setSaved(false);
  }, [org, teams, scope]);

  const save = async () => {
    const parsed = parsePolicyText(text);
    if (!parsed.ok) {
      setError({
        message:
          parsed.error === "not_object"
            ? t("policyNotObject")
            : t("policyBadJson", { reason: parsed.error }),
      });
      return;
    }
    setError(null);
    setSaved(false);
    try {
      await put.mutateAsync({ scope, policy: parsed.value });
      setSaved(true);
    } catch (e) {
      setError(toAppError(e));
    }
  };

  return (
    <Card title={t("adminPolicy")}>
      <p className="muted">{t("policyHint")}</p>
      <Loaded load={load}>
        {([, teams]) => (
          <div className="stack">
            <select
              aria-label={t("policyScope")}
              value={String(scope)}
              onChange={(e) => setScope(e.target.value === "org" ? "org" : Number(e.target.value))}
            >
              <option value="org">{t("policyOrg")}</option>
              {teams.map((team) => (
                <option key={team.id} value={team.id}>
                  {t("policyTeam", { team: team.name })}
                </option>
              ))}
            </select>
            <textarea
              className="code"
              spellCheck={false}
              rows={18}
              aria-label={t("adminPolicy")}
              value={text}
              onChange={(e) => {
                setText(e.target.value);
                setSaved(false);
              }}
            />
            <div className="row">
              <button type="button" className="primary" disabled={put.isPending} onClick={save}>
                {t("save")}
              </button>
              {saved && <span className="ok-note">{t("saved")}</span>}
            </div>
            {error && <ErrorBox message={error.message} code={error.code} />}
          </div>
        )}
      </Loaded>
    </Card>
  );
}

function AuditAdmin() {
  const t = useT();
  const { lang } = useLang();
  const load = useAudit();
  return (
    <Card
      title={t("adminAudit")}
      actions={
        <a className="button-link" href="/api/admin/audit.csv" download data-testid="audit-csv">
          {t("exportCsv")}
        </a>
      }
    >
      <Loaded load={load}>
        {(rows: AuditRow[]) =>
          rows.length === 0 ? (
            <Empty title={t("noAudit")} />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>{t("when")}</th>
                  <th>{t("who")}</th>
                  <th>{t("whose")}</th>
                  <th>{t("what")}</th>
                  <th>{t("target")}</th>
                  <th>{t("detail")}</th>
                </tr>
              </thead>
              <tbody>
                {[...rows]
                  .reverse()
                  .slice(0, 500)
                  .map((r) => (
                    <tr key={r.id}>
                      <td>{dateTime(r.at, lang)}</td>
                      <td>{r.actor}</td>
                      <td>{r.subject_email ?? "—"}</td>
                      <td>
                        <code>{r.action}</code>
                      </td>
                      <td>{r.target_name ?? "—"}</td>
                      <td className="muted">
                        {r.detail}
                        <AuditChange row={r} />
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Card>
  );
}
