import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config';
import { openDatabase } from '../lib/db/client';
import { createLogger } from '../lib/logger';
import { adminAdjustWallet } from '../lib/wallet';
import type { PrismaClient } from '../prisma/generated/client';

const USAGE = `Usage: npm run wallet:adjust -- --account user@example.com --amount -50 --reason "Duplicate top-up"
                             --actor admin@example.com [--bucket balance|bonus] [--key KEY]

Credits (positive --amount) or debits (negative) one bucket of an account's
wallet. The ledger row and an audit row naming the actor and the reason are
written together. --key makes a repeated command apply once.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      account: { type: 'string' },
      amount: { type: 'string' },
      reason: { type: 'string' },
      actor: { type: 'string' },
      bucket: { type: 'string', default: 'balance' },
      key: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.account || !values.amount || !values.reason || !values.actor) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  if (values.bucket !== 'balance' && values.bucket !== 'bonus') throw new Error(`--bucket must be balance or bonus, got "${values.bucket}"`);

  const config = loadConfig();
  const database = await openDatabase(config, { logger: createLogger({ level: 'warn' }) });
  try {
    const change = await adminAdjustWallet(database.prisma, {
      actorId: await findAccountId(database.prisma, values.actor),
      accountId: await findAccountId(database.prisma, values.account),
      bucket: values.bucket,
      amount: Number(values.amount),
      reason: values.reason,
      lowBalanceThreshold: config.LOW_BALANCE_THRESHOLD,
      ...(values.key ? { idempotencyKey: values.key } : {}),
    });
    console.log(
      change.applied
        ? `Adjusted: balance ${change.balanceAfter}, bonus ${change.bonusAfter} (ledger entry ${change.ledgerEntryId})`
        : `Already applied with this key (ledger entry ${change.ledgerEntryId}); nothing changed`,
    );
  } finally {
    await database.close();
  }
}

async function findAccountId(prisma: PrismaClient, emailOrId: string): Promise<string> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(emailOrId);
  const account = await prisma.account.findUnique({ where: isId ? { id: emailOrId } : { email: emailOrId.trim().toLowerCase() }, select: { id: true } });
  if (!account) throw new Error(`No account "${emailOrId}"`);
  return account.id;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
