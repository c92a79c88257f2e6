import en from '../../web/src/locales/en.json';
import ja from '../../web/src/locales/ja.json';
import zhCN from '../../web/src/locales/zh-CN.json';
import type { SupportedLocale } from '../../web/src/i18n/detect-locale';

/** The locale files as plain JSON, so that tests see keys the type of en.json does not have. */
export const LOCALE_FILES: Record<SupportedLocale, unknown> = { en, 'zh-CN': zhCN, ja };

/** Flattens nested messages into dotted keys, for example `status.checks.database`. */
export function flattenMessages(messages: unknown, prefix = ''): Map<string, unknown> {
  const flat = new Map<string, unknown>();

  for (const [key, value] of Object.entries(messages as Record<string, unknown>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [nestedPath, nestedValue] of flattenMessages(value, path)) flat.set(nestedPath, nestedValue);
    } else {
      flat.set(path, value);
    }
  }

  return flat;
}
