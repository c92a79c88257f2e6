import { createAppI18n, type MessageSchema } from '../../web/src/i18n/create-i18n';
import { LOCALE_FILES } from './locale-files';

const en = LOCALE_FILES.en as MessageSchema;
const ja = LOCALE_FILES.ja as MessageSchema;
const zhCN = LOCALE_FILES['zh-CN'] as MessageSchema;

describe('app i18n', () => {
  test('falls back to English for missing key', () => {
    const partialJapanese = { ...ja, status: { ...ja.status, refresh: undefined } } as unknown as MessageSchema;
    const i18n = createAppI18n('ja', { en, ja: partialJapanese });

    const message = i18n.global.t('status.refresh');

    expect(message).toBe(en.status.refresh);
  });

  test('translates in active locale', () => {
    const i18n = createAppI18n('ja', { en, ja });

    const message = i18n.global.t('status.refresh');

    expect(message).toBe(ja.status.refresh);
  });

  test('formats credits per locale', () => {
    const i18n = createAppI18n('en', { en, 'zh-CN': zhCN, ja });

    const english = i18n.global.n(1234.5, 'credits', 'en');
    const japanese = i18n.global.n(1250, 'credits', 'ja');

    expect(english).toBe('1,234.5');
    expect(japanese).toBe('1,250');
  });

  test('pluralizes English credits', () => {
    const i18n = createAppI18n('en', { en });

    const singular = i18n.global.t('common.credits', { amount: '1' }, 1);
    const plural = i18n.global.t('common.credits', { amount: '5' }, 5);

    expect(singular).toBe('1 credit');
    expect(plural).toBe('5 credits');
  });

  test('formats dates per locale', () => {
    const i18n = createAppI18n('en', { en, 'zh-CN': zhCN, ja });
    const moment = new Date(Date.UTC(2025, 0, 31, 12, 0, 0));

    const english = i18n.global.d(moment, 'date', 'en');
    const chinese = i18n.global.d(moment, 'date', 'zh-CN');
    const japanese = i18n.global.d(moment, 'date', 'ja');

    expect(english).toMatch(/Jan/);
    expect(chinese).toMatch(/2025年1月/);
    expect(japanese).toMatch(/2025年1月/);
  });
});
