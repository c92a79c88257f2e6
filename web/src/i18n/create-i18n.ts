import { createI18n } from 'vue-i18n';

import type en from '../locales/en.json';
import { DEFAULT_LOCALE, type SupportedLocale } from './detect-locale';
import { datetimeFormats, numberFormats } from './formats';

/** The shape of every locale file, taken from en.json, which the others must match. */
export type MessageSchema = typeof en;

/**
 * Creates the Composition-API i18n instance. It has no browser dependencies,
 * so tests can check fallback and formatting in Node.
 */
export function createAppI18n(locale: SupportedLocale, messages: Partial<Record<SupportedLocale, MessageSchema>>) {
  return createI18n({
    legacy: false,
    locale,
    // A key missing in zh-CN or ja shows the English text instead of the raw key.
    fallbackLocale: DEFAULT_LOCALE,
    messages,
    datetimeFormats,
    numberFormats,
    missingWarn: false,
    fallbackWarn: false,
  });
}

export type AppI18n = ReturnType<typeof createAppI18n>;
