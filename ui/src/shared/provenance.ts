// What an export event's details say about where its file came from and what it went
// through: read with typed checks, since details are open-ended JSON. Shared by the dashboard's
// alerts and the desktop app's list of what this PC recorded.

export interface Provenance {
  /** The client source (CRM) the file's name or download address matched ("Bitrix24"). */
  source: string | null;
  /** The download's host, as far as it is known. */
  origin: string | null;
  /** The names the contents went through, first to last ("a.csv → b.csv → b.zip"). */
  chain: string | null;
  rows: number | null;
  columns: number | null;
  /** The cloud service whose folder the file was put into. */
  cloud: string | null;
  /** The messenger or mail client that opened the file. */
  sentVia: string | null;
}

/** The provenance an event's `details` hold; each part `null` when they say nothing of it. */
export function provenanceOf(details: unknown): Provenance {
  const d =
    typeof details === "object" && details !== null && !Array.isArray(details)
      ? (details as Record<string, unknown>)
      : {};
  const text = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : null);
  const num = (k: string) => (typeof d[k] === "number" ? (d[k] as number) : null);
  const lineage = Array.isArray(d.lineage)
    ? d.lineage.filter((n): n is string => typeof n === "string")
    : [];
  return {
    source: text("client_source"),
    origin: text("origin_domain"),
    chain: lineage.length > 1 ? lineage.join(" → ") : null,
    rows: num("rows"),
    columns: num("columns"),
    cloud: text("cloud_service"),
    sentVia: text("sent_via"),
  };
}

/** Each detail as a line for people: `key: value`, lists and objects as JSON. */
export function detailLines(details: unknown): { key: string; value: string }[] {
  if (typeof details !== "object" || details === null || Array.isArray(details)) return [];
  return Object.entries(details as Record<string, unknown>).map(([key, value]) => ({
    key,
    value: typeof value === "string" ? value : JSON.stringify(value),
  }));
}
