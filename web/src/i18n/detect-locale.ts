/**
 * Locale selection without browser globals, so that jest can test it in Node
 * and the Studio can call it with `navigator.languages` and localStorage.
 */

export const SUPPORTED_LOCALES = ['en', 'zh-CN', 'ja'] as const;

export type SupportedLocale = (typeof SUPPORTED_LOCALES)[number];

export const DEFAULT_LOCALE: SupportedLocale = 'en';

/** localStorage key of the language the user picked in the switcher. */
export const LOCALE_STORAGE_KEY = 'novart.locale';

export function isSupportedLocale(value: unknown): value is SupportedLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/**
 * Maps one BCP 47 language tag (or a POSIX-style `zh_CN`) to the nearest
 * supported locale, or undefined when its language is not supported.
 */
export function matchLocale(tag: string): SupportedLocale | undefined {
  const normalized = tag.trim().replace(/_/g, '-');
  if (normalized === '') return undefined;

  let language: string;
  try {
    language = new Intl.Locale(normalized).language;
  } catch {
    // Intl.Locale rejects malformed tags such as `en-US.UTF-8`, but their primary subtag is still usable.
    language = normalized.split(/[-.@]/)[0]!.toLowerCase();
  }

  // zh-CN is the only Chinese locale, so Traditional Chinese (zh-TW, zh-Hant) maps to it as the nearest one.
  if (language === 'zh') return 'zh-CN';
  if (language === 'ja') return 'ja';
  if (language === 'en') return 'en';
  return undefined;
}

/** Returns the first supported locale in the browser's preference order, else English. */
export function detectLocale(browserLanguages: readonly string[]): SupportedLocale {
  for (const tag of browserLanguages) {
    const locale = matchLocale(tag);
    if (locale) return locale;
  }

  return DEFAULT_LOCALE;
}

/** Picks the stored choice when it is still supported, else detects one from the browser languages. */
export function resolveInitialLocale(storedLocale: string | null | undefined, browserLanguages: readonly string[]): SupportedLocale {
  if (isSupportedLocale(storedLocale)) return storedLocale;

  return detectLocale(browserLanguages);
}
