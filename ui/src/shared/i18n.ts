// Languages for both front ends. Each app keeps its own dictionaries (English is the reference;
// every other language must have exactly the same keys, which the type system checks), and this
// module picks the language: the saved choice, else the browser/OS language, else English.

export const LANGUAGES = ["en", "ru"] as const;
export type Lang = (typeof LANGUAGES)[number];

/** A dictionary shaped like the English one: same keys, string values. */
export type Dictionary<T extends Record<string, string>> = { [K in keyof T]: string };

const STORAGE_KEY = "worktrace.lang";

/** "ru-RU" → "ru"; unknown → "en". */
export function pickLang(candidates: readonly string[]): Lang {
  for (const c of candidates) {
    const base = c.toLowerCase().split("-")[0];
    const found = LANGUAGES.find((l) => l === base);
    if (found) return found;
  }
  return "en";
}

export function initialLang(): Lang {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (saved) return pickLang([saved]);
  return pickLang(globalThis.navigator?.languages ?? []);
}

export function saveLang(lang: Lang): void {
  globalThis.localStorage?.setItem(STORAGE_KEY, lang);
}

/**
 * Fills `{name}` placeholders: format("Hello, {who}", {who: "Ann"}) → "Hello, Ann".
 * Unknown placeholders stay as they are so a missing value is visible, not silently empty.
 */
export function format(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in values ? String(values[key]) : whole,
  );
}
