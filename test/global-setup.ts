import { startTestServices } from './support/services';

/**
 * Starts the real services the suite needs (PostgreSQL, Temporal, an S3
 * server) once, and publishes their addresses as TEST_* environment variables
 * that test workers inherit.
 */
export default async function globalSetup(): Promise<void> {
  const services = await startTestServices();
  Object.assign(process.env, services.env);
  (globalThis as { novartTestServices?: unknown }).novartTestServices = services;
}
