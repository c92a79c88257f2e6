import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import sharp from 'sharp';
import { createProviderRegistry, DEFAULT_PROVIDERS_CONFIG } from '../../activities/providers/registry';
import { createAccount } from '../../lib/accounts';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import type { Services } from '../../lib/services';
import { S3Storage } from '../../lib/storage/s3';
import { createTaskService } from '../../lib/tasks';
import { storeReferenceUpload } from '../../lib/uploads';
import { creditWallet } from '../../lib/wallet';
import { createTaskWorker } from '../../temporal/task-worker';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestBucket } from '../support/s3-server';
import { createTimeSkippingEnvironment } from '../support/time-skipping';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let env: TestWorkflowEnvironment;
let database: TestDatabase;
let storage: S3Storage;
let worker: Worker;
let workerRun: Promise<void>;
let services: Services;
let accountId: string;

beforeAll(async () => {
  env = await createTimeSkippingEnvironment();
  database = await createTestDatabase();
  const bucket = await createTestBucket();
  storage = new S3Storage(bucket);

  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    TEMPORAL_TASK_QUEUE: `retention-${randomBytes(4).toString('hex')}`,
    RESULT_RETENTION: '2d',
    REFERENCE_RETENTION: '24h',
  });
  services = {
    config,
    logger: createLogger({ level: 'silent' }),
    secrets: { sessionSecret: 'x'.repeat(32), storageSigningSecret: 'unused' },
    database: { prisma: database.prisma, kind: 'postgres', close: async () => {} } as Services['database'],
    storage,
    providers: createProviderRegistry(DEFAULT_PROVIDERS_CONFIG),
    temporal: env.client,
    close: async () => {},
  };
  worker = await createTaskWorker(services, env.nativeConnection, { taskQueue: config.TEMPORAL_TASK_QUEUE, schedules: false });
  workerRun = worker.run();

  const account = await createAccount(database.prisma, { email: 'retention@example.test' });
  await database.prisma.$transaction((tx) => creditWallet(tx, { accountId: account.id, kind: 'recharge', balance: 100, bonus: 0, idempotencyKey: 'seed' }));
  accountId = account.id;
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  storage?.close();
  await database?.drop();
});


test('results are deleted after two days and not before', async () => {
  const tasks = createTaskService({ prisma: database.prisma, temporal: env.client, providers: services.providers, config: services.config, logger: services.logger });
  const { task } = await tasks.create({ accountId }, { prompt: 'retention check', model: 'novart-basic', size: '256x256' });
  await waitFor(async () => (await database.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).status === 'succeeded');
  const asset = await database.prisma.taskAsset.findFirstOrThrow({ where: { taskId: task.id } });

  await env.sleep(2 * DAY - 5 * MINUTE);
  const keptBeforeExpiry = await storage.exists(asset.objectKey);
  await env.sleep(10 * MINUTE);
  await waitFor(async () => (await database.prisma.taskAsset.findUniqueOrThrow({ where: { id: asset.id } })).deletedAt !== null);

  expect(keptBeforeExpiry).toBe(true);
  expect(await storage.exists(asset.objectKey)).toBe(false);
  expect(await storage.exists(asset.previewKey)).toBe(false);
  expect((await database.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).status).toBe('expired');
  expect(await database.prisma.ledgerEntry.count({ where: { taskId: task.id } })).toBe(1);
});

test('reference uploads are deleted after 24 hours and not before', async () => {
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#884422' } }).png().toBuffer();
  const upload = await storeReferenceUpload({ prisma: database.prisma, storage, temporal: env.client, config: services.config }, accountId, png);

  await env.sleep(24 * HOUR - 5 * MINUTE);
  const keptBeforeExpiry = await storage.exists(upload.objectKey);
  await env.sleep(10 * MINUTE);
  await waitFor(async () => (await database.prisma.referenceUpload.findUniqueOrThrow({ where: { id: upload.id } })).deletedAt !== null);

  expect(keptBeforeExpiry).toBe(true);
  expect(await storage.exists(upload.objectKey)).toBe(false);
});
