import type { Duration } from '@temporalio/common';
import { sleep } from '@temporalio/workflow';

/** Times measured on the workflow's own clock, which the time-skipping server moves forward. */
export interface SampleTimerResult {
  startedAt: number;
  finishedAt: number;
}

/** Sleeps for `duration` (milliseconds or a string such as `2 days`): a probe for timer handling. */
export async function sampleTimer(duration: Duration): Promise<SampleTimerResult> {
  const startedAt = Date.now();

  await sleep(duration);

  return { startedAt, finishedAt: Date.now() };
}
