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
  testTimeout: 12 * 60_000,
};
