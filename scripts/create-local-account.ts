import { parseArgs } from 'node:util';
import { createAccount } from '../lib/accounts';
import { API_KEY_SCOPES, createApiKey } from '../lib/api-keys';
import { loadConfig } from '../lib/config';
import { openDatabase } from '../lib/db/client';
import { createLogger } from '../lib/logger';
import { creditWallet } from '../lib/wallet';

const USAGE = `Usage: npm run account:create -- --email you@example.com [--credits 100] [--key-name local]

Creates an account with the given credits and an API key with every scope,
and prints the key once. Uses the same DATABASE_URL / DATA_DIR as npm start;
with the embedded database, stop npm start first (PGlite allows one process).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      credits: { type: 'string', default: '100' },
      'key-name': { type: 'string', default: 'local' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.email) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const credits = Number(values.credits);
  if (!Number.isInteger(credits) || credits < 0) throw new Error(`--credits must be a non-negative integer, got "${values.credits}"`);

  const config = loadConfig();
  const database = await openDatabase(config, { logger: createLogger({ level: 'warn' }) });
  try {
    const account = await createAccount(database.prisma, { email: values.email, emailVerified: true });
    if (credits > 0) {
      await database.prisma.$transaction((tx) =>
        creditWallet(tx, { accountId: account.id, kind: 'adjustment', balance: credits, bonus: 0, idempotencyKey: `cli:create-account:${account.id}`, reference: 'create-local-account' }),
      );
    }
    const key = await createApiKey(database.prisma, { accountId: account.id, name: values['key-name'], scopes: API_KEY_SCOPES });

    console.log(`Account:   ${account.email} (${account.id})`);
    console.log(`Credits:   ${credits}`);
    console.log(`API key:   ${key.key}`);
    console.log(`Webhook signing secret: ${account.webhookSecret}`);
    console.log('The API key is shown only now; store it somewhere safe.');
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
