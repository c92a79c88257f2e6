import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { Prisma, type PrismaClient } from '../prisma/generated/client';
import type { reconciliation } from '../workflows/reconciliation';

/**
 * Reconciliation checks that money adds up and reports what does not. It never
 * changes a wallet or the ledger. Two checks:
 * - every wallet's buckets equal the sums of its ledger rows;
 * - every finished task pairs its debit and refund: succeeded (or expired) has
 *   one debit of its price and no refund; failed or canceled has either nothing
 *   or one debit and one refund that returns it exactly.
 */

export type FindingKind =
  | 'wallet_ledger_mismatch'
  | 'task_debit_missing'
  | 'task_debit_duplicated'
  | 'task_debit_amount'
  | 'task_refund_unexpected'
  | 'task_refund_missing'
  | 'task_refund_amount';

export interface Finding {
  kind: FindingKind;
  accountId: string | null;
  taskId: string | null;
  details: Prisma.InputJsonObject;
}

export interface ReconciliationSummary {
  runId: string;
  walletsChecked: number;
  tasksChecked: number;
  findingCount: number;
}

interface WalletRow {
  account_id: string;
  balance: number;
  bonus: number;
  ledger_balance: number;
  ledger_bonus: number;
}

interface TaskRow {
  id: string;
  account_id: string;
  status: string;
  price: number;
  debits: number;
  refunds: number;
  debited: number;
  refunded: number;
}

/**
 * Runs both checks on one snapshot and records the run, its findings and a
 * message to every admin in one transaction. Idempotent per `runId`: a retried
 * activity returns the recorded run.
 */
export async function reconcile(prisma: PrismaClient, runId: string): Promise<ReconciliationSummary> {
  const recorded = await prisma.reconciliationRun.findUnique({ where: { id: runId } });
  if (recorded?.finishedAt) return summaryOf(recorded);

  // REPEATABLE READ gives one snapshot: a change committed mid-run cannot look like a mismatch.
  return prisma.$transaction(
    async (tx) => {
      const startedAt = new Date();
      const wallets = await tx.$queryRaw<WalletRow[]>`
        SELECT w.account_id, w.balance, w.bonus,
               COALESCE(SUM(l.balance_delta), 0)::int AS ledger_balance,
               COALESCE(SUM(l.bonus_delta), 0)::int AS ledger_bonus
        FROM wallets w LEFT JOIN ledger_entries l ON l.account_id = w.account_id
        GROUP BY w.account_id`;
      const tasks = await tx.$queryRaw<TaskRow[]>`
        SELECT t.id, t.account_id, t.status::text AS status, t.price,
               COUNT(l.id) FILTER (WHERE l.kind = 'debit')::int AS debits,
               COUNT(l.id) FILTER (WHERE l.kind = 'refund')::int AS refunds,
               COALESCE(-SUM(l.balance_delta + l.bonus_delta) FILTER (WHERE l.kind = 'debit'), 0)::int AS debited,
               COALESCE(SUM(l.balance_delta + l.bonus_delta) FILTER (WHERE l.kind = 'refund'), 0)::int AS refunded
        FROM tasks t LEFT JOIN ledger_entries l ON l.task_id = t.id
        WHERE t.status IN ('succeeded', 'expired', 'failed', 'canceled')
        GROUP BY t.id`;

      const findings = [...wallets.flatMap(checkWallet), ...tasks.flatMap(checkTask)];
      const run = await tx.reconciliationRun.upsert({
        where: { id: runId },
        create: { id: runId, startedAt, finishedAt: new Date(), walletsChecked: wallets.length, tasksChecked: tasks.length, findingCount: findings.length },
        update: { finishedAt: new Date(), walletsChecked: wallets.length, tasksChecked: tasks.length, findingCount: findings.length },
      });
      await tx.reconciliationFinding.createMany({ data: findings.map((finding) => ({ runId, ...finding })) });

      if (findings.length > 0) {
        const admins = await tx.account.findMany({ where: { role: 'admin', anonymizedAt: null }, select: { id: true } });
        await tx.message.createMany({
          data: admins.map((admin) => ({
            accountId: admin.id,
            kind: 'reconciliation.findings',
            params: { runId, findingCount: findings.length, kinds: [...new Set(findings.map((finding) => finding.kind))] },
            idempotencyKey: `reconciliation:${runId}:${admin.id}`,
          })),
          skipDuplicates: true,
        });
      }
      return summaryOf(run);
    },
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, timeout: 10 * 60_000, maxWait: 60_000 },
  );
}

function checkWallet(row: WalletRow): Finding[] {
  if (row.balance === row.ledger_balance && row.bonus === row.ledger_bonus) return [];
  return [
    {
      kind: 'wallet_ledger_mismatch',
      accountId: row.account_id,
      taskId: null,
      details: { balance: row.balance, bonus: row.bonus, ledgerBalance: row.ledger_balance, ledgerBonus: row.ledger_bonus },
    },
  ];
}

function checkTask(row: TaskRow): Finding[] {
  const finding = (kind: FindingKind): Finding => ({
    kind,
    accountId: row.account_id,
    taskId: row.id,
    details: { status: row.status, price: row.price, debits: row.debits, refunds: row.refunds, debited: row.debited, refunded: row.refunded },
  });

  if (row.debits > 1) return [finding('task_debit_duplicated')];
  const succeeded = row.status === 'succeeded' || row.status === 'expired';
  if (succeeded) {
    if (row.debits === 0) return [finding('task_debit_missing')];
    if (row.refunds > 0) return [finding('task_refund_unexpected')];
    return row.debited === row.price ? [] : [finding('task_debit_amount')];
  }

  if (row.debits === 0) return row.refunds > 0 ? [finding('task_refund_unexpected')] : [];
  if (row.refunds === 0) return [finding('task_refund_missing')];
  return row.refunds === 1 && row.refunded === row.debited ? [] : [finding('task_refund_amount')];
}

function summaryOf(run: { id: string; walletsChecked: number; tasksChecked: number; findingCount: number }): ReconciliationSummary {
  return { runId: run.id, walletsChecked: run.walletsChecked, tasksChecked: run.tasksChecked, findingCount: run.findingCount };
}

/** One schedule per task queue, so that installations (and test runs) sharing a Temporal server stay apart. */
export function reconciliationScheduleId(taskQueue: string): string {
  return `wallet-reconciliation-${taskQueue}`;
}

/**
 * Creates the reconciliation schedule, or updates it to the configured cron
 * expression when it exists; `off` deletes it. Called at every worker start.
 */
export async function ensureReconciliationSchedule(client: Client, options: { cron: string; taskQueue: string }): Promise<void> {
  const scheduleId = reconciliationScheduleId(options.taskQueue);
  const handle = client.schedule.getHandle(scheduleId);
  if (options.cron.trim().toLowerCase() === 'off') {
    await handle.delete().catch(() => undefined);
    return;
  }

  const spec = { cronExpressions: [options.cron] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconciliation' as const,
    workflowId: `reconciliation-${options.taskQueue}`,
    taskQueue: options.taskQueue,
    args: [] as Parameters<typeof reconciliation>,
  };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await handle.update((previous) => ({ ...previous, spec, action }));
  }
}

/** Starts the reconciliation now, outside the schedule (which may be off), and returns the workflow handle. */
export async function triggerReconciliation(client: Client, taskQueue: string) {
  return client.workflow.start<typeof reconciliation>('reconciliation', {
    workflowId: `reconciliation-${taskQueue}-manual-${Date.now()}`,
    taskQueue,
    args: [],
  });
}
