// The desktop views' `t`: the app's dictionaries wired through the shared translator, in the
// language the settings give (provided by App through the shared LangContext).

import { LangContext, type Translate as TranslateOf, translation, useLang } from "../shared/i18n";
import { dictionaries, type Key } from "./i18n";

export type Translate = TranslateOf<Key>;

/** The `t` function of the language in force. */
export const useT = translation(dictionaries);

export { LangContext, useLang };
