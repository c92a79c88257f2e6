import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { Connection } from '@temporalio/client';

import { appError } from '../lib/errors';
import { createLogger, type Logger } from '../lib/logger';

export interface DevServerOptions {
  cliPath: string;
  /** SQLite file that keeps workflows across restarts; its folder is created. */
  dbFile: string;
  port: number;
  /** Web UI port; without one the server runs headless. */
  uiPort?: number;
  /** Created at start when it is not `default`, which always exists. */
  namespace?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** Interface the frontend and UI bind to. */
  ip?: string;
  /** Time the frontend may take to respond before start fails. */
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping. */
  stopGraceMs?: number;
  logger?: Logger;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  /** Process id of the supervisor that owns the server process. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * A tiny supervisor run with `node -e`, between this process and the server.
 * It starts the server and stops it (SIGTERM, then SIGKILL after the grace
 * period) when its standard input closes, which the kernel does when this
 * process dies in any way, even SIGKILL, so no server outlives its owner.
 */
const SUPERVISOR_SOURCE = `
const { spawn } = require('node:child_process');
const [graceMs, command, ...args] = process.argv.slice(1);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), Number(graceMs)).unref();
};
child.on('error', (error) => { console.error(error.message); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGTERM' ? 0 : 1)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
`;

type SupervisorProcess = ChildProcessByStdio<Writable, Readable, Readable>;

/**
 * Starts `temporal server start-dev` with a persistent SQLite file and resolves
 * once its frontend responds to a namespace description. The returned `stop()`
 * ends the server and waits until no process of it is left.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const logger = (options.logger ?? createLogger()).child({ component: 'temporal-dev-server' });
  await fs.mkdir(path.dirname(path.resolve(options.dbFile)), { recursive: true });

  const args = devServerArgs({ ...options, ip, namespace });
  const supervisor: SupervisorProcess = spawn(process.execPath, ['-e', SUPERVISOR_SOURCE, String(stopGraceMs), options.cliPath, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so a last-resort SIGKILL reaches the server too.
    detached: process.platform !== 'win32',
  });

  const output = { recentLines: [] as string[], stopping: false };
  forwardOutput(supervisor.stdout, logger, output);
  forwardOutput(supervisor.stderr, logger, output);
  const exited = new Promise<void>((resolve) => supervisor.once('exit', () => resolve()));

  const stop = async () => {
    const running = supervisor.exitCode === null && supervisor.signalCode === null;
    if (running) {
      output.stopping = true;
      supervisor.stdin.end();
      const stopped = await Promise.race([exited.then(() => true), sleep(stopGraceMs + 5_000, false, { ref: false })]);
      if (!stopped) killGroup(supervisor, 'SIGKILL');
      await exited;
    }

    // Sweeps up a server left behind by a supervisor that died abnormally, since the group outlives its leader.
    killGroup(supervisor, 'SIGKILL');
  };

  const address = `${ip}:${options.port}`;
  try {
    await waitUntilAnswering(address, namespace, exited, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    const ports = options.uiPort === undefined ? `port ${options.port}` : `ports ${options.port} and ${options.uiPort}`;
    throw appError('SERVICE_UNAVAILABLE', `Temporal dev server did not start on ${ports} (in use? set TEMPORAL_DEV_PORT and TEMPORAL_UI_PORT): ${(error as Error).message}`, {
      output: output.recentLines.join('\n'),
    });
  }

  const uiUrl = options.uiPort === undefined ? undefined : `http://${ip}:${options.uiPort}`;
  logger.info({ address, uiUrl, dbFile: options.dbFile }, 'Temporal dev server ready');

  return { address, uiUrl, pid: supervisor.pid!, stop };
}

function devServerArgs(options: DevServerOptions & { ip: string; namespace: string }): string[] {
  const args = ['server', 'start-dev', '--db-filename', options.dbFile, '--ip', options.ip, '--port', String(options.port)];

  // A write-ahead log doubled the workflow starts per second of this server on 2 cores (docs/benchmarks.md).
  // The synchronous pragma keeps the driver's default.
  args.push('--sqlite-pragma', 'journal_mode=wal');
  // Lets a worker receive the activities it schedules in its workflow-task reply instead of polling for them.
  // In one measurement on 2 cores it cut a bare 3-activity workflow from 350 to 200 ms. Temporal servers default to off.
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');

  if (options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));

  if (options.namespace !== 'default') args.push('--namespace', options.namespace);

  args.push('--log-level', options.logLevel ?? 'warn', '--log-format', 'json');
  return args;
}

/** Connects and describes the namespace until that succeeds, the server exits, or the time runs out. */
async function waitUntilAnswering(address: string, namespace: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;

  while (!hasExited && Date.now() < deadline) {
    // A lazy connection can be closed even when connecting fails, so no channel is left open.
    const connection = Connection.lazy({ address, connectTimeout: 1_000 });
    try {
      await connection.ensureConnected();
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await connection.close();
    }

    await sleep(200);
  }

  if (hasExited) throw new Error('the server process exited');
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${address} to respond (${String(lastError)})`);
}

/**
 * Sends the server's JSON log lines to pino at their own level, other lines at
 * info. While stopping, the server's complaints about closed connections are
 * expected, so everything goes to debug then.
 */
function forwardOutput(stream: Readable, logger: Logger, output: { recentLines: string[]; stopping: boolean }): void {
  readline.createInterface({ input: stream }).on('line', (line) => {
    output.recentLines.push(line);
    if (output.recentLines.length > 30) output.recentLines.shift();
    if (line.trim() === '') return;

    const entry = parseLogLine(line);
    const { level, msg, time: _time, ...fields } = entry ?? { msg: line };
    const method = output.stopping ? 'debug' : pinoMethod(level);
    logger[method](fields, String(msg));
  });
}

function pinoMethod(level: unknown): 'debug' | 'info' | 'warn' | 'error' {
  const name = String(level).toLowerCase();
  return name === 'debug' || name === 'warn' || name === 'error' ? name : 'info';
}

function parseLogLine(line: string): { level?: unknown; msg?: unknown; [key: string]: unknown } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && 'msg' in parsed ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function killGroup(child: SupervisorProcess, signal: NodeJS.Signals): void {
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}
