// The one error shape both back ends return: Tauri commands reject with it and the server sends
// it as {"error": {...}}. The UI shows `message` (written for people) and branches on `code`.

export type AppError = { code: string; message: string };

export function isAppError(v: unknown): v is AppError {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as AppError).code === "string" &&
    typeof (v as AppError).message === "string"
  );
}

/** Anything thrown → a plain AppError; a plain string becomes {code: "unknown", message}. */
export function toAppError(v: unknown): AppError {
  if (isAppError(v)) return { code: v.code, message: v.message };
  if (typeof v === "object" && v !== null && "error" in v && isAppError(v.error)) return v.error;
  if (v instanceof Error) return { code: "unknown", message: v.message };
  return { code: "unknown", message: String(v) };
}
