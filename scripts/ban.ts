import { parseArgs } from 'node:util';
import { banAccount, unbanAccount } from '../lib/auth/bans';
import { loadConfig } from '../lib/config';
import { openDatabase } from '../lib/db/client';
import { createLogger } from '../lib/logger';

const USAGE = `Usage: npm run account:ban -- --email user@example.com --reason "why"
       npm run account:ban -- --email user@example.com --unban [--reason "why"]

Bans an account (it can no longer sign in or use its API keys, and its
sessions end) or lifts the ban. Each change is written to the audit log with
the reason and no actor, which marks the operator's command line.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      reason: { type: 'string', default: '' },
      unban: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.email || (!values.unban && !values.reason.trim())) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }

  const config = loadConfig();
  const database = await openDatabase(config, { logger: createLogger({ level: 'warn' }) });
  try {
    const account = await database.prisma.account.findUnique({ where: { email: values.email.trim().toLowerCase() } });
    if (!account) throw new Error(`No account with the e-mail address ${values.email}`);

    const input = { accountId: account.id, reason: values.reason, actorId: null };
    if (values.unban) {
      await unbanAccount(database.prisma, input);
      console.log(`Unbanned ${account.email} (${account.id}).`);
    } else {
      await banAccount(database.prisma, input);
      console.log(`Banned ${account.email} (${account.id}): ${values.reason.trim()}`);
    }
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
