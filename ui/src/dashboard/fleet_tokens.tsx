// Fleet tokens (Admin → Enrollment tokens): the one ENROLLMENT_TOKEN an installer carries for
// many PCs. Create one (shown once), see how many PCs each enrolled of its limit, revoke one.
// A PC enrolled with it becomes the person whose login (or e-mail name) is its account name.

import { useState } from "react";
import type { FleetToken } from "../bindings/server";
import { dateTime } from "../shared/format";
import { useLang, useT } from "./lang";
import { keys, useChange, useFleetTokens } from "./queries";
import { ActionForm, Card, Empty, ErrorBox, Loaded, NumberField, TokenOnce } from "./ui";

/** What a token can still do at `now`: "revoked", "expired", "usedUp" or "valid". */
export function tokenState(t: FleetToken, now: number): "revoked" | "expired" | "usedUp" | "valid" {
  if (t.revoked_at) return "revoked";
  if (t.expires_at <= now) return "expired";
  if (t.uses >= t.max_uses) return "usedUp";
  return "valid";
}

export function FleetTokensAdmin() {
  const t = useT();
  const { lang } = useLang();
  const load = useFleetTokens();
  const [label, setLabel] = useState("");
  const [hours, setHours] = useState(168);
  const [uses, setUses] = useState(1000);
  const create = useChange(
    (api, v: { label: string; hours: number; uses: number }) =>
      api.createFleetToken(v.label, v.hours, v.uses),
    [keys.fleetTokens, keys.audit],
  );
  const revocation = useChange(
    (api, id: number) => api.revokeFleetToken(id),
    [keys.fleetTokens, keys.audit],
  );
  const revoke = (token: FleetToken) => {
    if (window.confirm(t("revokeFleetConfirm", { label: token.label }))) {
      revocation.mutate(token.id);
    }
  };
  const now = Date.now();
  const made = create.data;
  return (
    <Card title={t("fleetTokens")}>
      <p className="muted">{t("fleetTokenHint")}</p>
      <ActionForm
        submit={t("createFleetToken")}
        action={() => create.mutateAsync({ label, hours, uses })}
      >
        <input
          aria-label={t("fleetLabel")}
          placeholder={t("fleetLabel")}
          required
          value={label}
          onChange={(e) => setLabel(e.target.value)}
        />
        <NumberField label={t("validHours")} min={1} max={8760} value={hours} onChange={setHours} />
        <NumberField label={t("maxPcs")} min={1} max={100000} value={uses} onChange={setUses} />
      </ActionForm>
      {made && <TokenOnce token={made} testId="fleet-token" />}
      {revocation.error && (
        <ErrorBox message={revocation.error.message} code={revocation.error.code} />
      )}
      <Loaded load={load}>
        {(tokens) =>
          tokens.length === 0 ? (
            <Empty title={t("noFleetTokens")} />
          ) : (
            <table className="table" data-testid="fleet-tokens">
              <thead>
                <tr>
                  <th>{t("fleetLabel")}</th>
                  <th>{t("pcs")}</th>
                  <th>{t("expires")}</th>
                  <th>{t("status")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {tokens.map((token) => {
                  const state = tokenState(token, now);
                  return (
                    <tr key={token.id}>
                      <td>{token.label}</td>
                      <td>{t("pcsOf", { uses: token.uses, max: token.max_uses })}</td>
                      <td>{dateTime(token.expires_at, lang)}</td>
                      <td>
                        <span className={state === "valid" ? "pill active" : "pill offline"}>
                          {t(
                            state === "valid"
                              ? "tokenValid"
                              : state === "revoked"
                                ? "revoked"
                                : state === "expired"
                                  ? "tokenExpired"
                                  : "tokenUsedUp",
                          )}
                        </span>
                      </td>
                      <td>
                        {state !== "revoked" && (
                          <button type="button" className="danger" onClick={() => revoke(token)}>
                            {t("revoke")}
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Card>
  );
}
