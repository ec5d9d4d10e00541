// Admin section "Updates": the agent version each enrolled PC reported at its last update
// check, the release its policy would bring it to (who is behind), why its last update failed,
// and the releases the server holds. Releases are added on the server
// (`worktrace-server admin release add`); the policy's `update` section picks who gets what.

import type { DeviceVersion } from "../bindings/server";
import { bytes, count, dateTime } from "../shared/format";
import { useLang, useT } from "./lang";
import { useFleet, useUsers } from "./queries";
import { Card, Empty, joined, Loaded } from "./ui";

/** PCs per reported version, most first; PCs that never checked count under `null`. */
export function byVersion(devices: DeviceVersion[]): [string | null, number][] {
  const counts = new Map<string | null, number>();
  for (const d of devices) counts.set(d.version ?? null, (counts.get(d.version ?? null) ?? 0) + 1);
  return [...counts.entries()].sort(
    (a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])),
  );
}

export function FleetAdmin() {
  const t = useT();
  const { lang } = useLang();
  const load = joined(useFleet(), useUsers());
  return (
    <Loaded load={load}>
      {([fleet, users]) => (
        <>
          <Card title={t("fleetVersions")}>
            <p className="muted">{t("fleetHint")}</p>
            {fleet.devices.length === 0 ? (
              <Empty title={t("noDevices")} hint={t("noDevicesHint")} />
            ) : (
              <table className="table" data-testid="fleet-versions">
                <thead>
                  <tr>
                    <th>{t("agentVersion")}</th>
                    <th>{t("pcs")}</th>
                  </tr>
                </thead>
                <tbody>
                  {byVersion(fleet.devices).map(([version, n]) => (
                    <tr key={version ?? "none"}>
                      <td>{version ?? t("versionUnknown")}</td>
                      <td>{count(n, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
          {fleet.devices.length > 0 && (
            <Card title={t("adminDevices")}>
              <table className="table" data-testid="fleet-devices">
                <thead>
                  <tr>
                    <th>{t("device")}</th>
                    <th>{t("person")}</th>
                    <th>{t("agentVersion")}</th>
                    <th>{t("lastCheck")}</th>
                    <th>{t("status")}</th>
                  </tr>
                </thead>
                <tbody>
                  {fleet.devices.map((d) => (
                    <tr key={d.device_id}>
                      <td>{d.description}</td>
                      <td>
                        {users.find((u) => u.id === d.user_id)?.display_name ?? `#${d.user_id}`}
                      </td>
                      <td>{d.version ?? t("versionUnknown")}</td>
                      <td>{d.checked_at ? dateTime(d.checked_at, lang) : "—"}</td>
                      <td>
                        {d.target ? (
                          <span className="pill warn">{t("behind", { version: d.target })}</span>
                        ) : d.version ? (
                          <span className="pill active">{t("upToDate")}</span>
                        ) : null}
                        {d.problem && (
                          <div
                            className="muted"
                            title={d.problem_at ? dateTime(d.problem_at, lang) : ""}
                          >
                            {t("updateProblem", { problem: d.problem })}
                          </div>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          )}
          <Card title={t("releases")}>
            {fleet.releases.length === 0 ? (
              <Empty title={t("noReleases")} hint={t("noReleasesHint")} />
            ) : (
              <table className="table" data-testid="releases">
                <thead>
                  <tr>
                    <th>{t("agentVersion")}</th>
                    <th>{t("platform")}</th>
                    <th>{t("channel")}</th>
                    <th>{t("size")}</th>
                    <th>{t("added")}</th>
                  </tr>
                </thead>
                <tbody>
                  {fleet.releases.map((r) => (
                    <tr key={r.id}>
                      <td>{r.version}</td>
                      <td>
                        {r.platform} ({r.package})
                      </td>
                      <td>{r.channel}</td>
                      <td>{bytes(r.size, lang)}</td>
                      <td>{dateTime(r.added_at, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
        </>
      )}
    </Loaded>
  );
}
