import { useI18n } from 'vue-i18n';

import { ApiError } from '../api/client';

/** Returns a function that turns any thrown value into a translated, user-facing message. */
export function useErrorMessage() {
  const { t, te } = useI18n();

  return function errorMessage(error: unknown): string {
    const key = error instanceof ApiError ? `errors.${error.code}` : 'errors.UNKNOWN';

    // `te` checks the English fallback too, so a code the Studio does not know yet still gets a message.
    if (te(key) || te(key, 'en')) return t(key);
    return t('errors.UNKNOWN');
  };
}
