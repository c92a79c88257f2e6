import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config';
import { openDatabase } from '../lib/db/client';
import { createLogger } from '../lib/logger';
import { batchCsv, createRedemptionBatch } from '../lib/redemption';
import type { PrismaClient } from '../prisma/generated/client';

const USAGE = `Usage: npm run codes -- --count 100 --face-value 500 --label "Spring promo"
                      [--bonus 0] [--expires 2027-01-31T23:59:59Z] [--channel "partner shop"]
                      [--actor admin@example.com] [--out codes.csv]

Generates a batch of redemption codes and prints them as CSV, once: the
database keeps only their hashes, so the codes cannot be shown again. With
--out the CSV goes to a new file readable by its owner only.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      'face-value': { type: 'string' },
      bonus: { type: 'string', default: '0' },
      label: { type: 'string' },
      channel: { type: 'string' },
      expires: { type: 'string' },
      actor: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.count || !values['face-value'] || !values.label) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const expiresAt = values.expires ? new Date(values.expires) : undefined;
  if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new Error(`--expires must be a date, got "${values.expires}"`);

  const config = loadConfig();
  const database = await openDatabase(config, { logger: createLogger({ level: 'warn' }) });
  try {
    const createdById = values.actor ? await findAdmin(database.prisma, values.actor) : null;
    const { batch, codes } = await createRedemptionBatch(database.prisma, {
      faceValue: Number(values['face-value']),
      bonus: Number(values.bonus),
      count: Number(values.count),
      label: values.label,
      ...(values.channel ? { channel: values.channel } : {}),
      ...(expiresAt ? { expiresAt } : {}),
      createdById,
    });

    const csv = batchCsv(batch, codes);
    if (values.out) {
      // `wx` refuses to overwrite: an earlier export must not be lost.
      await fs.writeFile(values.out, csv, { flag: 'wx', mode: 0o600 });
      console.error(`Batch ${batch.id}: ${codes.length} codes written to ${values.out}`);
    } else {
      process.stdout.write(csv);
      console.error(`Batch ${batch.id}: ${codes.length} codes`);
    }
  } finally {
    await database.close();
  }
}

async function findAdmin(prisma: PrismaClient, email: string): Promise<string> {
  const account = await prisma.account.findUnique({ where: { email: email.trim().toLowerCase() }, select: { id: true, role: true } });
  if (account?.role !== 'admin') throw new Error(`--actor must be the e-mail of an admin account, got "${email}"`);
  return account.id;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
