import en from '../locales/en.json';
import { createAppI18n, type MessageSchema } from './create-i18n';
import { DEFAULT_LOCALE, LOCALE_STORAGE_KEY, isSupportedLocale, type SupportedLocale } from './detect-locale';

/** The app-wide i18n instance. English is bundled because it is the fallback for every locale. */
export const i18n = createAppI18n(DEFAULT_LOCALE, { en });

// The other locales are separate chunks, fetched only when someone selects them.
const localeLoaders = import.meta.glob<MessageSchema>(['../locales/*.json', '!../locales/en.json'], { import: 'default' });

/** Fetches and registers the messages of a locale unless they are already loaded. */
export async function loadLocaleMessages(locale: SupportedLocale): Promise<void> {
  if (i18n.global.availableLocales.includes(locale)) return;

  const loader = localeLoaders[`../locales/${locale}.json`];
  if (!loader) throw new Error(`no message file for locale "${locale}" in web/src/locales`);

  i18n.global.setLocaleMessage(locale, await loader());
}

/** Reads the stored language choice, or undefined when storage is disabled, as in some private windows. */
export function readStoredLocale(): SupportedLocale | undefined {
  try {
    const stored = window.localStorage.getItem(LOCALE_STORAGE_KEY);
    return isSupportedLocale(stored) ? stored : undefined;
  } catch {
    return undefined;
  }
}

export function writeStoredLocale(locale: SupportedLocale): void {
  try {
    window.localStorage.setItem(LOCALE_STORAGE_KEY, locale);
  } catch {
    // Without storage the choice lasts until the page is reloaded, which is acceptable.
  }
}
