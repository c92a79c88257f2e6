import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createProviderRegistry, loadProvidersConfig } from '../../activities/providers/registry';
import { buildApi } from '../../api/server';
import { createAccount } from '../../lib/accounts';
import { loadConfig, type Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import type { Services } from '../../lib/services';
import { createStorage } from '../../lib/storage';
import type { PrismaClient } from '../../prisma/generated/client';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { findFreePort } from '../support/product';
import { startSmtpServer, type SmtpCapture } from '../support/smtp-server';

/**
 * The API on a fresh database with a real SMTP server, its log lines kept in
 * memory so tests can scan them. No worker runs: tasks created here stay queued.
 */
export interface AccountsApp {
  baseUrl: string;
  config: Config;
  prisma: PrismaClient;
  smtp: SmtpCapture;
  logLines: string[];
  request(method: string, pathname: string, options?: CallOptions): Promise<CallResult>;
  /** Signs up, follows the e-mailed link and returns the account's e-mail address. */
  registerVerified(password?: string): Promise<string>;
  /** Signs in and returns the session cookie (`name=value`). */
  signIn(email: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  rawBody?: string;
  cookie?: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: any;
  headers: Headers;
  /** The `nova_art_session` cookie set by the response, as `name=value`, if any. */
  cookie: string | undefined;
  setCookie: string | undefined;
}

export const PASSWORD = 'violet-harbor-lantern-42';

export async function startAccountsApp(options: { env?: Record<string, string> } = {}): Promise<AccountsApp> {
  const database: TestDatabase = await createTestDatabase();
  const smtp = await startSmtpServer();
  const port = await findFreePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-accounts-'));

  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'trace',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS ?? '',
    TEMPORAL_TASK_QUEUE: `accounts-${randomBytes(6).toString('hex')}`,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    SMTP_URL: smtp.url,
    AUTH_MAX_REQUESTS_PER_IP: '10000',
    AUTH_MAX_REQUESTS_PER_EMAIL: '100',
    ...options.env,
  });
  const logLines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } });
  const temporal = new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS! }), namespace: config.TEMPORAL_NAMESPACE });

  const services = {
    config,
    logger,
    secrets: { sessionSecret: config.SESSION_SECRET!, storageSigningSecret: randomBytes(32).toString('hex') },
    database: { prisma: database.prisma, kind: 'postgres', close: async () => {} },
    storage: createStorage(config, { localSigningSecret: randomBytes(32).toString('hex') }),
    providers: createProviderRegistry(await loadProvidersConfig(undefined)),
    temporal,
    close: async () => {},
  } as unknown as Services;
  const server: Server = buildApi(services, { webDistDir: path.join(dataDir, 'no-web') }).listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${port}`;

  const request: AccountsApp['request'] = async (method, pathname, call = {}) => {
    const headers: Record<string, string> = { ...call.headers };
    if (call.cookie) headers.cookie = call.cookie;
    if (call.apiKey !== undefined) headers.authorization = `Bearer ${call.apiKey}`;
    let body: string | undefined = call.rawBody;
    if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['content-type'] ??= 'application/json';
    }

    const response = await fetch(`${baseUrl}${pathname}`, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith('nova_art_session='));
    return {
      status: response.status,
      body: text ? safeJson(text) : undefined,
      headers: response.headers,
      cookie: setCookie?.split(';')[0],
      setCookie,
    };
  };

  const registerVerified = async (password = PASSWORD) => {
    const email = `user-${randomBytes(5).toString('hex')}@example.test`;
    await request('POST', '/api/auth/sign-up', { body: { email, password } });
    const mail = await smtp.waitForMail(email);
    await request('POST', '/api/auth/verify-email', { body: { token: tokenFromMail(mail.text) } });
    return email;
  };

  const signIn = async (email: string, password = PASSWORD) => {
    const answer = await request('POST', '/api/auth/sign-in', { body: { email, password } });
    if (answer.status !== 200 || !answer.cookie) throw new Error(`sign-in failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.cookie;
  };

  return {
    baseUrl,
    config,
    prisma: database.prisma,
    smtp,
    logLines,
    request,
    registerVerified,
    signIn,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await temporal.connection.close();
      await smtp.close();
      await database.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The token of the first link in an e-mail (`…#token=<token>`). */
export function tokenFromMail(text: string): string {
  const match = /#token=([A-Za-z0-9_-]+)/.exec(text);
  if (!match) throw new Error(`no link with a token in: ${text}`);
  return match[1]!;
}

/** Creates a verified account directly in the database. */
export async function createVerifiedAccount(prisma: PrismaClient, password = PASSWORD): Promise<string> {
  const email = `direct-${randomBytes(5).toString('hex')}@example.test`;
  await createAccount(prisma, { email, password, emailVerified: true });
  return email;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
