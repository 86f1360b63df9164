// ESM project: Jest runs under `node --experimental-vm-modules` and ts-jest emits ES modules.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testRegex: '.*\\.spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^@chronicle/core$': '<rootDir>/libs/core/src/index.ts',
    '^@chronicle/testing$': '<rootDir>/libs/testing/src/index.ts',
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
};
