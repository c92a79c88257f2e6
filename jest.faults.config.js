/** @type {import('jest').Config} */
// Fault runs start and restart their own services, so they have no global setup and run one file at a time.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.fault.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  maxWorkers: 1,
  // NOTE: a handle that was not found yet (presumably the Temporal SDK's native runtime after the server restart)
  // keeps jest alive after the runs, although services, workers and children are stopped, as the last test checks.
  forceExit: true,
  testTimeout: 12 * 60_000,
};
