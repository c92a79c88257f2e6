import type { TestServices } from './support/services';

export default async function globalTeardown(): Promise<void> {
  const services = (globalThis as { novartTestServices?: TestServices }).novartTestServices;
  await services?.stop();
}
