import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createWorker } from '../../temporal/worker';
import { sampleTimer } from '../../workflows/sample-timer';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

const TWO_DAYS_MS = 2 * 24 * 60 * 60 * 1000;

describe('time-skipping test server', () => {
  let environment: TestWorkflowEnvironment;

  beforeAll(async () => {
    environment = await createTimeSkippingEnvironment();
  });

  afterAll(async () => {
    await environment?.teardown();
  });

  it('completes a 2-day timer without waiting for it', async () => {
    const taskQueue = `sample-timer-${process.pid}`;
    const worker = await createWorker({
      config: loadConfig({}),
      connection: environment.nativeConnection,
      activities: {},
      workflowsPath: require.resolve('../../workflows/sample-timer'),
      taskQueue,
      logger: createLogger({ level: 'warn' }),
    });

    const result = await worker.runUntil(
      environment.client.workflow.execute(sampleTimer, {
        workflowId: `sample-timer-${Date.now()}`,
        taskQueue,
        args: ['2 days'],
      }),
    );

    expect(result.finishedAt - result.startedAt).toBeGreaterThanOrEqual(TWO_DAYS_MS);
  });
});
