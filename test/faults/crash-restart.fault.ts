import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startProduct, TEST_MODEL, type ProductHarness } from '../support/product';
import type { ScriptedResponse } from '../support/fake-upstream';
import { startWebhookReceiver, type ReceiverStep, type WebhookReceiver } from '../support/webhook-receiver';
import { isRunning, startFaultServices, type FaultServices } from './services';

/**
 * Fault runs: tasks go through the whole product while the worker is killed
 * with SIGKILL, and while Temporal and PostgreSQL restart. Afterwards the
 * money, webhook and storage invariants must hold for every task.
 */

const ROOT_DIR = path.resolve(__dirname, '..', '..');
const TASK_COUNT = Number(process.env.FAULT_TASKS ?? 200);
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const SETTLE_TIMEOUT_MS = 8 * 60_000;
const FINAL_STATUSES = ['expired', 'failed', 'canceled'];

let services: FaultServices;
const workerPids: number[] = [];

beforeAll(async () => {
  services = await startFaultServices();
  Object.assign(process.env, services.env);
});

afterAll(async () => {
  await services?.stop();
});

test('200 tasks survive repeated SIGKILL of the worker', async () => {
  const run = await startRun(`kill-${SEED}`);

  try {
    const faults = (async () => {
      while (run.kills < 10 || !run.submitted) {
        await sleep(2_000 + run.random() * 5_000);
        await run.killWorker();
      }
    })();
    await run.submitAll(40_000);
    await faults;
    await run.settle();

    const counts = await run.check();
    expect(counts.kills).toBeGreaterThanOrEqual(10);
  } finally {
    await run.close();
  }
});

test('200 tasks survive a Temporal restart and a PostgreSQL restart', async () => {
  const run = await startRun(`restart-${SEED}`);

  try {
    await run.submitAll(10_000);
    await sleep(2_000);
    await services.restartTemporal();
    run.restarts.push('temporal');
    await sleep(5_000);
    await services.restartPostgres();
    run.restarts.push('postgres');
    await run.settle();

    const counts = await run.check();
    expect(counts.restarts).toBe('temporal, postgres');
  } finally {
    await run.close();
  }
});

test('no process is left running', async () => {
  await services.stop();

  const running = [...services.pids(), ...workerPids].filter(isRunning);

  expect(running).toEqual([]);
});

interface Run {
  random(): number;
  kills: number;
  restarts: string[];
  submitted: boolean;
  submitAll(spreadMs: number): Promise<void>;
  killWorker(): Promise<void>;
  settle(): Promise<void>;
  check(): Promise<Record<string, number | string>>;
  close(): Promise<void>;
}

async function startRun(name: string): Promise<Run> {
  const random = mulberry32(hash(name));
  const receiver = await startWebhookReceiver({ script: receiverScript(random, TASK_COUNT * 2) });
  const product = await startProduct({
    withoutWorker: true,
    credits: 10_000_000,
    upstream: { latencyMs: 300, concurrency: 20 },
    env: { RESULT_RETENTION: '20s', UPSTREAM_INITIAL_BACKOFF: '200ms', UPSTREAM_MAX_ATTEMPTS: '4', WEBHOOK_TIMEOUT: '1s' },
  });
  product.upstream.script('generations', upstreamScript(random, TASK_COUNT * 2));

  const taskIds: string[] = [];
  let worker = startWorker(product);
  let stopping = false;
  const state = { kills: 0, submitted: false };
  const restarts: string[] = [];

  // A worker that exits on its own (for example after losing its server) is started again, as a supervisor would.
  const supervise = (child: ChildProcess) => {
    child.once('exit', () => {
      if (!stopping && worker === child) {
        worker = startWorker(product);
        supervise(worker);
      }
    });
  };
  supervise(worker);

  return {
    random,
    get kills() {
      return state.kills;
    },
    restarts,
    get submitted() {
      return state.submitted;
    },

    async submitAll(spreadMs) {
      for (let index = 0; index < TASK_COUNT; index++) {
        const id = await submit(product, receiver, `${name}-${index}`);
        taskIds.push(id);
        if (random() < 0.05) await product.request('POST', `/v1/tasks/${id}/cancel`);
        await sleep(spreadMs / TASK_COUNT);
      }
      state.submitted = true;
    },

    async killWorker() {
      const victim = worker;
      worker = startWorker(product);
      supervise(worker);
      victim.kill('SIGKILL');
      if (victim.exitCode === null && victim.signalCode === null) await new Promise((resolve) => victim.once('exit', resolve));
      state.kills += 1;
    },

    async settle() {
      await waitFor(async () => {
        const open = await product.prisma.task.count({ where: { id: { in: taskIds }, status: { notIn: FINAL_STATUSES as never } } });
        const pending = await product.prisma.webhookDelivery.count({ where: { taskId: { in: taskIds }, status: 'pending' } });
        return open === 0 && pending === 0;
      }, SETTLE_TIMEOUT_MS);
    },

    async check() {
      const counts = await checkInvariants(product, receiver, taskIds);
      const table = { run: name, seed: SEED, tasks: taskIds.length, kills: state.kills, restarts: restarts.join(', ') || '-', ...counts };
      process.stdout.write(`\n${formatTable(table)}\n`);
      return table;
    },

    async close() {
      stopping = true;
      await stopWorker(worker);
      await receiver.close();
      await product.close();
    },
  };
}

/** Creates one task, retrying with the same Idempotency-Key while the product returns 5xx or does not respond. */
async function submit(product: ProductHarness, receiver: WebhookReceiver, key: string): Promise<string> {
  const body = { prompt: `fault run ${key}`, model: TEST_MODEL, size: '256x256', webhookUrl: `${receiver.url}/hooks` };
  const deadline = Date.now() + 120_000;
  for (;;) {
    const response = await product.request('POST', '/v1/tasks', { body, headers: { 'idempotency-key': key } }).catch(() => undefined);
    if (response && response.status < 300) return response.body.id as string;
    if (response && response.status < 500) throw new Error(`task ${key} was rejected with ${response.status}: ${JSON.stringify(response.body)}`);
    if (Date.now() > deadline) throw new Error(`task ${key} could not be submitted`);
    await sleep(1_000);
  }
}

/** Checks every invariant, asserting each one, and returns the counts for the table. */
async function checkInvariants(product: ProductHarness, receiver: WebhookReceiver, taskIds: string[]) {
  const tasks = await product.prisma.task.findMany({ where: { id: { in: taskIds } }, include: { ledgerEntries: true, assets: true, webhookDeliveries: true } });
  const wallets = await product.prisma.wallet.findMany();
  const sums = await product.prisma.ledgerEntry.groupBy({ by: ['accountId'], _sum: { balanceDelta: true, bonusDelta: true } });
  const sumsByAccount = new Map(sums.map((sum) => [sum.accountId, sum._sum]));

  const notTerminal = tasks.filter((task) => !FINAL_STATUSES.includes(task.status));
  const walletMismatches = wallets.filter((wallet) => {
    const sum = sumsByAccount.get(wallet.accountId);
    return wallet.balance !== (sum?.balanceDelta ?? 0) || wallet.bonus !== (sum?.bonusDelta ?? 0);
  });
  const succeeded = tasks.filter((task) => task.status === 'expired');
  const unsuccessful = tasks.filter((task) => task.status === 'failed' || task.status === 'canceled');
  const badSucceeded = succeeded.filter((task) => kindCount(task, 'debit') !== 1 || kindCount(task, 'refund') !== 0);
  const badUnsuccessful = unsuccessful.filter((task) => {
    const debits = task.ledgerEntries.filter((entry) => entry.kind === 'debit');
    const refunds = task.ledgerEntries.filter((entry) => entry.kind === 'refund');
    if (debits.length === 0 && refunds.length === 0) return false;
    return debits.length !== 1 || refunds.length !== 1 || amount(refunds[0]!) !== -amount(debits[0]!);
  });

  const webhookIdsByTask = new Map<string, Set<string>>();
  for (const request of receiver.requests) {
    const taskId = (JSON.parse(request.body.toString('utf8')) as { data: { id: string } }).data.id;
    const ids = webhookIdsByTask.get(taskId) ?? new Set<string>();
    ids.add(String(request.headers['webhook-id']));
    webhookIdsByTask.set(taskId, ids);
  }
  const webhookProblems = tasks.filter((task) => {
    const ids = webhookIdsByTask.get(task.id);
    return task.webhookDeliveries.length !== 1 || ids?.size !== 1 || !ids.has(task.webhookDeliveries[0]!.id);
  });

  const expiredAssets = tasks.flatMap((task) => task.assets.filter((asset) => asset.deletedAt !== null || task.status === 'expired'));
  let objectsLeft = 0;
  for (const asset of expiredAssets) {
    if (await product.storage.exists(asset.objectKey)) objectsLeft += 1;
    if (await product.storage.exists(asset.previewKey)) objectsLeft += 1;
  }

  expect(notTerminal.map((task) => `${task.id} ${task.status}`)).toEqual([]);
  expect(walletMismatches.map((wallet) => wallet.accountId)).toEqual([]);
  expect(badSucceeded.map((task) => task.id)).toEqual([]);
  expect(badUnsuccessful.map((task) => task.id)).toEqual([]);
  expect(webhookProblems.map((task) => task.id)).toEqual([]);
  expect(objectsLeft).toBe(0);

  return {
    succeeded: succeeded.length,
    failed: tasks.filter((task) => task.status === 'failed').length,
    canceled: tasks.filter((task) => task.status === 'canceled').length,
    'not terminal': notTerminal.length,
    debits: tasks.reduce((total, task) => total + kindCount(task, 'debit'), 0),
    refunds: tasks.reduce((total, task) => total + kindCount(task, 'refund'), 0),
    'wallet mismatches': walletMismatches.length,
    'succeeded with refund or not one debit': badSucceeded.length,
    'failed without matching refund': badUnsuccessful.length,
    'webhook requests': receiver.requests.length,
    'webhook ids': [...webhookIdsByTask.values()].reduce((total, ids) => total + ids.size, 0),
    'tasks with webhook problems': webhookProblems.length,
    'expired assets': expiredAssets.length,
    'objects left for expired assets': objectsLeft,
  };
}

function kindCount(task: { ledgerEntries: Array<{ kind: string }> }, kind: string): number {
  return task.ledgerEntries.filter((entry) => entry.kind === kind).length;
}

function amount(entry: { balanceDelta: number; bonusDelta: number }): number {
  return entry.balanceDelta + entry.bonusDelta;
}

/** Starts `scripts/worker.ts` directly under node, so SIGKILL reaches the worker itself. */
function startWorker(product: ProductHarness): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    cwd: ROOT_DIR,
    env: { ...process.env, ...product.env, LOG_LEVEL: 'silent', NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  workerPids.push(child.pid!);
  return child;
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 40_000);
  await exited;
  clearTimeout(forced);
}

/** Transient failures (503, reset connection) for about a fifth of calls, and content-policy refusals for a twentieth. */
function upstreamScript(random: () => number, length: number): ScriptedResponse[] {
  return Array.from({ length }, () => {
    const draw = random();
    if (draw < 0.14) return 503;
    if (draw < 0.2) return 'reset';
    if (draw < 0.25) return 'content-policy';
    return 200;
  });
}

/** 5xx for about a fifth of webhook requests and a response slower than the 1 s timeout for a tenth. */
function receiverScript(random: () => number, length: number): ReceiverStep[] {
  return Array.from({ length }, () => {
    const draw = random();
    if (draw < 0.2) return 503;
    if (draw < 0.3) return { status: 200, delayMs: 2_000 };
    return 200;
  });
}

function formatTable(row: Record<string, number | string>): string {
  const width = Math.max(...Object.keys(row).map((key) => key.length));
  return Object.entries(row)
    .map(([key, value]) => `| ${key.padEnd(width)} | ${String(value).padStart(8)} |`)
    .join('\n');
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A query may fail while PostgreSQL restarts, which is not a result yet.
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`not settled within ${timeoutMs / 1000} s`);
    await sleep(1_000);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hash(text: string): number {
  let value = 2_166_136_261;
  for (const char of text) value = Math.imul(value ^ char.charCodeAt(0), 16_777_619);
  return value >>> 0;
}

/** A small seeded generator, so a failing run can be repeated with FAULT_SEED. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}
