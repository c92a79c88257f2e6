import { Router, type Request } from 'express';
import { stringify } from 'csv-stringify';
import { z } from 'zod';
import { resolveSize } from '../../activities/providers/sizes';
import type { ProviderRegistry } from '../../activities/providers/registry';
import type { Config } from '../../lib/config';
import { AppError } from '../../lib/errors';
import { redeemCode, redemptionSettings } from '../../lib/redemption';
import { referralSummary } from '../../lib/referrals';
import type { LedgerEntry, Prisma, PrismaClient } from '../../prisma/generated/client';
import { requireScope } from '../v1/auth';

export interface WalletRouterDependencies {
  prisma: PrismaClient;
  providers: ProviderRegistry;
  config: Pick<
    Config,
    'LOW_BALANCE_THRESHOLD' | 'REDEMPTION_MAX_FAILURES' | 'REDEMPTION_FAILURE_WINDOW' | 'REFERRAL_INVITER_REWARD' | 'publicUrl'
  >;
}

const LEDGER_KINDS = ['recharge', 'redemption', 'debit', 'refund', 'bonus', 'referral_reward', 'adjustment'] as const;
const CSV_PAGE_SIZE = 500;

/**
 * Builds the wallet routes of the authenticated principal: summary, ledger
 * (paged and as CSV), redemption, referral and price quotes. Like the resource
 * router it does not authenticate, so the router that mounts it must set
 * `request.principal`.
 */
export function walletRouter(deps: WalletRouterDependencies): Router {
  const { prisma, providers, config } = deps;
  const router = Router();

  router.get('/wallet', requireScope('wallet:read'), async (request, response) => {
    const wallet = await prisma.wallet.findUnique({ where: { accountId: accountOf(request) } });
    const balance = wallet?.balance ?? 0;
    const bonus = wallet?.bonus ?? 0;
    response.json({
      balance,
      bonus,
      total: balance + bonus,
      lowBalanceThreshold: config.LOW_BALANCE_THRESHOLD,
      lowBalance: balance + bonus < config.LOW_BALANCE_THRESHOLD,
      updatedAt: wallet?.updatedAt.toISOString() ?? null,
    });
  });

  router.get('/wallet/ledger', requireScope('wallet:read'), async (request, response) => {
    const query = ledgerQuerySchema.parse(request.query);
    const where = ledgerWhere(accountOf(request), query);
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;

    const entries = await prisma.ledgerEntry.findMany({
      where: cursor ? { AND: [where, afterCursor(cursor)] } : where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = entries.slice(0, query.limit);
    const last = page.at(-1);
    response.json({ data: page.map(serializeEntry), nextCursor: entries.length > query.limit && last ? encodeCursor(last) : null });
  });

  router.get('/wallet/ledger.csv', requireScope('wallet:read'), async (request, response) => {
    const query = ledgerQuerySchema.parse(request.query);
    const where = ledgerWhere(accountOf(request), query);

    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="novart-ledger-${new Date().toISOString().slice(0, 10)}.csv"`);
    const csv = stringify({ header: true, columns: ['id', 'created_at', 'kind', 'balance_delta', 'bonus_delta', 'balance_after', 'bonus_after', 'task_id', 'reference'] });
    csv.pipe(response);

    // Pages through the ledger by cursor, so a long history never sits in memory at once.
    let cursor: LedgerCursor | undefined;
    for (;;) {
      const entries: LedgerEntry[] = await prisma.ledgerEntry.findMany({
        where: cursor ? { AND: [where, afterCursor(cursor)] } : where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: CSV_PAGE_SIZE,
      });
      for (const entry of entries) {
        csv.write([entry.id, entry.createdAt.toISOString(), entry.kind, entry.balanceDelta, entry.bonusDelta, entry.balanceAfter, entry.bonusAfter, entry.taskId ?? '', entry.reference ?? '']);
      }
      const last = entries.at(-1);
      if (entries.length < CSV_PAGE_SIZE || !last) break;
      cursor = { createdAt: last.createdAt, id: last.id };
    }
    csv.end();
  });

  router.post('/wallet/redeem', requireScope('wallet:write'), async (request, response) => {
    const { code } = redeemSchema.parse(request.body ?? {});
    const { change, batch } = await redeemCode(prisma, { accountId: accountOf(request), code, ip: request.ip }, redemptionSettings(config));
    response.json({
      credited: { balance: batch.faceValue, bonus: batch.bonus },
      balance: change.balanceAfter,
      bonus: change.bonusAfter,
      ledgerEntryId: change.ledgerEntryId,
    });
  });

  router.get('/wallet/referral', requireScope('wallet:read'), async (request, response) => {
    response.json(await referralSummary(prisma, accountOf(request), config.publicUrl));
  });

  router.get('/wallet/prices', requireScope('wallet:read'), (_request, response) => {
    response.json({
      data: providers.models().map((model) => ({
        model: model.id,
        label: model.label,
        defaultUnitPrice: model.defaultUnitPrice ?? null,
        prices: model.prices ?? [],
      })),
    });
  });

  router.get('/wallet/quote', requireScope('wallet:read'), async (request, response) => {
    const query = quoteQuerySchema.parse(request.query);
    const size = resolveSize({ size: query.size, aspectRatio: query.aspectRatio });
    const unitPrice = providers.unitPrice(query.model, size);
    const total = unitPrice * query.imageCount;
    const wallet = await prisma.wallet.findUnique({ where: { accountId: accountOf(request) } });
    const available = (wallet?.balance ?? 0) + (wallet?.bonus ?? 0);

    response.json({ model: query.model, width: size.width, height: size.height, imageCount: query.imageCount, unitPrice, total, available, affordable: available >= total });
  });

  return router;
}

const ledgerQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
  kind: z
    .string()
    .optional()
    .transform((text) => (text ? text.split(',').map((kind) => kind.trim()) : undefined))
    .pipe(z.array(z.enum(LEDGER_KINDS)).optional()),
  taskId: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

const redeemSchema = z.object({ code: z.string().min(1).max(100) });

const quoteQuerySchema = z.object({
  model: z.string().min(1).max(100),
  size: z.string().max(20).optional(),
  aspectRatio: z.string().max(20).optional(),
  imageCount: z.coerce.number().int().min(1).max(4).default(1),
});

function ledgerWhere(accountId: string, query: z.output<typeof ledgerQuerySchema>): Prisma.LedgerEntryWhereInput {
  return {
    accountId,
    ...(query.kind ? { kind: { in: query.kind } } : {}),
    ...(query.taskId ? { taskId: query.taskId } : {}),
    ...(query.from || query.to
      ? { createdAt: { ...(query.from ? { gte: new Date(query.from) } : {}), ...(query.to ? { lt: new Date(query.to) } : {}) } }
      : {}),
  };
}

interface LedgerCursor {
  createdAt: Date;
  id: string;
}

// Newest first: the next page contains rows older than the cursor, ties broken by id.
function afterCursor(cursor: LedgerCursor): Prisma.LedgerEntryWhereInput {
  return { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] };
}

function encodeCursor(entry: LedgerCursor): string {
  return Buffer.from(`${entry.createdAt.toISOString()}|${entry.id}`).toString('base64url');
}

function decodeCursor(text: string): LedgerCursor {
  const [date, id] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(date ?? '');
  if (Number.isNaN(createdAt.getTime()) || !z.uuid().safeParse(id).success) {
    throw new AppError('VALIDATION_FAILED', 'Invalid cursor', { field: 'cursor' });
  }
  return { createdAt, id: id! };
}

function serializeEntry(entry: LedgerEntry) {
  return {
    id: entry.id,
    kind: entry.kind,
    balanceDelta: entry.balanceDelta,
    bonusDelta: entry.bonusDelta,
    balanceAfter: entry.balanceAfter,
    bonusAfter: entry.bonusAfter,
    taskId: entry.taskId,
    reference: entry.reference,
    createdAt: entry.createdAt.toISOString(),
  };
}

function accountOf(request: Request): string {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'Authentication required');
  return request.principal.accountId;
}
