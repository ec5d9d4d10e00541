// The first-start screen: what is recorded and what leaves the PC. Shown once, remembered.
import { api } from "../api";
import { useT } from "../lang";

export function Consent(props: { onAccept: () => void }) {
  const t = useT();
  return (
    <div className="consent" data-testid="consent">
      <h1>{t("consentTitle")}</h1>
      <h3>{t("consentRecorded")}</h3>
      <p>{t("consentRecordedList")}</p>
      <h3>{t("consentLeaves")}</h3>
      <p>{t("consentLeavesList")}</p>
      <p>{t("consentControl")}</p>
      <button
        type="button"
        className="primary big"
        data-testid="consent-accept"
        onClick={() => api.acceptConsent().then(props.onAccept, props.onAccept)}
      >
        {t("consentAccept")}
      </button>
    </div>
  );
}
