import type { Config } from '../lib/config';

/** Namespace of the workflows and task queue the workers poll, both taken from configuration. */
export interface TemporalNames {
  namespace: string;
  taskQueue: string;
}

export function temporalNames(config: Pick<Config, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE'>): TemporalNames {
  return { namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE };
}
