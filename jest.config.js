/** ESM jest: NestJS 12 ships ESM only, so the tests run under `node --experimental-vm-modules`. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // test/install holds apps with their own package.json and Jest config, run by test/install/run.mjs.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/install/'],
  moduleNameMapper: {
    '^@nestream/transport$': '<rootDir>/packages/transport/src/index.ts',
    '^@nestream/transport/health$': '<rootDir>/packages/transport/src/health/index.ts',
    '^@nestream/transport/admin$': '<rootDir>/packages/transport/src/admin/index.ts',
    '^@nestream/transport/internal$': '<rootDir>/packages/transport/src/internal.ts',
    '^@nestream/testing$': '<rootDir>/packages/testing/src/index.ts',
    '^@nestream/board$': '<rootDir>/packages/board/src/index.ts',
    '^@nestream/board/standalone$': '<rootDir>/packages/board/src/standalone.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 60000,
  // Each spec starts its own redis-server; run files one by one (2 cores) and fail fast on leaks.
  maxWorkers: 1,
};
