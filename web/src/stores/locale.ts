import { defineStore } from 'pinia';
import { ref } from 'vue';

import { i18n, loadLocaleMessages, readStoredLocale, writeStoredLocale } from '../i18n';
import { DEFAULT_LOCALE, SUPPORTED_LOCALES, resolveInitialLocale, type SupportedLocale } from '../i18n/detect-locale';

/** The active interface language. Every change goes through `setLocale`. */
export const useLocaleStore = defineStore('locale', () => {
  const locale = ref<SupportedLocale>(i18n.global.locale.value);

  /**
   * Loads the messages of `next`, switches the interface and the `<html lang>`
   * to it, and stores it when the user picked it (not when it was detected).
   */
  async function setLocale(next: SupportedLocale, options: { remember: boolean }): Promise<void> {
    await loadLocaleMessages(next);

    i18n.global.locale.value = next;
    locale.value = next;
    document.documentElement.lang = next;

    if (options.remember) writeStoredLocale(next);
  }

  /** Applies the stored choice, or on a first visit the nearest match of the browser languages. */
  async function initialize(): Promise<void> {
    const initial = resolveInitialLocale(readStoredLocale(), navigator.languages ?? [navigator.language]);

    try {
      await setLocale(initial, { remember: false });
    } catch (error) {
      // A message file that fails to download must not keep the Studio from starting, so it falls back to the bundled English.
      console.error(`loading locale "${initial}" failed, showing English`, error);
      await setLocale(DEFAULT_LOCALE, { remember: false });
    }
  }

  return { locale, supportedLocales: SUPPORTED_LOCALES, setLocale, initialize };
});
