import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

import type { Config } from '../lib/config';
import { temporalNames } from './names';

type ConnectionConfig = Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_DEV_PORT' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE'>;

/** Returns the frontend `host:port`: the configured one, else the embedded dev server on this machine. */
export function temporalAddress(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_DEV_PORT'>): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
}

/**
 * Connects a workflow client bound to the configured namespace.
 * Close it with `client.connection.close()`.
 */
export async function connectClient(config: ConnectionConfig): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress(config) });

  return new Client({ connection, namespace: temporalNames(config).namespace });
}

/** Connects the native connection that workers poll through. */
export async function connectWorkerConnection(config: ConnectionConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: temporalAddress(config) });
}
