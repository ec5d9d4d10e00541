// The desktop app's reads, on TanStack Query: one key per command, the refresh each view needs
// (live status from the Rust side's events, Today every few seconds, the company view every ten)
// and the invalidation after a change. Views read through these hooks only.

import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import type { SettingsView, Status } from "../bindings/desktop";
import { api, onStatus } from "./api";

export const keys = {
  status: ["status"] as const,
  settings: ["settings"] as const,
  today: ["today"] as const,
  history: (day: string, week: boolean) => ["history", day, week] as const,
  company: ["company"] as const,
  exports: ["exports"] as const,
};

/** The live status: read once, then every status the Rust side sends; each new status also
 *  refreshes today's figures, so live time keeps moving. */
export function useStatus() {
  const client = useQueryClient();
  useEffect(() => {
    let stop: (() => void) | undefined;
    let alive = true;
    onStatus((s) => {
      client.setQueryData<Status>(keys.status, s);
      client.invalidateQueries({ queryKey: keys.today });
    }).then((f) => {
      if (alive) stop = f;
      else f();
    });
    return () => {
      alive = false;
      stop?.();
    };
  }, [client]);
  return useQuery({
    queryKey: keys.status,
    queryFn: api.status,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useSettings() {
  return useQuery({ queryKey: keys.settings, queryFn: api.settings });
}

/** Today's period, refreshed every 5 s while shown. */
export function useToday() {
  return useQuery({ queryKey: keys.today, queryFn: api.today, refetchInterval: 5000 });
}

/** A day or week of history; the period shown stays until the next one is read. */
export function useHistory(day: string, week: boolean) {
  return useQuery({
    queryKey: keys.history(day, week),
    queryFn: () => api.history(day, week),
    placeholderData: keepPreviousData,
  });
}

/** What the company sees, refreshed every 10 s while shown (syncs happen in the background). */
export function useCompany() {
  return useQuery({ queryKey: keys.company, queryFn: api.company, refetchInterval: 10_000 });
}

export function useExports() {
  return useQuery({ queryKey: keys.exports, queryFn: api.exports });
}

/** After a command answered with a status: show it, and refresh the figures it changes. */
export function useStatusAnswer(): (s: Status) => void {
  const client = useQueryClient();
  return (s) => {
    client.setQueryData<Status>(keys.status, s);
    client.invalidateQueries({ queryKey: keys.today });
  };
}

/** After a settings command answered: the new settings are the ones in force everywhere. */
export function useSettingsAnswer(): (v: SettingsView) => void {
  const client = useQueryClient();
  return (v) => {
    client.setQueryData<SettingsView>(keys.settings, v);
  };
}
