// Admin → Devices and Enrollment tokens: enrolled PCs with their chain and policy warnings and
// revocation, and a person's one-time enrollment token (shown once).

import { useState } from "react";
import type { Device } from "../bindings/server";
import { dateTime } from "../shared/format";
import { useLang, useT } from "./lang";
import { useLastSeen } from "./overview";
import { keys, useChange, useDevices, useUsers } from "./queries";
import { ActionForm, Card, Empty, ErrorBox, joined, Loaded, NumberField, TokenOnce } from "./ui";

export function DevicesAdmin() {
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

export function TokensAdmin() {
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
