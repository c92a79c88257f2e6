import { useI18n } from 'vue-i18n';

/** "5 h 20 min left" style countdowns, translated, for assets and uploads that expire. */
export function useTimeLeft() {
  const { t, n } = useI18n();

  return function timeLeft(expiresAt: string, now = Date.now()): string {
    const minutes = Math.floor((new Date(expiresAt).getTime() - now) / 60_000);
    if (minutes <= 0) return t('assets.expired');

    const hours = Math.floor(minutes / 60);
    return t('assets.timeLeft', { hours: n(hours, 'integer'), minutes: n(minutes % 60, 'integer') });
  };
}
