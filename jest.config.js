/** Unit, integration, workflow and end-to-end tests in one run: one Temporal dev server and one
 * migrated template database are started in globalSetup; each test file gets its own database. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  // The Temporal native runtime keeps the worker process alive after the last test.
  forceExit: true,
};
