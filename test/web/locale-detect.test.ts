import { detectLocale, matchLocale, resolveInitialLocale } from '../../web/src/i18n/detect-locale';

describe('matchLocale', () => {
  test.each([
    ['en', 'en'],
    ['en-US', 'en'],
    ['en-GB', 'en'],
    ['EN-us', 'en'],
    ['zh', 'zh-CN'],
    ['zh-CN', 'zh-CN'],
    ['zh-Hans-CN', 'zh-CN'],
    ['zh_CN', 'zh-CN'],
    ['zh-TW', 'zh-CN'],
    ['zh-Hant-HK', 'zh-CN'],
    ['ja', 'ja'],
    ['ja-JP', 'ja'],
    ['ja_JP', 'ja'],
    ['en_US.UTF-8', 'en'],
  ])('maps %s to %s', (tag, expected) => {
    const locale = matchLocale(tag);

    expect(locale).toBe(expected);
  });

  test.each(['fr-FR', 'de', 'ko-KR', '', '  ', 'not a tag'])('rejects %j', (tag) => {
    const locale = matchLocale(tag);

    expect(locale).toBeUndefined();
  });
});

describe('detectLocale', () => {
  test('takes first supported preference', () => {
    const locale = detectLocale(['fr-FR', 'ja-JP', 'en-US']);

    expect(locale).toBe('ja');
  });

  test('keeps browser preference order', () => {
    const locale = detectLocale(['en-US', 'zh-CN']);

    expect(locale).toBe('en');
  });

  test('falls back to English', () => {
    const locale = detectLocale(['fr-FR', 'de-DE']);

    expect(locale).toBe('en');
  });

  test('falls back to English without languages', () => {
    const locale = detectLocale([]);

    expect(locale).toBe('en');
  });
});

describe('resolveInitialLocale', () => {
  test('prefers stored choice', () => {
    const locale = resolveInitialLocale('ja', ['zh-CN']);

    expect(locale).toBe('ja');
  });

  test('ignores unsupported stored value', () => {
    const locale = resolveInitialLocale('fr', ['zh-TW']);

    expect(locale).toBe('zh-CN');
  });

  test('detects when nothing is stored', () => {
    const locale = resolveInitialLocale(null, ['zh_CN']);

    expect(locale).toBe('zh-CN');
  });
});
