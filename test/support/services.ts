import { startPostgresServer } from './postgres-server';
import { startS3Server } from './s3-server';
import { startTemporalServer } from './temporal-server';

/** A service started for the test run: the variables that reach it, and how to stop it. */
export interface RunningService {
  name: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface TestServices {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts every service in parallel; if one fails, the ones already started are stopped. */
export async function startTestServices(): Promise<TestServices> {
  const results = await Promise.allSettled([startPostgresServer(), startTemporalServer(), startS3Server()]);
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));

  const stop = async () => {
    await Promise.allSettled(started.map((service) => service.stop()));
  };

  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length > 0) {
    await stop();
    throw new AggregateError(failures, `Failed to start test services: ${failures.map(String).join('; ')}`);
  }

  return { env: Object.assign({}, ...started.map((service) => service.env)), stop };
}
