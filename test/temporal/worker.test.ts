import { Writable } from 'node:stream';

import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createWorker, installRuntimeLogger } from '../../temporal/worker';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

/** Collects the JSON lines a pino logger writes. */
function captureLines(): { lines: Array<Record<string, unknown>>; destination: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe('createWorker', () => {
  const captured = captureLines();
  let environment: TestWorkflowEnvironment;

  beforeAll(async () => {
    // Installed before the environment creates the SDK runtime, so this logger is the one it keeps.
    installRuntimeLogger(createLogger({ level: 'info', destination: captured.destination }));
    environment = await createTimeSkippingEnvironment();
  });

  afterAll(async () => {
    await environment?.teardown();
  });

  it('forwards SDK logs to pino', async () => {
    const taskQueue = `worker-logs-${process.pid}`;
    const worker = await createWorker({
      config: loadConfig({}),
      connection: environment.nativeConnection,
      activities: {},
      workflowsPath: require.resolve('../../workflows/sample-timer'),
      taskQueue,
    });

    await worker.runUntil(Promise.resolve());

    const workerLines = captured.lines.filter((line) => line.sdkComponent === 'worker' && line.taskQueue === taskQueue);
    expect(workerLines.length).toBeGreaterThan(0);
    expect(workerLines.every((line) => line.component === 'temporal')).toBe(true);
    expect(workerLines.map((line) => line.msg)).toContain('Worker state changed');
  });

  it('uses the configured task queue by default', async () => {
    const config = loadConfig({ TEMPORAL_TASK_QUEUE: `configured-${process.pid}` });

    const worker = await createWorker({
      config,
      connection: environment.nativeConnection,
      activities: {},
      workflowsPath: require.resolve('../../workflows/sample-timer'),
    });
    // A worker releases its native resources only once it has run and shut down.
    await worker.runUntil(Promise.resolve());

    expect(worker.options.taskQueue).toBe(`configured-${process.pid}`);
    expect(worker.options.namespace).toBe('default');
  });
});
