import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../../lib/logger';
import { createTaskService } from '../../lib/tasks';
import { createProviderRegistry, parseProvidersConfig } from '../../activities/providers/registry';
import { defaultTestProviders, findFreePort, startProduct, TEST_MODEL, type ProductHarness } from '../support/product';

jest.setTimeout(120_000);

let product: ProductHarness;

beforeAll(async () => {
  product = await startProduct();
});

afterAll(async () => {
  await product?.close();
});

test('task created while Temporal is down runs once it is back', async () => {
  const providers = createProviderRegistry(parseProvidersConfig(defaultTestProviders(product.upstream.url)));
  const unreachable = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await findFreePort()}`, connectTimeout: 500 }) });
  const logger = createLogger({ level: 'silent' });
  const duringOutage = createTaskService({ prisma: product.prisma, temporal: unreachable, providers, config: product.config, logger });
  const afterOutage = createTaskService({ prisma: product.prisma, temporal: product.temporal, providers, config: product.config, logger });

  const { task, created } = await duringOutage.create({ accountId: product.account.id }, { prompt: 'outage', model: TEST_MODEL, size: '256x256' });
  const queued = await product.prisma.task.findUniqueOrThrow({ where: { id: task.id } });
  const started = await afterOutage.startPendingTasks(0);
  const finished = await product.waitForTask(task.id, ['succeeded', 'failed']);

  expect(created).toBe(true);
  expect(queued.status).toBe('queued');
  expect(started).toBeGreaterThanOrEqual(1);
  expect(finished.status).toBe('succeeded');
  expect((await product.prisma.ledgerEntry.findMany({ where: { taskId: task.id } })).map((entry) => entry.kind)).toEqual(['debit']);
});
