import { baseCompile, type CompileError } from '@intlify/message-compiler';

import { ERROR_CODES } from '../../lib/errors';
import { SUPPORTED_LOCALES } from '../../web/src/i18n/detect-locale';
import { PRIVACY_SECTIONS, TERMS_SECTIONS, type LegalSection } from '../../web/src/pages/legal-sections';
import { LOCALE_FILES, flattenMessages } from './locale-files';

// Node type numbers of the message AST (the const enum NodeTypes of @intlify/message-compiler 11).
const PLURAL_NODE = 1;
const NAMED_NODE = 4;
const LINKED_NODE = 6;

// Messages meant to have `|` plural branches. Anywhere else a `|` is a typo that splits the text.
const PLURAL_KEYS = new Set(['common.credits']);

const flatLocales = SUPPORTED_LOCALES.map((locale) => [locale, flattenMessages(LOCALE_FILES[locale])] as const);
const englishMessages = flattenMessages(LOCALE_FILES.en);

function compileMessage(source: string): { ast: unknown; errors: string[] } {
  const errors: string[] = [];
  const { ast } = baseCompile(source, {
    location: false,
    onError: (error: CompileError) => errors.push(error.message),
  });

  return { ast, errors };
}

/** Collects the node types and named placeholders of a compiled message. */
function describeMessage(ast: unknown): { nodeTypes: Set<number>; placeholders: Set<string> } {
  const nodeTypes = new Set<number>();
  const placeholders = new Set<string>();

  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (typeof node !== 'object' || node === null) return;

    const { type, key } = node as { type?: unknown; key?: unknown };
    if (typeof type === 'number') nodeTypes.add(type);
    if (type === NAMED_NODE && typeof key === 'string') placeholders.add(key);
    Object.values(node).forEach(visit);
  };
  visit(ast);

  return { nodeTypes, placeholders };
}

function legalKeys(namespace: string, sections: readonly LegalSection[]): string[] {
  const keys = [`${namespace}.title`, `${namespace}.intro`];

  for (const section of sections) {
    keys.push(`${namespace}.${section.id}.title`);
    for (const item of section.items ?? []) keys.push(`${namespace}.${section.id}.items.${item}`);
    if (section.body) keys.push(`${namespace}.${section.id}.body`);
  }

  return keys;
}

describe('locale files', () => {
  test.each(flatLocales)('%s has every key of the other locales', (locale, messages) => {
    for (const [otherLocale, otherMessages] of flatLocales) {
      const missing = [...otherMessages.keys()].filter((key) => !messages.has(key));

      expect({ locale, missingFrom: otherLocale, missing }).toEqual({ locale, missingFrom: otherLocale, missing: [] });
    }
  });

  test.each(flatLocales)('%s messages are non-empty strings', (locale, messages) => {
    const invalid = [...messages].filter(([, value]) => typeof value !== 'string' || value.trim() === '').map(([key]) => key);

    expect({ locale, invalid }).toEqual({ locale, invalid: [] });
  });

  test.each(flatLocales)('%s messages compile', (locale, messages) => {
    const failures: string[] = [];

    for (const [key, value] of messages) {
      const { errors } = compileMessage(String(value));
      if (errors.length > 0) failures.push(`${key}: ${errors.join('; ')}`);
    }

    expect({ locale, failures }).toEqual({ locale, failures: [] });
  });

  test.each(flatLocales)('%s uses no linked messages', (locale, messages) => {
    const linked = [...messages].filter(([, value]) => describeMessage(compileMessage(String(value)).ast).nodeTypes.has(LINKED_NODE)).map(([key]) => key);

    expect({ locale, linked }).toEqual({ locale, linked: [] });
  });

  test.each(flatLocales)('%s uses plural branches only where intended', (locale, messages) => {
    const unexpected = [...messages]
      .filter(([key, value]) => !PLURAL_KEYS.has(key) && describeMessage(compileMessage(String(value)).ast).nodeTypes.has(PLURAL_NODE))
      .map(([key]) => key);

    expect({ locale, unexpected }).toEqual({ locale, unexpected: [] });
  });

  test.each(flatLocales)('%s placeholders match English', (locale, messages) => {
    const mismatches: string[] = [];

    for (const [key, englishValue] of englishMessages) {
      const expected = [...describeMessage(compileMessage(String(englishValue)).ast).placeholders].sort();
      const actual = [...describeMessage(compileMessage(String(messages.get(key) ?? '')).ast).placeholders].sort();
      if (expected.join(',') !== actual.join(',')) mismatches.push(`${key}: {${actual.join('},{')}} instead of {${expected.join('},{')}}`);
    }

    expect({ locale, mismatches }).toEqual({ locale, mismatches: [] });
  });

  test.each(flatLocales)('%s translates every error code', (locale, messages) => {
    const missing = ERROR_CODES.filter((code) => !messages.has(`errors.${code}`));

    expect({ locale, missing }).toEqual({ locale, missing: [] });
  });
});

describe('legal page outline', () => {
  test.each([
    ['privacy', PRIVACY_SECTIONS],
    ['terms', TERMS_SECTIONS],
  ] as const)('%s outline matches the English keys', (namespace, sections) => {
    const outlined = legalKeys(namespace, sections).sort();
    const written = [...englishMessages.keys()].filter((key) => key.startsWith(`${namespace}.`)).sort();

    expect(outlined).toEqual(written);
  });
});
