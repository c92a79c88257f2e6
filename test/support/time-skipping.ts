import { TestWorkflowEnvironment } from '@temporalio/testing';

import { createLogger } from '../../lib/logger';
import { locateTimeSkippingServer } from '../../temporal/test-server';
import { installRuntimeLogger } from '../../temporal/worker';
import { toolConfig } from './temporal-server';

/**
 * Starts a time-skipping test server from the executable the global setup
 * provisioned (TEST_TEMPORAL_TEST_SERVER_PATH), or locates one itself when a
 * test runs without it. Call `teardown()` when done.
 */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const executablePath = process.env.TEST_TEMPORAL_TEST_SERVER_PATH ?? (await locateTimeSkippingServer(toolConfig()));
  // The SDK runtime is created with the environment, so its logger must be chosen first.
  installRuntimeLogger(createLogger({ name: 'test-temporal', level: process.env.LOG_LEVEL ?? 'warn' }));

  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: executablePath } },
  });
}
