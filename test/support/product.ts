import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createProviderRegistry, parseProvidersConfig, type ProvidersConfig } from '../../activities/providers/registry';
import { buildApi } from '../../api/server';
import { createAccount } from '../../lib/accounts';
import { API_KEY_SCOPES, createApiKey, type ApiKeyScope } from '../../lib/api-keys';
import { loadConfig, type Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import type { Services } from '../../lib/services';
import { S3Storage } from '../../lib/storage/s3';
import { creditWallet } from '../../lib/wallet';
import type { PrismaClient } from '../../prisma/generated/client';
import { createTaskWorker } from '../../temporal/task-worker';
import { installRuntimeLogger } from '../../temporal/worker';
import { createTestDatabase, type TestDatabase } from './database';
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from './fake-upstream';
import { createTestBucket } from './s3-server';

/**
 * The whole product on real services, for end-to-end tests: a fresh database,
 * a fresh bucket on the S3 server, a worker on its own task queue of the shared
 * Temporal server, the API on a free port, a fake upstream and one account
 * with credits and an API key.
 */
export interface ProductHarness {
  baseUrl: string;
  config: Config;
  /** The environment the product was configured from, for processes started by a test. */
  env: Record<string, string>;
  prisma: PrismaClient;
  storage: S3Storage;
  temporal: Client;
  upstream: FakeUpstream;
  database: TestDatabase;
  account: TestAccount;
  createAccount(credits: number, scopes?: readonly ApiKeyScope[]): Promise<TestAccount>;
  request(method: string, pathname: string, options?: RequestOptions): Promise<{ status: number; body: any; headers: Headers }>;
  waitForTask(taskId: string, statuses: string[], timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export interface TestAccount {
  id: string;
  apiKey: string;
  webhookSecret: string;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: Buffer;
  headers?: Record<string, string>;
  apiKey?: string | null;
}

export interface HarnessOptions {
  upstream?: FakeUpstreamOptions;
  /** Providers file content; receives the fake upstream's URL. Default: one OpenAI-compatible provider. */
  providers?: (upstreamUrl: string) => unknown;
  /** Environment variables on top of the harness defaults. */
  env?: Record<string, string>;
  credits?: number;
  /** Built web app to serve, for browser tests; by default none is served. */
  webDistDir?: string;
  /** Start no worker, for tests that run their own (for example in a child process). */
  withoutWorker?: boolean;
}

export const TEST_MODEL = 'test-model';
export const TEST_UNIT_PRICE = 10;

export function defaultTestProviders(upstreamUrl: string): unknown {
  return {
    providers: [{ id: 'primary', kind: 'openai', baseUrl: upstreamUrl, timeoutMs: 5_000 }],
    models: [{ id: TEST_MODEL, label: 'Test model', providers: ['primary'], defaultUnitPrice: TEST_UNIT_PRICE }],
  };
}

export async function startProduct(options: HarnessOptions = {}): Promise<ProductHarness> {
  const database = await createTestDatabase();
  const bucket = await createTestBucket();
  const upstream = await startFakeUpstream(options.upstream);
  const port = await findFreePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-product-'));

  const providersConfig: ProvidersConfig = parseProvidersConfig((options.providers ?? defaultTestProviders)(upstream.url));
  const providersFile = path.join(dataDir, 'providers.json');
  await fs.writeFile(providersFile, JSON.stringify(providersConfig));

  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: requiredEnv('TEST_TEMPORAL_ADDRESS'),
    TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
    TEMPORAL_UI_URL: 'http://localhost:8233',
    STORAGE_DRIVER: 's3',
    S3_ENDPOINT: bucket.endpoint ?? '',
    S3_REGION: bucket.region,
    S3_BUCKET: bucket.bucket,
    S3_ACCESS_KEY_ID: bucket.credentials?.accessKeyId ?? '',
    S3_SECRET_ACCESS_KEY: bucket.credentials?.secretAccessKey ?? '',
    PROVIDERS_FILE: providersFile,
    UPSTREAM_INITIAL_BACKOFF: '100ms',
    UPSTREAM_MAX_ATTEMPTS: '4',
    WEBHOOK_TIMEOUT: '2s',
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: config.LOG_LEVEL });
  const storage = new S3Storage(bucket);
  const temporal = new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS! }), namespace: config.TEMPORAL_NAMESPACE });

  const services: Services = {
    config,
    logger,
    secrets: { sessionSecret: config.SESSION_SECRET!, storageSigningSecret: 'unused-with-s3' },
    database: { prisma: database.prisma, kind: 'postgres', close: async () => {} } as Services['database'],
    storage,
    providers: createProviderRegistry(providersConfig),
    temporal,
    close: async () => {},
  };

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let workerConnection: NativeConnection | undefined;
  if (!options.withoutWorker) {
    // Only a worker needs the SDK's native runtime, which keeps a process alive once it exists.
    installRuntimeLogger(logger);
    workerConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS! });
    worker = await createTaskWorker(services, workerConnection);
    workerRun = worker.run();
  }

  const server: Server = buildApi(services, { webDistDir: options.webDistDir ?? path.join(dataDir, 'no-web') }).listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${port}`;

  const createTestAccount = async (credits: number, scopes: readonly ApiKeyScope[] = API_KEY_SCOPES): Promise<TestAccount> => {
    const account = await createAccount(database.prisma, { email: `user-${randomBytes(4).toString('hex')}@example.test`, emailVerified: true });
    if (credits > 0) {
      await database.prisma.$transaction((tx) =>
        creditWallet(tx, { accountId: account.id, kind: 'recharge', balance: credits, bonus: 0, idempotencyKey: `test:${account.id}` }),
      );
    }
    const key = await createApiKey(database.prisma, { accountId: account.id, name: 'test', scopes });
    return { id: account.id, apiKey: key.key, webhookSecret: account.webhookSecret };
  };
  const account = await createTestAccount(options.credits ?? 1_000);

  const request: ProductHarness['request'] = async (method, pathname, requestOptions = {}) => {
    const headers: Record<string, string> = { ...requestOptions.headers };
    const apiKey = requestOptions.apiKey === undefined ? account.apiKey : requestOptions.apiKey;
    if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
    let body: Buffer | string | undefined;
    if (requestOptions.rawBody) {
      body = requestOptions.rawBody;
    } else if (requestOptions.body !== undefined) {
      body = JSON.stringify(requestOptions.body);
      headers['content-type'] = 'application/json';
    }

    const response = await fetch(`${baseUrl}${pathname}`, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };

  const waitForTask: ProductHarness['waitForTask'] = async (taskId, statuses, timeoutMs = 45_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const task = await database.prisma.task.findUnique({ where: { id: taskId } });
      if (task && statuses.includes(task.status)) {
        return (await request('GET', `/v1/tasks/${taskId}`, { apiKey: await keyFor(task.accountId) })).body;
      }
      if (Date.now() > deadline) throw new Error(`Task ${taskId} did not reach ${statuses.join('|')} in ${timeoutMs} ms (status ${task?.status})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const keysByAccount = new Map<string, string>([[account.id, account.apiKey]]);
  const keyFor = async (accountId: string) => keysByAccount.get(accountId) ?? (await createTestAccountKey(accountId));
  const createTestAccountKey = async (accountId: string) => {
    const key = await createApiKey(database.prisma, { accountId, name: 'test-reader', scopes: API_KEY_SCOPES });
    keysByAccount.set(accountId, key.key);
    return key.key;
  };

  return {
    baseUrl,
    config,
    env,
    prisma: database.prisma,
    storage,
    temporal,
    upstream,
    database,
    account,
    createAccount: async (credits, scopes) => {
      const created = await createTestAccount(credits, scopes);
      keysByAccount.set(created.id, created.apiKey);
      return created;
    },
    request,
    waitForTask,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (worker) {
        worker.shutdown();
        await workerRun;
      }
      await workerConnection?.close();
      await temporal.connection.close();
      await upstream.close();
      storage.close();
      await database.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest, whose global setup starts the services`);
  return value;
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}
