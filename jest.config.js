/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.js',
  // ESM-only packages, converted to CommonJS by the global setup (jest cannot require ES modules).
  moduleNameMapper: { '^@kubernetes/client-node$': '<rootDir>/node_modules/.cache/jest-esm/kubernetes-client-node.cjs' },
  // Synthesizing EKS stacks is CPU-bound: two workers match the two-core machines we run on.
  maxWorkers: 2,
  testTimeout: 60000,
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
