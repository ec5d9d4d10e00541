// Languages for both front ends, and the one way they look words up. Each app keeps its own
// dictionary (English is the reference; every other language must have exactly the same keys,
// which the type system checks) and gets `t` from `translator`; this module also picks the
// language: the saved choice, else the browser/OS language, else English.

import { createContext, useContext, useMemo } from "react";
import { pluralCategory } from "./format";

export const LANGUAGES = ["en", "ru"] as const;
export type Lang = (typeof LANGUAGES)[number];

/** A word that depends on a number: one form per plural category of the language (`Intl.
 *  PluralRules`); `other` is always there. English needs one/other, Russian one/few/many/other. */
export type Plural = { [C in Intl.LDMLPluralRule]?: string } & { other: string };

/** A dictionary shaped like the English one: same keys; plural entries stay plural. */
export type Dictionary<T extends Record<string, string | Plural>> = {
  [K in keyof T]: T[K] extends string ? string : Plural;
};

/** Placeholder values of a word: `{n}` and `{count}` also choose a plural form. */
export type Values = Record<string, string | number>;
export type Translate<K extends string> = (key: K, values?: Values) => string;

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
export function format(template: string, values: Values = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in values ? String(values[key]) : whole,
  );
}

/** The form of a plural word for `values.count` (or `values.n`):
 *  ({one: "{n} file", few: "{n} файла", other: …}, ru, {n: 3}) → "{n} файла". */
export function pluralForm(entry: Plural, lang: Lang, values: Values = {}): string {
  const n = Number(values.count ?? values.n ?? Number.NaN);
  if (!Number.isFinite(n)) return entry.other;
  return entry[pluralCategory(lang, n)] ?? entry.other;
}

/** `t` for one language: looks the key up, picks the plural form, fills the placeholders. */
export function translator<K extends string>(
  dictionary: Record<K, string | Plural>,
  lang: Lang,
): Translate<K> {
  return (key, values) => {
    const entry = dictionary[key];
    return format(typeof entry === "string" ? entry : pluralForm(entry, lang, values), values);
  };
}

/** The language in force and the way to change it; both front ends provide it at the top. */
export type LangState = { lang: Lang; setLang: (l: Lang) => void };

export const LangContext = createContext<LangState>({ lang: initialLang(), setLang: saveLang });

export function useLang(): LangState {
  return useContext(LangContext);
}

/** The hook an app's dictionaries give their views: `const useT = translation(dictionaries)`. */
export function translation<K extends string>(
  dictionaries: Record<Lang, Record<K, string | Plural>>,
): () => Translate<K> {
  return () => {
    const { lang } = useContext(LangContext);
    return useMemo(() => translator(dictionaries[lang], lang), [lang]);
  };
}
