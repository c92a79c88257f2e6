import type { IntlDateTimeFormat, IntlNumberFormat } from 'vue-i18n';

import { SUPPORTED_LOCALES, type SupportedLocale } from './detect-locale';

/**
 * Named formats for `d()` and `n()`. The options are the same in every locale
 * because Intl already applies each locale's order, separators and calendar words.
 */
const DATETIME_FORMAT = {
  date: { year: 'numeric', month: 'short', day: 'numeric' },
  dateTime: { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' },
  time: { hour: 'numeric', minute: '2-digit', second: '2-digit' },
} satisfies IntlDateTimeFormat;

const NUMBER_FORMAT = {
  integer: { maximumFractionDigits: 0 },
  // Whole amounts print without decimals, and fractional ones keep at most two.
  credits: { minimumFractionDigits: 0, maximumFractionDigits: 2 },
  percent: { style: 'percent', maximumFractionDigits: 0 },
} satisfies IntlNumberFormat;

export type DateTimeFormatName = keyof typeof DATETIME_FORMAT;

export type NumberFormatName = keyof typeof NUMBER_FORMAT;

function sameForEveryLocale<T>(format: T): Record<SupportedLocale, T> {
  const entries = SUPPORTED_LOCALES.map((locale) => [locale, format] as const);
  return Object.fromEntries(entries) as Record<SupportedLocale, T>;
}

export const datetimeFormats = sameForEveryLocale(DATETIME_FORMAT);

export const numberFormats = sameForEveryLocale(NUMBER_FORMAT);
