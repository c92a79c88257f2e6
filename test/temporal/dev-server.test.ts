import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { Connection } from '@temporalio/client';

import { createLogger } from '../../lib/logger';
import { locateTemporalCli } from '../../temporal/cli';
import { startDevServer, type DevServer } from '../../temporal/dev-server';
import { findFreePort, toolConfig } from '../support/temporal-server';

const repoRoot = path.resolve(__dirname, '../..');

/** Ids of live processes whose command line contains `text` (Linux /proc). */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];

  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const commandLine = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

/** Polls until no process mentions `text`; the test's own timeout bounds the wait. */
async function waitUntilNoProcessMentions(text: string): Promise<void> {
  while ((await processesMentioning(text)).length > 0) await sleep(100);
}

describe('startDevServer', () => {
  let dataDir: string;
  let cliPath: string;
  let server: DevServer | undefined;

  beforeAll(async () => {
    cliPath = await locateTemporalCli(toolConfig());
  });

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-dev-server-'));
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('starts, answers and stops leaving no process', async () => {
    const dbFile = path.join(dataDir, 'nested', 'temporal.sqlite');
    server = await startDevServer({
      cliPath,
      dbFile,
      port: await findFreePort(),
      uiPort: await findFreePort(),
      namespace: 'novart-test',
      logger: createLogger({ level: 'silent' }),
    });

    const connection = await Connection.connect({ address: server.address });
    const described = await connection.workflowService.describeNamespace({ namespace: 'novart-test' });
    await connection.close();
    const ui = await fetch(server.uiUrl!);
    await server.stop();

    expect(described.namespaceInfo?.name).toBe('novart-test');
    expect(ui.ok).toBe(true);
    expect(await processesMentioning(dbFile)).toEqual([]);
    await expect(fs.stat(dbFile)).resolves.toBeDefined();
  });

  it('stops its server when the owning process is killed', async () => {
    const dbFile = path.join(dataDir, 'orphan-check.sqlite');
    const fixture = path.join(__dirname, 'fixtures', 'own-dev-server.ts');
    const owner = spawn(process.execPath, ['--import', 'tsx', fixture, cliPath, dbFile, String(await findFreePort())], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      owner.once('exit', (code) => reject(new Error(`owner exited early with code ${code}`)));
      readline.createInterface({ input: owner.stdout }).on('line', (line) => {
        if (line === 'ready') resolve();
      });
    });
    const runningBefore = await processesMentioning(dbFile);

    owner.kill('SIGKILL');
    await waitUntilNoProcessMentions(dbFile);

    expect(runningBefore.length).toBeGreaterThanOrEqual(2);
    expect(await processesMentioning(dbFile)).toEqual([]);
  });

  it('stop ends a server whose supervisor died', async () => {
    const dbFile = path.join(dataDir, 'supervisor-killed.sqlite');
    server = await startDevServer({ cliPath, dbFile, port: await findFreePort(), logger: createLogger({ level: 'silent' }) });
    process.kill(server.pid, 'SIGKILL');

    await server.stop();

    expect(await processesMentioning(dbFile)).toEqual([]);
  });

  it('rejects when its port is taken', async () => {
    const dbFile = path.join(dataDir, 'port-taken.sqlite');
    // It only holds the port, so connections to it are dropped at once.
    const occupant = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => occupant.listen(0, '127.0.0.1', resolve));
    const { port } = occupant.address() as net.AddressInfo;

    const starting = startDevServer({ cliPath, dbFile, port, logger: createLogger({ level: 'silent' }) });

    await expect(starting).rejects.toThrow(/did not start/);
    expect(await processesMentioning(dbFile)).toEqual([]);
    await new Promise((resolve) => occupant.close(resolve));
  });
});
