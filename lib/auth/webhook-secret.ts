import type { Account, PrismaClient } from '../../prisma/generated/client';
import { writeAudit } from '../audit';
import { generateWebhookSecret } from '../webhooks/signing';

export interface WebhookSecretView {
  secret: string;
  /** Until then, deliveries also carry a signature made with the previous secret. */
  previousSecretExpiresAt: string | null;
}

export function viewWebhookSecret(account: Pick<Account, 'webhookSecret' | 'previousWebhookSecret' | 'previousWebhookSecretExpiresAt'>): WebhookSecretView {
  const stillValid = account.previousWebhookSecret && account.previousWebhookSecretExpiresAt && account.previousWebhookSecretExpiresAt > new Date();
  return { secret: account.webhookSecret, previousSecretExpiresAt: stillValid ? account.previousWebhookSecretExpiresAt!.toISOString() : null };
}

/** Replaces the secret; the old one keeps signing deliveries for `graceMs`, so receivers can switch without losing any. */
export async function rotateWebhookSecret(prisma: PrismaClient, accountId: string, graceMs: number): Promise<WebhookSecretView> {
  return prisma.$transaction(async (tx) => {
    const current = await tx.account.findUniqueOrThrow({ where: { id: accountId } });
    const updated = await tx.account.update({
      where: { id: accountId },
      data: {
        webhookSecret: generateWebhookSecret(),
        previousWebhookSecret: current.webhookSecret,
        previousWebhookSecretExpiresAt: new Date(Date.now() + graceMs),
      },
    });
    await writeAudit(tx, { actorId: accountId, action: 'webhook_secret.rotated', targetAccountId: accountId });
    return viewWebhookSecret(updated);
  });
}

/** Returns the secrets that sign a delivery now: the current one, and the previous one during its grace period. */
export function webhookSigningSecrets(
  account: Pick<Account, 'webhookSecret' | 'previousWebhookSecret' | 'previousWebhookSecretExpiresAt'>,
  now = new Date(),
): string[] {
  const previousValid = account.previousWebhookSecret && account.previousWebhookSecretExpiresAt && account.previousWebhookSecretExpiresAt > now;
  return previousValid ? [account.webhookSecret, account.previousWebhookSecret!] : [account.webhookSecret];
}
