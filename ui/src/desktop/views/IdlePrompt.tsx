// The small always-on-top window that asks what an idle period was. It shows the oldest
// waiting period, counts down to the policy's default, and closes when nothing waits.

import { useEffect, useState } from "react";
import type { PromptInfo, Status } from "../../bindings/desktop";
import type { IdleChoice } from "../../bindings/domain";
import { type AppError, toAppError } from "../../shared/error";
import { api } from "../api";
import { clock, duration } from "../format";
import { useT } from "../lang";
import { choiceWord } from "./Company";

export function IdlePrompt(props: { status: Status | null; ownWindow: boolean }) {
  const t = useT();
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  const prompt: PromptInfo | undefined = props.status?.prompts[0];
  if (!prompt) return <p className="muted prompt">{t("loading")}</p>;
  const answer = async (choice: IdleChoice) => {
    setBusy(true);
    try {
      const s = await api.decide(prompt.idle_start, choice);
      if (props.ownWindow && s.prompts.length === 0) await api.closeWindow();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };
  const left = Math.max(0, Math.round((prompt.deadline - now) / 1000));
  const label: Record<IdleChoice, string> = {
    keep: t("promptKeep"),
    meeting: t("promptMeeting"),
    break: t("promptBreak"),
    discard: t("promptDiscard"),
  };
  return (
    <div className="prompt" data-testid="idle-prompt">
      <h2>{t("promptTitle")}</h2>
      <p>
        {t("promptText", {
          from: clock(prompt.idle_start),
          to: clock(prompt.idle_end),
          duration: duration(prompt.idle_end - prompt.idle_start),
        })}
      </p>
      <div className="choices">
        {prompt.choices.map((c) => (
          <button
            type="button"
            key={c}
            className={c === "keep" ? "primary" : ""}
            data-testid={`prompt-${c}`}
            disabled={busy}
            onClick={() => answer(c)}
          >
            {label[c]}
          </button>
        ))}
      </div>
      <p className="muted">
        {t("promptDefault", { secs: left, choice: choiceWord(t, prompt.default_choice) })}
      </p>
      {error && <p className="banner bad">{error.message}</p>}
    </div>
  );
}
