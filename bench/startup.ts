import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * Measures the time from `npm start` to a 200 from `/readyz`, for a first
 * start on an empty data folder, for a restart that reuses the data, and
 * (with --cold) for a machine whose tool cache is empty, so the Temporal CLI is
 * provisioned first. Writes the table into docs/benchmarks.md.
 */

const ROOT_DIR = path.resolve(__dirname, '..');
const REPORT_FILE = path.join(ROOT_DIR, 'docs', 'benchmarks.md');
const BEGIN_MARKER = '<!-- startup:begin -->';
const END_MARKER = '<!-- startup:end -->';

interface Measurement {
  scenario: string;
  readyMs: number;
  stopMs: number;
}

async function measureStart(scenario: string, env: Record<string, string>, port: number): Promise<Measurement> {
  const startedAt = performance.now();
  const child = spawn('npm', ['start'], { cwd: ROOT_DIR, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'], detached: true });

  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode} before it was ready`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const readyMs = performance.now() - startedAt;

  const stoppingAt = performance.now();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGINT');
  await exited;
  const stopMs = performance.now() - stoppingAt;
  await assertPortClosed(Number(env.TEMPORAL_DEV_PORT));

  return { scenario, readyMs, stopMs };
}

async function assertPortClosed(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const open = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      () => false,
    );
    if (!open) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`port ${port} is still open after stop: a child process was left running`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function writeReport(measurements: Measurement[], command: string): void {
  const scenarios = [...new Set(measurements.map((measurement) => measurement.scenario))];
  const rows = scenarios.map((scenario) => {
    const own = measurements.filter((measurement) => measurement.scenario === scenario);
    const ready = own.map((measurement) => measurement.readyMs / 1000);
    const stop = own.map((measurement) => measurement.stopMs / 1000);
    return `| ${scenario} | ${own.length} | ${median(ready).toFixed(1)} | ${Math.min(...ready).toFixed(1)}–${Math.max(...ready).toFixed(1)} | ${median(stop).toFixed(1)} |`;
  });
  const section = [
    BEGIN_MARKER,
    `Measured ${new Date().toISOString().slice(0, 10)} by \`${command}\` on ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    '',
    '| scenario | runs | ready, median (s) | ready, range (s) | stop after SIGINT, median (s) |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    END_MARKER,
  ].join('\n');

  const current = fs.existsSync(REPORT_FILE) ? fs.readFileSync(REPORT_FILE, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(BEGIN_MARKER);
  const end = current.indexOf(END_MARKER);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + section + current.slice(end + END_MARKER.length)
      : `${current.trimEnd()}\n\n## Start to ready\n\n${section}\n`;
  fs.writeFileSync(REPORT_FILE, next);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, cold: { type: 'boolean', default: false } } });
  const runs = Number(values.runs);
  const measurements: Measurement[] = [];
  const baseEnv = { TEMPORAL_DEV_PORT: '7411', TEMPORAL_UI_PORT: '8411', LOG_LEVEL: 'warn' };

  if (values.cold) {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'novart-bench-cache-'));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'novart-bench-data-'));
    measurements.push(await measureStart('cold: empty tool cache and data', { ...baseEnv, CACHE_DIR: cacheDir, DATA_DIR: dataDir }, 3411));
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  for (let run = 0; run < runs; run += 1) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'novart-bench-data-'));
    measurements.push(await measureStart('warm: tools cached, empty data folder', { ...baseEnv, DATA_DIR: dataDir }, 3411));
    measurements.push(await measureStart('warm: restart with existing data', { ...baseEnv, DATA_DIR: dataDir }, 3411));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  for (const measurement of measurements) {
    console.log(`${measurement.scenario}: ready in ${(measurement.readyMs / 1000).toFixed(1)} s, stopped in ${(measurement.stopMs / 1000).toFixed(1)} s`);
  }
  const flags = [values.cold ? '--cold' : '', runs !== 3 ? `--runs ${runs}` : ''].filter(Boolean).join(' ');
  writeReport(measurements, `npm run bench:startup${flags ? ` -- ${flags}` : ''}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
