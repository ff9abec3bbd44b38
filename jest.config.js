/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['<rootDir>/local/polyfill.ts'],
  testTimeout: 120000,
  // Workflow and integration tests start TLS servers and nginx; two workers fit the 2-core CI box.
  maxWorkers: 2,
};
