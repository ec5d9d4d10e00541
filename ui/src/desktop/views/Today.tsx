// Today: the big clock in/out control, what is happening now, and today's period view.

import { useMutation } from "@tanstack/react-query";
import type { Status } from "../../bindings/desktop";
import { clock, shortDuration } from "../../shared/format";
import { api } from "../api";
import { useLang, useT } from "../lang";
import { Period } from "../Period";
import { useStatusAnswer, useToday } from "../queries";
import { IdlePrompt } from "./IdlePrompt";

export function Today(props: { status: Status | null }) {
  const t = useT();
  const { lang } = useLang();
  // Refreshed every few seconds and on every status change (see queries), so live time moves.
  const today = useToday();
  const view = today.data;
  const now = today.dataUpdatedAt || Date.now();
  const answered = useStatusAnswer();
  const command = useMutation({
    mutationFn: (request: () => Promise<Status>) => request(),
    onSuccess: answered,
  });
  const busy = command.isPending;
  const error = command.error ?? today.error;
  const s = props.status;
  const clockedIn = s?.clocked_in_since != null;
  const paused = s?.paused_since != null;
  const act = (request: () => Promise<Status>) => command.mutate(request);
  const toggle = () => act(clockedIn ? api.clockOut : api.clockIn);
  let current = t("noWindow");
  if (s?.paused_since != null)
    current =
      s.paused_until != null
        ? t("pausedUntil", { time: clock(s.paused_until, lang) })
        : t("pausedNow", { time: clock(s.paused_since, lang) });
  else if (s?.locked) current = t("locked");
  else if (s?.idle_since != null) current = t("idleNow", { time: clock(s.idle_since, lang) });
  else if (s?.app) current = `${s.app}${s.title ? ` — ${s.title}` : ""}`;
  return (
    <div className="view">
      <section className={`hero ${clockedIn ? "hero-in" : "hero-out"}`}>
        <button
          type="button"
          className="clock-button"
          data-testid="clock-toggle"
          data-state={clockedIn ? "in" : "out"}
          disabled={busy || !s?.running}
          onClick={toggle}
        >
          {busy ? t("working") : clockedIn ? t("clockOut") : t("clockIn")}
        </button>
        <div className="hero-text">
          <div className="hero-state" data-testid="clock-state">
            {clockedIn && s?.clocked_in_since != null
              ? t("clockedInSince", { time: clock(s.clocked_in_since, lang) })
              : t("clockedOut")}
          </div>
          <div className="hero-worked">
            {shortDuration(view?.worked_ms ?? s?.worked_today_ms ?? 0, lang)}
          </div>
          <div className="muted" data-testid="current-window">
            {t("now")}: {current}
          </div>
          {paused && (
            <div className="pause-row">
              <button
                type="button"
                data-testid="resume"
                disabled={busy}
                onClick={() => act(api.resume)}
              >
                {t("resume")}
              </button>
            </div>
          )}
          {!paused && clockedIn && s?.can_pause && (
            <div className="pause-row" data-testid="pause-controls">
              <span className="muted">{t("pauseLabel")}</span>
              <button
                type="button"
                data-testid="pause-15"
                disabled={busy}
                onClick={() => act(() => api.pause(15))}
              >
                {t("pause15")}
              </button>
              <button type="button" disabled={busy} onClick={() => act(() => api.pause(60))}>
                {t("pause60")}
              </button>
              <button
                type="button"
                data-testid="pause-open"
                disabled={busy}
                onClick={() => act(() => api.pause(null))}
              >
                {t("pauseOpen")}
              </button>
            </div>
          )}
        </div>
      </section>
      {s && !s.running && <p className="banner bad">{t("notRunning")}</p>}
      {s?.external_agent && <p className="banner">{t("externalAgent")}</p>}
      {s?.problem && <p className="banner warn">{t("problem", { text: s.problem })}</p>}
      {s?.last_auto_clock_out != null && (
        <p className="banner">{t("autoClockOut", { time: clock(s.last_auto_clock_out, lang) })}</p>
      )}
      {s && s.prompts.length > 0 && (
        <section className="card prompt-inline" data-testid="prompt-inline">
          <IdlePrompt status={s} ownWindow={false} />
        </section>
      )}
      {error && (
        <p className="banner bad" data-testid="error" data-code={error.code}>
          {error.message}
        </p>
      )}
      {view ? <Period view={view} now={now} /> : <p className="muted">{t("loading")}</p>}
    </div>
  );
}
