// Admin → Policy: the organisation's policy and each team's overrides, edited as JSON and
// checked here for shape before the server's validation answers.

import { useEffect, useState } from "react";
import { toAppError } from "../shared/error";
import { useT } from "./lang";
import { keys, useChange, useMemberships, usePolicy } from "./queries";
import { Card, ErrorBox, joined, Loaded } from "./ui";

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

export function PolicyAdmin() {
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
