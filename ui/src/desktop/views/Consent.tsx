// The first-start screen: what is recorded and what leaves the PC. Shown until accepted; the
// acceptance is remembered by the Rust side, and a failure to remember it is shown here.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { SettingsView } from "../../bindings/desktop";
import { api } from "../api";
import { useT } from "../lang";
import { keys } from "../queries";

export function Consent() {
  const t = useT();
  const client = useQueryClient();
  const accept = useMutation({
    mutationFn: api.acceptConsent,
    onSuccess: () => {
      client.setQueryData<SettingsView>(keys.settings, (v) =>
        v ? { ...v, prefs: { ...v.prefs, consent_given: true } } : v,
      );
      client.invalidateQueries({ queryKey: keys.settings });
    },
  });
  return (
    <div className="consent" data-testid="consent">
      <h1>{t("consentTitle")}</h1>
      <h3>{t("consentRecorded")}</h3>
      <p>{t("consentRecordedList")}</p>
      <h3>{t("consentLeaves")}</h3>
      <p>{t("consentLeavesList")}</p>
      <p>{t("consentControl")}</p>
      {accept.error && (
        <p className="banner bad" data-code={accept.error.code}>
          {accept.error.message}
        </p>
      )}
      <button
        type="button"
        className="primary big"
        data-testid="consent-accept"
        disabled={accept.isPending}
        onClick={() => accept.mutate()}
      >
        {t("consentAccept")}
      </button>
    </div>
  );
}
