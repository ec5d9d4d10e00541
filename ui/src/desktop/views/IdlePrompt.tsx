// The small always-on-top window that asks what an idle period was. It shows the oldest
// waiting period, counts down to the policy's default, and closes when nothing waits.

import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { PromptInfo, Status } from "../../bindings/desktop";
import type { IdleChoice } from "../../bindings/domain";
import { clock, shortDuration } from "../../shared/format";
import { api } from "../api";
import { useLang, useT } from "../lang";
import { useStatusAnswer } from "../queries";
import { choiceWord } from "./Company";

export function IdlePrompt(props: { status: Status | null; ownWindow: boolean }) {
  const t = useT();
  const { lang } = useLang();
  const [now, setNow] = useState(Date.now());
  const answered = useStatusAnswer();
  const decide = useMutation({
    mutationFn: (v: { idleStart: number; choice: IdleChoice }) => api.decide(v.idleStart, v.choice),
    onSuccess: async (s) => {
      answered(s);
      if (props.ownWindow && s.prompts.length === 0) await api.closeWindow();
    },
  });
  // The countdown's clock: a tick a second while the prompt is shown.
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  const prompt: PromptInfo | undefined = props.status?.prompts[0];
  if (!prompt) return <p className="muted prompt">{t("loading")}</p>;
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
          from: clock(prompt.idle_start, lang),
          to: clock(prompt.idle_end, lang),
          duration: shortDuration(prompt.idle_end - prompt.idle_start, lang),
        })}
      </p>
      <div className="choices">
        {prompt.choices.map((c) => (
          <button
            type="button"
            key={c}
            className={c === "keep" ? "primary" : ""}
            data-testid={`prompt-${c}`}
            disabled={decide.isPending}
            onClick={() => decide.mutate({ idleStart: prompt.idle_start, choice: c })}
          >
            {label[c]}
          </button>
        ))}
      </div>
      <p className="muted">
        {t("promptDefault", { secs: left, choice: choiceWord(t, prompt.default_choice) })}
      </p>
      {decide.error && (
        <p className="banner bad" data-code={decide.error.code}>
          {decide.error.message}
        </p>
      )}
    </div>
  );
}
