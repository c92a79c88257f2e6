import { CODE_ALPHABET, createRedemptionBatch, generateCode, hashCode, normalizeCode } from '../../lib/redemption';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('redemption code format', () => {
  test('uses no ambiguous characters', () => {
    const codes = Array.from({ length: 2_000 }, generateCode).join('');

    expect(codes).not.toMatch(/[01OIL]/);
    expect(CODE_ALPHABET).not.toMatch(/[01OIL]/);
  });

  test('is four groups of five', () => {
    expect(generateCode()).toMatch(/^[2-9A-Z]{5}-[2-9A-Z]{5}-[2-9A-Z]{5}-[2-9A-Z]{5}$/);
  });

  test('accepts lower case and spacing', () => {
    const code = generateCode();

    const typed = ` ${code.toLowerCase().replaceAll('-', ' ')} `;

    expect(normalizeCode(typed)).toBe(code.replaceAll('-', ''));
  });

  test('rejects a changed character', () => {
    const code = generateCode().replaceAll('-', '');
    const replacement = CODE_ALPHABET[(CODE_ALPHABET.indexOf(code[7]!) + 1) % CODE_ALPHABET.length]!;

    const typo = `${code.slice(0, 7)}${replacement}${code.slice(8)}`;

    expect(normalizeCode(typo)).toBeUndefined();
  });

  test('rejects wrong length and foreign characters', () => {
    expect(normalizeCode('ABCDE-FGHJK')).toBeUndefined();
    expect(normalizeCode('ABCDE-FGHJK-MNPQR-STUV0')).toBeUndefined();
  });
});

describe('redemption batch storage', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  test('the database holds no plain code', async () => {
    const { codes } = await createRedemptionBatch(database.prisma, { faceValue: 100, bonus: 5, count: 50, label: 'launch', channel: 'newsletter', createdById: null });

    const tables = await database.prisma.$queryRaw<Array<{ table_name: string }>>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
    let dump = '';
    for (const { table_name } of tables) {
      const rows = await database.prisma.$queryRawUnsafe<Array<{ row: string }>>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
      dump += rows.map((row) => row.row).join('\n');
    }

    expect(codes).toHaveLength(50);
    for (const code of codes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replaceAll('-', ''));
      expect(dump).toContain(hashCode(code.replaceAll('-', '')));
    }
  });
});
