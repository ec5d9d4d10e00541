// An alert's export event as the dashboard reads it. The server passes the event on as the
// device sent it (its schema says only "an object"), so each field the page shows is taken
// only when it has the type the domain's ExportEvent gives it. Pure.

import type { ExportEvent } from "../bindings/domain";

type Shown = Partial<
  Pick<ExportEvent, "file_name" | "size_bytes" | "destination_class" | "app_before" | "count">
>;

/** {file_name: "a.xlsx", size_bytes: "big", count: 3} → {file_name: "a.xlsx", count: 3}. */
export function exportEventOf(event: Record<string, unknown>): Shown {
  const text = (k: string) => (typeof event[k] === "string" ? (event[k] as string) : null);
  const num = (k: string) => (typeof event[k] === "number" ? (event[k] as number) : null);
  const out: Shown = {};
  const file = text("file_name");
  if (file !== null) out.file_name = file;
  const size = num("size_bytes");
  if (size !== null) out.size_bytes = size;
  const destination = text("destination_class");
  if (destination !== null) out.destination_class = destination;
  const app = text("app_before");
  if (app !== null) out.app_before = app;
  const count = num("count");
  if (count !== null) out.count = count;
  return out;
}
