// ESM project: Jest runs under `node --experimental-vm-modules` and ts-jest emits ES modules.
import vm from 'node:vm';

// `npx jest` runs Jest without that flag, and every spec then fails with "Must
// use import to load ES Module" (on every Node version): say what to run instead.
if (typeof vm.SourceTextModule !== 'function') {
  throw new Error(
    'Chronicle\'s specs are ES modules, and Jest runs them only under `node --experimental-vm-modules`. ' +
      'Run `npm test -- <path>` (e.g. `npm test -- apps/orders`): it builds what changed and runs Jest so. ' +
      'Or, without the build: `node --experimental-vm-modules node_modules/jest/bin/jest.js <path>`.',
  );
}

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testRegex: '.*\\.spec\\.ts$',
  moduleFileExtensions: ['ts', 'cts', 'js', 'json'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^@chronicle/core$': '<rootDir>/libs/core/src/index.ts',
    '^@chronicle/testing$': '<rootDir>/libs/testing/src/index.ts',
    '^@chronicle/gateway$': '<rootDir>/libs/gateway/src/index.ts',
    '^@chronicle/console$': '<rootDir>/libs/console/src/index.ts',
    '^@shop/contracts$': '<rootDir>/libs/shop-contracts/src/index.ts',
    '^@shop/(orders|payments|inventory)$': '<rootDir>/apps/$1/src/$1/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The schematics' unit specs import their .cts sources (CommonJS, for the
    // Angular devkit) as ../src/*.cjs; packages' own .cjs files stay as they are.
    '^(\\.\\./src/[\\w/-]+)\\.cjs$': '$1.cts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
    '^.+\\.cts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 60000,
  // No spec may print a secret it registered (libs/core/test/secret-watch.ts).
  setupFilesAfterEnv: ['<rootDir>/libs/core/test/jest.secret-watch.ts'],
};
