import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startProduct, TEST_MODEL, type ProductHarness } from '../support/product';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const ROOT_DIR = path.resolve(__dirname, '..', '..');

let product: ProductHarness;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  product = await startProduct({ withoutWorker: true, upstream: { latencyMs: 4_000 } });
});

afterAll(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await product?.close();
});

/** Starts `scripts/worker.ts` as its own process, without a wrapper, so SIGKILL reaches the worker itself. */
function startWorkerProcess(): ChildProcess {
  const worker = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    cwd: ROOT_DIR,
    env: { ...process.env, ...product.env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  workers.push(worker);
  return worker;
}


test('task survives SIGKILL of the worker during the upstream call', async () => {
  const first = startWorkerProcess();
  const created = await product.request('POST', '/v1/tasks', { body: { prompt: 'crash test', model: TEST_MODEL, size: '256x256' } });
  await waitFor(() => product.upstream.stats.active > 0, 90_000);

  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  startWorkerProcess();
  const task = await product.waitForTask(created.body.id, ['succeeded', 'failed', 'canceled'], 150_000);

  const ledger = await product.prisma.ledgerEntry.findMany({ where: { taskId: task.id } });
  expect(task.status).toBe('succeeded');
  expect(ledger.filter((entry) => entry.kind === 'debit')).toHaveLength(1);
  expect(ledger.filter((entry) => entry.kind === 'refund').length).toBeLessThanOrEqual(1);
  expect(task.assets).toHaveLength(1);
});
