import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../lib/db/client';

jest.setTimeout(60_000);

function embeddedConfig(dataDir: string) {
  return { DATABASE_URL: undefined, DATABASE_POOL_SIZE: 1, DATA_DIR: dataDir };
}

test('second opener of the embedded database is rejected', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'novart-lock-'));
  const first = await openDatabase(embeddedConfig(dataDir));
  fs.writeFileSync(path.join(dataDir, 'pglite.lock'), '1');

  try {
    await expect(openDatabase(embeddedConfig(dataDir))).rejects.toThrow(/in use by process 1/);
  } finally {
    fs.writeFileSync(path.join(dataDir, 'pglite.lock'), String(process.pid));
    await first.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('stale lock of a dead process is taken over', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'novart-lock-'));
  const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  fs.writeFileSync(path.join(dataDir, 'pglite.lock'), deadPid);

  const database = await openDatabase(embeddedConfig(dataDir));
  const lockOwner = fs.readFileSync(path.join(dataDir, 'pglite.lock'), 'utf8');
  await database.close();

  expect(lockOwner).toBe(String(process.pid));
  expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  fs.rmSync(dataDir, { recursive: true, force: true });
});
