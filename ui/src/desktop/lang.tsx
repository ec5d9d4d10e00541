// The language in force for the desktop views, and `t` to look up a word with placeholders.

import { createContext, useContext } from "react";
import type { Lang } from "../shared/i18n";
import { format, initialLang, saveLang } from "../shared/i18n";
import { dictionaries, type Key } from "./i18n";

export type Translate = (key: Key, values?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const dict = dictionaries[lang];
  return (key, values) => format(dict[key], values);
}

export const LangContext = createContext<{ lang: Lang; setLang: (l: Lang) => void }>({
  lang: initialLang(),
  setLang: saveLang,
});

/** The `t` function of the language in force. */
export function useT(): Translate {
  return translator(useContext(LangContext).lang);
}
