import { useI18n } from 'vue-i18n';

import type { DateTimeFormatName } from '../i18n/formats';

/** Locale-aware formatting of dates and credit amounts, built on the named formats in i18n/formats.ts. */
export function useFormatters() {
  const { d, n, t } = useI18n();

  function formatDate(value: Date | number, format: DateTimeFormatName = 'dateTime'): string {
    return d(value, format);
  }

  /** Formats an amount with its unit, for example "1,250 credits" or "1,250 积分". */
  function formatCredits(amount: number): string {
    return t('common.credits', { amount: n(amount, 'credits') }, amount);
  }

  return { formatDate, formatCredits };
}
