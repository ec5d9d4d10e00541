// The dashboard's reads, on TanStack Query: one key per API read, so pages that show the same
// data share it, and a change invalidates exactly what it touched. Pages read through these
// hooks only; a change goes through `useChange`.

import {
  type QueryKey,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import type { AlertPage } from "../bindings/server";
import type { AlertQuery, Api } from "./api";
import { useApp } from "./ui";

export const keys = {
  me: ["me"] as const,
  teams: ["teams"] as const,
  teamDay: (team: number, day: string) => ["teams", team, "days", day] as const,
  now: (team: number) => ["teams", team, "now"] as const,
  trends: (team: number, from: string, to: string) => ["teams", team, "trends", from, to] as const,
  personDay: (person: number, day: string) => ["people", person, "days", day] as const,
  personHours: (person: number, day: string) => ["people", person, "hours", day] as const,
  alerts: ["alerts"] as const,
  inbox: (f: InboxFilter) => ["alerts", "inbox", f] as const,
  alertNames: ["alerts", "names"] as const,
  openAlerts: ["alerts", "open"] as const,
  users: ["admin", "users"] as const,
  memberships: ["admin", "memberships"] as const,
  devices: ["admin", "devices"] as const,
  fleet: ["admin", "fleet"] as const,
  fleetTokens: ["admin", "fleet-tokens"] as const,
  policy: ["admin", "policy"] as const,
  audit: ["admin", "audit"] as const,
  sessions: ["me", "sessions"] as const,
  watches: ["watches"] as const,
  risk: (person: number) => ["people", person, "risk"] as const,
  departure: (watch: number) => ["watches", watch, "report"] as const,
};

/** A read through the app's API client. */
function useRead<T>(queryKey: QueryKey, read: (api: Api) => Promise<T>, enabled = true) {
  const { api } = useApp();
  return useQuery({ queryKey, queryFn: () => read(api), enabled });
}

export const useTeams = () => useRead(keys.teams, (api) => api.teams());
export const useTeamDay = (team: number, day: string) =>
  useRead(keys.teamDay(team, day), (api) => api.teamDay(team, day));
export const useNow = (team: number) => useRead(keys.now(team), (api) => api.now(team));
export const useTrends = (team: number, from: string, to: string) =>
  useRead(keys.trends(team, from, to), (api) => api.trends(team, from, to));
export const usePersonDay = (person: number, day: string) =>
  useRead(keys.personDay(person, day), (api) => api.personDay(person, day));
export const usePersonHours = (person: number, day: string) =>
  useRead(keys.personHours(person, day), (api) => api.personHours(person, day));
export const useUsers = () => useRead(keys.users, (api) => api.users());
export const useMemberships = () => useRead(keys.memberships, (api) => api.memberships());
export const useDevices = () => useRead(keys.devices, (api) => api.devices());
export const useFleet = () => useRead(keys.fleet, (api) => api.fleet());
export const useFleetTokens = () => useRead(keys.fleetTokens, (api) => api.fleetTokens());
export const usePolicy = () => useRead(keys.policy, (api) => api.policy());
export const useAudit = () => useRead(keys.audit, (api) => api.audit(100_000));
export const useSessions = () => useRead(keys.sessions, (api) => api.sessions());
export const useRisk = (person: number) => useRead(keys.risk(person), (api) => api.risk(person));
export const useWatches = () => useRead(keys.watches, (api) => api.watches());
export const useDepartureReport = (watch: number) =>
  useRead(keys.departure(watch), (api) => api.departureReport(watch));

/** The inbox's filters (the page aside). */
export type InboxFilter = Omit<AlertQuery, "before" | "limit">;

/** Alerts per inbox page. */
export const INBOX_PAGE = 50;

/** The names of the people the viewer sees (from their teams), for the inbox's lines. */
async function names(api: Api): Promise<Map<number, string>> {
  const teams = await api.teams();
  const lists = await Promise.all(teams.map((team) => api.members(team.id)));
  const names = new Map<number, string>();
  for (const m of lists.flat()) names.set(m.user_id, m.display_name);
  return names;
}

export const useAlertNames = () => useRead(keys.alertNames, names);

/** The inbox a page at a time, newest received first; the next page starts where the last ended. */
export function useInbox(filter: InboxFilter) {
  const { api } = useApp();
  return useInfiniteQuery({
    queryKey: keys.inbox(filter),
    queryFn: ({ pageParam }): Promise<AlertPage> =>
      api.alerts({ ...filter, limit: INBOX_PAGE, before: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_before ?? undefined,
  });
}

/**
 * How many alerts wait, for the navigation's badge; only asked for by those who see alerts.
 * Used by the shell, above the app's context (before login there is none), so it takes the
 * API client itself.
 */
export const useOpenAlerts = (api: Api, enabled: boolean) =>
  useQuery({
    queryKey: keys.openAlerts,
    // Open alerts listed plus those folded by their PC's limit (at most 200 are counted).
    queryFn: async () => {
      const page = await api.alerts({ limit: 200 });
      return page.alerts.length + page.folded.reduce((n, f) => n + f.count, 0);
    },
    enabled,
  });

/**
 * A change through the API: its error is shown where it was made, and on success every read
 * under `touches` is read again (`[keys.alerts]` refreshes the inbox and the badge).
 */
export function useChange<V, R>(change: (api: Api, v: V) => Promise<R>, touches: QueryKey[]) {
  const { api } = useApp();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (v: V) => change(api, v),
    onSuccess: async () => {
      await Promise.all(touches.map((queryKey) => client.invalidateQueries({ queryKey })));
    },
  });
}
