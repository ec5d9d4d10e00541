// Admin pages: teams and memberships, people, devices (with revoke and chain warnings),
// enrollment tokens (shown once), the policy (organisation and per-team overrides, edited as
// JSON with the server's validation message shown) and the audit log with CSV export.

import { type FormEvent, type ReactNode, useEffect, useState } from "react";
import {
  type AuditRow,
  type Device,
  failureOf,
  type Role,
  type TeamWithMembers,
  type TokenResponse,
  type User,
} from "./api";
import { ago, dateTime } from "./format";
import { ADMIN_SECTIONS, type AdminSection } from "./route";
import type { Key } from "./strings";
import { Card, Empty, ErrorBox, Link, Loaded, useApp, useLoad } from "./ui";

const SECTION_KEYS: Record<AdminSection, Key> = {
  teams: "adminTeams",
  users: "adminUsers",
  devices: "adminDevices",
  tokens: "adminTokens",
  policy: "adminPolicy",
  audit: "adminAudit",
};

export function Admin({ section }: { section: AdminSection }) {
  const { t, me } = useApp();
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
      {section === "tokens" && <TokensAdmin />}
      {section === "policy" && <PolicyAdmin />}
      {section === "audit" && <AuditAdmin />}
    </div>
  );
}

/** A form that runs `action`, shows the server's message on failure, and a note on success. */
function ActionForm({
  action,
  children,
  submit,
  done,
}: {
  action: () => Promise<void>;
  children: ReactNode;
  submit: string;
  done?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState(false);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setOk(false);
    try {
      await action();
      setOk(true);
    } catch (err) {
      setError(failureOf(err).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="inline-form" onSubmit={onSubmit}>
      {children}
      <button type="submit" className="primary" disabled={busy}>
        {submit}
      </button>
      {error && <ErrorBox message={error} />}
      {ok && done && <span className="ok-note">{done}</span>}
    </form>
  );
}

function TeamsAdmin() {
  const { api, t } = useApp();
  const [load, reload] = useLoad(() => Promise.all([api.memberships(), api.users()]), []);
  const [name, setName] = useState("");
  return (
    <>
      <Card title={t("newTeam")}>
        <ActionForm
          submit={t("create")}
          done={t("saved")}
          action={async () => {
            await api.createTeam(name);
            setName("");
            reload();
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
                <TeamCard key={team.id} team={team} users={users} onChange={reload} />
              ))}
            </div>
          )
        }
      </Loaded>
    </>
  );
}

function TeamCard({
  team,
  users,
  onChange,
}: {
  team: TeamWithMembers;
  users: User[];
  onChange: () => void;
}) {
  const { api, t } = useApp();
  const [user, setUser] = useState("");
  const [lead, setLead] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const outside = users.filter(
    (u) => !u.deactivated_at && !team.members.some((m) => m.user_id === u.id),
  );
  const remove = async (m: TeamWithMembers["members"][number]) => {
    if (!window.confirm(t("removeConfirm", { person: m.display_name, team: team.name }))) return;
    setError(null);
    try {
      await api.removeMembership(team.id, m.user_id);
      onChange();
    } catch (e) {
      setError(failureOf(e).message);
    }
  };
  return (
    <Card title={team.name}>
      {error && <ErrorBox message={error} />}
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
            await api.setMembership(team.id, Number(user), lead);
            setUser("");
            onChange();
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

function roleLabel(t: (k: Key) => string, r: Role): string {
  return r === "admin" ? t("roleAdmin") : r === "lead" ? t("roleLead") : t("roleEmployee");
}

function UsersAdmin() {
  const { api, t, me } = useApp();
  const [load, reload] = useLoad(() => api.users(), []);
  const [error, setError] = useState<string | null>(null);
  const deactivate = async (u: User) => {
    if (!window.confirm(t("deactivateConfirm", { person: u.display_name }))) return;
    setError(null);
    try {
      await api.deactivateUser(u.id);
      reload();
    } catch (e) {
      setError(failureOf(e).message);
    }
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
            await api.createUser({
              email: form.email,
              display_name: form.display_name,
              role: form.role,
              ...(form.password ? { password: form.password } : {}),
            });
            setForm({ email: "", display_name: "", role: "employee", password: "" });
            reload();
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
        {error && <ErrorBox message={error} />}
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
  const { api, t, lang } = useApp();
  const [load, reload] = useLoad(() => Promise.all([api.devices(), api.users()]), []);
  const [error, setError] = useState<string | null>(null);
  const revoke = async (d: Device) => {
    if (!window.confirm(t("revokeConfirm", { device: d.description }))) return;
    setError(null);
    try {
      await api.revokeDevice(d.id);
      reload();
    } catch (e) {
      setError(failureOf(e).message);
    }
  };
  const now = Date.now();
  return (
    <Card title={t("adminDevices")}>
      {error && <ErrorBox message={error} />}
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
                    <td>{ago(d.last_seen_at, now, lang)}</td>
                    <td>
                      {d.revoked_at ? (
                        <span className="pill offline">{t("revoked")}</span>
                      ) : d.chain_flag ? (
                        <span className="pill warn" title={t("chainFlagHint")}>
                          {t("chainFlag", { flag: d.chain_flag })}
                        </span>
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
  const { api, t, lang } = useApp();
  const [load] = useLoad(() => api.users(), []);
  const [user, setUser] = useState("");
  const [hours, setHours] = useState(72);
  const [token, setToken] = useState<TokenResponse | null>(null);
  return (
    <Card title={t("newToken")}>
      <p className="muted">{t("tokenHint")}</p>
      <Loaded load={load}>
        {(users) => (
          <ActionForm
            submit={t("createToken")}
            action={async () => {
              setToken(await api.createToken(Number(user), hours));
            }}
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
            <label className="check">
              {t("validHours")}
              <input
                type="number"
                min={1}
                max={8760}
                value={hours}
                onChange={(e) => setHours(Number(e.target.value))}
              />
            </label>
          </ActionForm>
        )}
      </Loaded>
      {token && (
        <div className="token-box" data-testid="token">
          <p>{t("tokenOnce", { when: dateTime(token.expires_at, lang) })}</p>
          <code>{token.token}</code>
        </div>
      )}
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
  const { api, t } = useApp();
  const [scope, setScope] = useState<"org" | number>("org");
  const [load, reload] = useLoad(() => Promise.all([api.policy(), api.memberships()]), []);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (load.state !== "ready") return;
    const [org, teams] = load.data;
    const value =
      scope === "org" ? org : (teams.find((x) => x.id === scope)?.policy_override ?? {});
    setText(JSON.stringify(value, null, 2));
    setError(null);
    setSaved(false);
  }, [load, scope]);

  const save = async () => {
    const parsed = parsePolicyText(text);
    if (!parsed.ok) {
      setError(
        parsed.error === "not_object"
          ? t("policyNotObject")
          : t("policyBadJson", { reason: parsed.error }),
      );
      return;
    }
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      if (scope === "org") await api.putPolicy(parsed.value);
      else await api.putTeamPolicy(scope, parsed.value);
      setSaved(true);
      reload();
    } catch (e) {
      setError(failureOf(e).message);
    } finally {
      setBusy(false);
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
              <button type="button" className="primary" disabled={busy} onClick={save}>
                {t("save")}
              </button>
              {saved && <span className="ok-note">{t("saved")}</span>}
            </div>
            {error && <ErrorBox message={error} />}
          </div>
        )}
      </Loaded>
    </Card>
  );
}

function AuditAdmin() {
  const { api, t, lang } = useApp();
  const [load] = useLoad(() => api.audit(100_000), []);
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
                      <td>{r.actor_email}</td>
                      <td>{r.subject_email ?? "—"}</td>
                      <td>
                        <code>{r.action}</code>
                      </td>
                      <td className="muted">{r.detail}</td>
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
