// Admin pages: the admin-only shell and its tabs. The sections live beside it: teams and
// people (admin_people), devices and enrollment tokens (admin_devices, fleet_tokens), agent
// updates (fleet), the policy (admin_policy) and the audit log (admin_audit). Every change
// shows the server's message where it was made and reads again what it changed (the audit log
// included: every admin change is in it, with the thing before and after).

import { AuditAdmin } from "./admin_audit";
import { DevicesAdmin, TokensAdmin } from "./admin_devices";
import { TeamsAdmin, UsersAdmin } from "./admin_people";
import { PolicyAdmin } from "./admin_policy";
import { FleetAdmin } from "./fleet";
import { FleetTokensAdmin } from "./fleet_tokens";
import type { Key } from "./i18n";
import { useT } from "./lang";
import { ADMIN_SECTIONS, type AdminSection } from "./route";
import { Link, useApp } from "./ui";

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
