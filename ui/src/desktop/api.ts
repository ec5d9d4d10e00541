// Typed calls into the Rust side. Every command's argument and result types come from the
// generated bindings; errors arrive as {code, message} (AppError).

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  CompanyView,
  CsvExport,
  ExportsView,
  PeriodView,
  SettingsUpdate,
  SettingsView,
  Status,
} from "../bindings/desktop";
import type { IdleChoice } from "../bindings/domain";
import { toAppError } from "../shared/error";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export const api = {
  status: () => call<Status>("get_status"),
  today: () => call<PeriodView>("get_today"),
  history: (day: string, week: boolean) => call<PeriodView>("get_history", { day, week }),
  clockIn: () => call<Status>("clock_in"),
  clockOut: () => call<Status>("clock_out"),
  /** Pauses tracking for `minutes`, or until resumed (`null`). */
  pause: (minutes: number | null) => call<Status>("pause", { minutes }),
  resume: () => call<Status>("resume"),
  decide: (idleStart: number, choice: IdleChoice) => call<Status>("decide", { idleStart, choice }),
  exportCsv: (firstDay: string, lastDay: string) =>
    call<CsvExport>("export_csv", { firstDay, lastDay }),
  company: () => call<CompanyView>("get_company"),
  exports: () => call<ExportsView>("get_exports"),
  settings: () => call<SettingsView>("get_settings"),
  saveSettings: (update: SettingsUpdate) => call<SettingsView>("save_settings", { update }),
  enroll: (server: string, token: string) => call<SettingsView>("enroll", { server, token }),
  acceptConsent: () => call<null>("accept_consent"),
  closeWindow: () => call<null>("close_window"),
};

/** Calls `f` with every status the Rust side sends; returns the unsubscribe function. */
export function onStatus(f: (s: Status) => void): Promise<UnlistenFn> {
  return listen<Status>("status-changed", (e) => f(e.payload));
}
