import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createLogger } from '../lib/logger';
import { installRuntimeLogger } from '../temporal/worker';
import { findFreePort, startProduct, TEST_MODEL, type ProductHarness } from '../test/support/product';
import { startTestServices } from '../test/support/services';

/**
 * The product's main job against Temporal's own floor, in one run on one
 * machine: submit latency and throughput, orchestration overhead per task,
 * sustained throughput against an upstream with a concurrency limit, and
 * read latency. API and worker run as their own processes (scripts/api.ts,
 * scripts/worker.ts) on real PostgreSQL, Temporal and S3, with the fake
 * upstream on 127.0.0.1. Writes its section of docs/benchmarks.md.
 */

const ROOT_DIR = path.resolve(__dirname, '..');
const REPORT_FILE = path.join(ROOT_DIR, 'docs', 'benchmarks.md');
const BEGIN_MARKER = '<!-- bench:begin -->';
const END_MARKER = '<!-- bench:end -->';

const UPSTREAM_LATENCY_MS = 300;
const UPSTREAM_CONCURRENCY = 20;
const THROUGHPUT_TASKS = 500;
const ORCHESTRATION_TASKS = 20;
/** Activities on a task's path to `succeeded`: startTask, generateImages, completeTask (the first and last run as local activities). */
const ACTIVITIES_PER_TASK = 3;
const READ_RATE = 200;
const TASK_BODY = JSON.stringify({ prompt: 'a lighthouse at dusk', model: TEST_MODEL, size: '256x256' });

interface LatencySample {
  p50: number;
  p99: number;
  rps: number;
  errors: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      // Measures submit alone and leaves the report untouched: a quick loop while tuning the API.
      'submit-only': { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const duration = Number(values.duration);

  const services = await startTestServices();
  Object.assign(process.env, services.env);
  const product = await startProduct({ withoutWorker: true, credits: 1_000_000_000, upstream: { latencyMs: UPSTREAM_LATENCY_MS, concurrency: UPSTREAM_CONCURRENCY } });
  const children: ChildProcess[] = [];
  const floorWorker = await startFloorWorker(product);

  try {
    // Submit: the API starts workflows on a queue that no worker polls, like the bare loop does.
    const idleQueue = `bench-idle-${randomUUID()}`;
    const submitApi = await startApi(product, { TEMPORAL_TASK_QUEUE: idleQueue }, children);
    const submit: Array<{ connections: number; product: LatencySample; floor: LatencySample }> = [];
    for (const connections of [1, 10, 50]) {
      const productRuns: LatencySample[] = [];
      const floorRuns: LatencySample[] = [];
      for (let run = 0; run < runs; run++) {
        productRuns.push(await loadSubmit(submitApi, product.account.apiKey, connections, duration));
        floorRuns.push(await bareStartLoop(product, idleQueue, connections, duration));
      }
      submit.push({ connections, product: medianSample(productRuns), floor: medianSample(floorRuns) });
      log(`submit x${connections}: product p99 ${submit.at(-1)!.product.p99} ms, ${submit.at(-1)!.product.rps.toFixed(0)}/s; floor ${submit.at(-1)!.floor.rps.toFixed(0)}/s`);
    }
    await stopChild(children.pop()!);
    if (values['submit-only']) return;

    const worker = startWorker(product, children);
    const api = await startApi(product, {}, children);
    await waitForWorker(api, product);

    const orchestration = await measureOrchestration(api, product, floorWorker.taskQueue, runs);
    log(`orchestration: overhead median ${orchestration.overhead.p50} ms, floor ${orchestration.floor.p50} ms`);

    const cpuBefore = cpuSecondsByRole();
    const throughput = await measureThroughput(api, product);
    const cpu = cpuDelta(cpuBefore, cpuSecondsByRole());
    const peakMemoryMiB = peakMemory(worker.pid!);
    const floorCpuBefore = cpuSecondsByRole();
    const throughputFloor = await measureThroughputFloor(product, floorWorker.taskQueue);
    const floorCpu = cpuDelta(floorCpuBefore, cpuSecondsByRole());
    log(`throughput: ${throughput.makespanMs} ms for ${THROUGHPUT_TASKS} tasks, ideal ${throughput.idealMs} ms, bare workflows ${throughputFloor.makespanMs} ms`);

    const taskId = throughput.lastTaskId;
    const reads: LatencySample[] = [];
    for (let run = 0; run < runs; run++) reads.push(await loadReads(api, product.account.apiKey, taskId, duration));
    log(`reads: p99 ${medianSample(reads).p99} ms`);

    writeReport({
      runs,
      duration,
      submit,
      orchestration,
      throughput: { ...throughput, peakMemoryMiB, floorMakespanMs: throughputFloor.makespanMs, cpu, floorCpu },
      reads: medianSample(reads),
    });
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    await floorWorker.stop();
    await product.close();
    await services.stop();
  }
}

/** Starts `scripts/api.ts` with the harness's environment on a port of its own. */
async function startApi(product: ProductHarness, env: Record<string, string>, children: ChildProcess[]): Promise<string> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/api.ts'], {
    cwd: ROOT_DIR,
    env: { ...process.env, ...product.env, ...env, PORT: String(port), NODE_ENV: 'production', LOG_LEVEL: 'warn', PUBLIC_URL: `http://127.0.0.1:${port}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 60_000);
  return url;
}

function startWorker(product: ProductHarness, children: ChildProcess[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    cwd: ROOT_DIR,
    env: { ...process.env, ...product.env, NODE_ENV: 'production', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

/** Runs one task through, so that the worker's bundle and connections are warm before anything is timed. */
async function waitForWorker(api: string, product: ProductHarness): Promise<void> {
  const id = await createTask(api, product.account.apiKey);
  await waitForSucceeded(product, [id], 120_000);
}

/** Runs at most `limit` calls at once, like the fake upstream's concurrency limit. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await call();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

const upstreamSlots = new Slots(UPSTREAM_CONCURRENCY);

async function startFloorWorker(product: ProductHarness) {
  installRuntimeLogger(createLogger({ level: 'warn' }));
  const connection = await NativeConnection.connect({ address: product.config.TEMPORAL_ADDRESS! });
  const taskQueue = `bench-floor-${randomUUID()}`;
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./floor-workflows'),
    activities: { noop: async () => {}, upstreamCall: () => upstreamSlots.run(() => new Promise<void>((resolve) => setTimeout(resolve, UPSTREAM_LATENCY_MS))) },
  });
  const running = worker.run();
  return {
    taskQueue,
    stop: async () => {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

async function loadSubmit(api: string, apiKey: string, connections: number, duration: number): Promise<LatencySample> {
  const result = await autocannon({
    url: `${api}/v1/tasks`,
    method: 'POST',
    connections,
    duration,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: TASK_BODY,
  });
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, errors: result.errors + result.non2xx };
}

async function loadReads(api: string, apiKey: string, taskId: string, duration: number): Promise<LatencySample> {
  const result = await autocannon({
    url: `${api}/v1/tasks/${taskId}`,
    connections: 10,
    overallRate: READ_RATE,
    duration,
    headers: { authorization: `Bearer ${apiKey}` },
  });
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, errors: result.errors + result.non2xx };
}

/** Measures the submit floor: `client.workflow.start` of an empty workflow in `connections` parallel loops. */
async function bareStartLoop(product: ProductHarness, taskQueue: string, connections: number, duration: number): Promise<LatencySample> {
  const latencies: number[] = [];
  let errors = 0;
  const endAt = performance.now() + duration * 1000;
  const loop = async () => {
    while (performance.now() < endAt) {
      const startedAt = performance.now();
      try {
        await product.temporal.workflow.start('emptyWorkflow', { taskQueue, workflowId: `bench-${randomUUID()}`, args: [] });
        latencies.push(performance.now() - startedAt);
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rps: latencies.length / duration, errors };
}

/**
 * Measures submit to `succeeded` minus the upstream's service time (as the fake upstream timed it), one task
 * at a time, next to a workflow of as many no-op activities and one of the same steps, local where the task's are.
 */
async function measureOrchestration(api: string, product: ProductHarness, floorQueue: string, runs: number) {
  const overheads: number[] = [];
  const floors: number[] = [];
  const sameStepFloors: number[] = [];
  for (let index = 0; index < ORCHESTRATION_TASKS * runs; index++) {
    const callsBefore = product.upstream.calls.length;
    const submittedAt = Date.now();
    const id = await createTask(api, product.account.apiKey);
    const [task] = await waitForSucceeded(product, [id], 60_000);
    const upstreamMs = product.upstream.calls.slice(callsBefore).reduce((total, call) => total + (call.serviceMs ?? 0), 0);
    overheads.push(task!.finishedAt!.getTime() - submittedAt - upstreamMs);

    const startedAt = performance.now();
    await product.temporal.workflow.execute('noopActivities', { taskQueue: floorQueue, workflowId: `bench-${randomUUID()}`, args: [ACTIVITIES_PER_TASK] });
    floors.push(performance.now() - startedAt);

    const sameStepsStartedAt = performance.now();
    await product.temporal.workflow.execute('taskShapedSteps', { taskQueue: floorQueue, workflowId: `bench-${randomUUID()}` });
    sameStepFloors.push(performance.now() - sameStepsStartedAt);
  }
  return {
    tasks: overheads.length,
    overhead: { p50: percentile(overheads, 50), p99: percentile(overheads, 99) },
    floor: { p50: percentile(floors, 50), p99: percentile(floors, 99) },
    sameStepFloor: { p50: percentile(sameStepFloors, 50), p99: percentile(sameStepFloors, 99) },
  };
}

/** Submits all tasks from 20 parallel clients and times from the first submit to the last `succeeded`. */
async function measureThroughput(api: string, product: ProductHarness) {
  const ids: string[] = [];
  const startedAt = Date.now();
  let next = 0;
  const client = async () => {
    while (next < THROUGHPUT_TASKS) {
      next += 1;
      ids.push(await createTask(api, product.account.apiKey));
    }
  };
  await Promise.all(Array.from({ length: UPSTREAM_CONCURRENCY }, client));
  const submitMs = Date.now() - startedAt;

  const tasks = await waitForSucceeded(product, ids, 15 * 60_000);
  const finishedAt = Math.max(...tasks.map((task) => task.finishedAt!.getTime()));
  const makespanMs = finishedAt - startedAt;
  const idealMs = Math.ceil(THROUGHPUT_TASKS / UPSTREAM_CONCURRENCY) * UPSTREAM_LATENCY_MS;
  return { makespanMs, idealMs, submitMs, tasksPerSecond: THROUGHPUT_TASKS / (makespanMs / 1000), lastTaskId: ids.at(-1)! };
}

/**
 * Measures the throughput floor: the same number of bare workflows shaped like a task
 * (no-op, one call through the same 20-slot limit with the same latency,
 * no-op), started from 20 parallel clients on the same server and machine.
 */
async function measureThroughputFloor(product: ProductHarness, floorQueue: string) {
  const startedAt = Date.now();
  const handles: Array<Promise<unknown>> = [];
  let next = 0;
  const client = async () => {
    while (next < THROUGHPUT_TASKS) {
      next += 1;
      const handle = await product.temporal.workflow.start('upstreamShapedTask', { taskQueue: floorQueue, workflowId: `bench-shaped-${randomUUID()}` });
      handles.push(handle.result());
    }
  };
  await Promise.all(Array.from({ length: UPSTREAM_CONCURRENCY }, client));
  await Promise.all(handles);
  return { makespanMs: Date.now() - startedAt };
}

async function createTask(api: string, apiKey: string): Promise<string> {
  const response = await fetch(`${api}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: TASK_BODY });
  const body = (await response.json()) as { id: string };
  if (response.status !== 201) throw new Error(`POST /v1/tasks returned ${response.status}: ${JSON.stringify(body)}`);
  return body.id;
}

async function waitForSucceeded(product: ProductHarness, ids: string[], timeoutMs: number) {
  let tasks: Awaited<ReturnType<typeof product.prisma.task.findMany>> = [];
  await waitFor(async () => {
    tasks = await product.prisma.task.findMany({ where: { id: { in: ids } } });
    const failed = tasks.find((task) => task.status === 'failed' || task.status === 'canceled');
    if (failed) throw new Error(`task ${failed.id} ended ${failed.status}: ${failed.errorMessage}`);
    return tasks.length === ids.length && tasks.every((task) => task.status === 'succeeded');
  }, timeoutMs, 20);
  return tasks;
}

/** The processes of a run, by the part they play; the bench's own process also runs the fake upstream and the floor worker. */
const CPU_ROLES = ['worker', 'API', 'Temporal server', 'PostgreSQL', 'S3 server', 'bench and fake upstream'] as const;
type CpuRole = (typeof CPU_ROLES)[number];

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ), which is 100 on common Linux builds. */
const CLOCK_TICKS = 100;

function roleOf(pid: number, commandLine: string): CpuRole | undefined {
  if (pid === process.pid) return 'bench and fake upstream';
  if (commandLine.includes('scripts/worker.ts')) return 'worker';
  if (commandLine.includes('scripts/api.ts')) return 'API';
  if (commandLine.includes('start-dev')) return 'Temporal server';
  if (/^(\S*\/)?postgres(:|\s|$)/.test(commandLine)) return 'PostgreSQL';
  if (commandLine.includes('versitygw')) return 'S3 server';
  return undefined;
}

/** CPU seconds (user and system) used so far by each role's processes, read from /proc. */
function cpuSecondsByRole(): Map<CpuRole, number> {
  const totals = new Map<CpuRole, number>();
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const role = roleOf(pid, fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
      if (!role) continue;
      // Fields after the command name, which is in parentheses and may contain spaces: utime and stime are the 12th and 13th.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      totals.set(role, (totals.get(role) ?? 0) + seconds);
    } catch {
      // The process ended while it was being read.
    }
  }
  return totals;
}

function cpuDelta(before: Map<CpuRole, number>, after: Map<CpuRole, number>): Map<CpuRole, number> {
  return new Map(CPU_ROLES.map((role) => [role, Math.max(0, (after.get(role) ?? 0) - (before.get(role) ?? 0))]));
}

/** Peak resident memory of a process (VmHWM), in MiB. */
function peakMemory(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kib / 1024);
}

function sum(values: Map<unknown, number>): number {
  return [...values.values()].reduce((total, value) => total + value, 0);
}

function percentile(values: number[], rank: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((rank / 100) * sorted.length) - 1)]!);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function medianSample(samples: LatencySample[]): LatencySample {
  return {
    p50: median(samples.map((sample) => sample.p50)),
    p99: median(samples.map((sample) => sample.p99)),
    rps: median(samples.map((sample) => sample.rps)),
    errors: samples.reduce((total, sample) => total + sample.errors, 0),
  };
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 40_000);
  await exited;
  clearTimeout(forced);
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

interface Report {
  runs: number;
  duration: number;
  submit: Array<{ connections: number; product: LatencySample; floor: LatencySample }>;
  orchestration: Awaited<ReturnType<typeof measureOrchestration>>;
  throughput: Awaited<ReturnType<typeof measureThroughput>> & { peakMemoryMiB: number; floorMakespanMs: number; cpu: Map<CpuRole, number>; floorCpu: Map<CpuRole, number> };
  reads: LatencySample;
}

function writeReport(report: Report): void {
  const { submit, orchestration, throughput, reads } = report;
  const ratio = (value: number) => value.toFixed(2);
  const verdict = (met: boolean) => (met ? 'met' : 'missed');
  const at50 = submit.find((row) => row.connections === 50)!;
  const overheadRatio = orchestration.overhead.p50 / orchestration.floor.p50;
  const makespanRatio = throughput.makespanMs / throughput.idealMs;

  const section = [
    BEGIN_MARKER,
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (${report.runs} runs of ${report.duration} s per load step; medians over the runs) on ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. Upstream: fake server, ${UPSTREAM_LATENCY_MS} ms fixed latency, ${UPSTREAM_CONCURRENCY} requests at once.`,
    '',
    '### Submit: `POST /v1/tasks` against a bare `client.workflow.start` loop',
    '',
    '| clients | p50 (ms) | p99 (ms) | requests/s | floor p50 (ms) | floor p99 (ms) | floor starts/s | throughput vs floor | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...submit.map(
      (row) =>
        `| ${row.connections} | ${row.product.p50} | ${row.product.p99} | ${row.product.rps.toFixed(0)} | ${row.floor.p50} | ${row.floor.p99} | ${row.floor.rps.toFixed(0)} | ${ratio(row.product.rps / row.floor.rps)} | ${row.product.errors} |`,
    ),
    '',
    `Targets at 50 clients: p99 ≤ 50 ms (${at50.product.p99} ms: ${verdict(at50.product.p99 <= 50)}); throughput ≥ 0.60 of the floor (${ratio(at50.product.rps / at50.floor.rps)}: ${verdict(at50.product.rps / at50.floor.rps >= 0.6)}).`,
    '',
    '### Orchestration overhead per task',
    '',
    `${orchestration.tasks} tasks one at a time: submit to \`succeeded\` minus the upstream's service time (its ${UPSTREAM_LATENCY_MS} ms plus rendering the image, timed by the fake upstream). They are compared with a bare workflow of ${ACTIVITIES_PER_TASK} no-op activities, the steps on a task's path to \`succeeded\`. A second bare workflow runs the same steps the way the task runs them: the first and last as local activities.`,
    '',
    '| | p50 (ms) | p99 (ms) | task overhead ratio, p50 | task overhead ratio, p99 |',
    '| --- | --- | --- | --- | --- |',
    `| task overhead | ${orchestration.overhead.p50} | ${orchestration.overhead.p99} | | |`,
    `| bare workflow, ${ACTIVITIES_PER_TASK} activities | ${orchestration.floor.p50} | ${orchestration.floor.p99} | ${ratio(overheadRatio)} | ${ratio(orchestration.overhead.p99 / orchestration.floor.p99)} |`,
    `| bare workflow, same steps | ${orchestration.sameStepFloor.p50} | ${orchestration.sameStepFloor.p99} | ${ratio(orchestration.overhead.p50 / orchestration.sameStepFloor.p50)} | ${ratio(orchestration.overhead.p99 / orchestration.sameStepFloor.p99)} |`,
    '',
    `Target: ≤ 1.3× the bare workflow of ${ACTIVITIES_PER_TASK} activities (${ratio(overheadRatio)}× at the median: ${verdict(overheadRatio <= 1.3)}). Against the same steps: ${ratio(orchestration.overhead.p50 / orchestration.sameStepFloor.p50)}×.`,
    '',
    '### Throughput',
    '',
    `| tasks | makespan (s) | ideal (s) | ratio | bare workflows, same shape (s) | ratio to bare | tasks/s sustained | submit phase (s) | worker peak memory (MiB) |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${THROUGHPUT_TASKS} | ${(throughput.makespanMs / 1000).toFixed(1)} | ${(throughput.idealMs / 1000).toFixed(1)} | ${ratio(makespanRatio)} | ${(throughput.floorMakespanMs / 1000).toFixed(1)} | ${ratio(throughput.makespanMs / throughput.floorMakespanMs)} | ${throughput.tasksPerSecond.toFixed(1)} | ${(throughput.submitMs / 1000).toFixed(1)} | ${throughput.peakMemoryMiB} |`,
    '',
    `Ideal: ${THROUGHPUT_TASKS} tasks / ${UPSTREAM_CONCURRENCY} at once × ${UPSTREAM_LATENCY_MS} ms. Target ≤ 1.2× ideal (${ratio(makespanRatio)}×: ${verdict(makespanRatio <= 1.2)}).`,
    `The bare workflows run a no-op, one call through the same ${UPSTREAM_CONCURRENCY}-slot limit with the same latency, and a no-op, started the same way on the same server: they show what Temporal alone reaches on this machine.`,
    '',
    `CPU time per task during each run, by process (user and system time from /proc; ${os.cpus().length} cores are ${os.cpus().length * 1000} ms of CPU per second):`,
    '',
    '| process | tasks: CPU (s) | tasks: ms per task | bare workflows: CPU (s) | bare workflows: ms per workflow |',
    '| --- | --- | --- | --- | --- |',
    ...[...CPU_ROLES, 'all' as const].map((role) => {
      const used = role === 'all' ? sum(throughput.cpu) : (throughput.cpu.get(role) ?? 0);
      const floorUsed = role === 'all' ? sum(throughput.floorCpu) : (throughput.floorCpu.get(role) ?? 0);
      return `| ${role} | ${used.toFixed(1)} | ${((used * 1000) / THROUGHPUT_TASKS).toFixed(0)} | ${floorUsed.toFixed(1)} | ${((floorUsed * 1000) / THROUGHPUT_TASKS).toFixed(0)} |`;
    }),
    '',
    `Cores busy on average: ${(sum(throughput.cpu) / (throughput.makespanMs / 1000)).toFixed(2)} during the tasks, ${(sum(throughput.floorCpu) / (throughput.floorMakespanMs / 1000)).toFixed(2)} during the bare workflows.`,
    '',
    '### Reads: `GET /v1/tasks/:id` at 200 requests/s',
    '',
    `| p50 (ms) | p99 (ms) | requests/s | errors |`,
    '| --- | --- | --- | --- |',
    `| ${reads.p50} | ${reads.p99} | ${reads.rps.toFixed(0)} | ${reads.errors} |`,
    END_MARKER,
  ].join('\n');

  const current = fs.readFileSync(REPORT_FILE, 'utf8');
  const start = current.indexOf(BEGIN_MARKER);
  const end = current.indexOf(END_MARKER);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + section + current.slice(end + END_MARKER.length)
      : `${current.trimEnd()}\n\n## Main job against the Temporal floor\n\n${section}\n`;
  fs.writeFileSync(REPORT_FILE, next);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
