/**
 * Mutation testing (`npm run mutation`): Stryker mutates the modules below and runs the fast
 * suites of jest.unit.config.js against each mutant (no root, no lab). The JSON report goes to
 * reports/mutation/mutation.json; the score is printed at the end.
 *
 * `mutated` is THE list to edit when modules move: one entry per module (or glob) whose logic the
 * fast suites are meant to pin down.
 */
const unit = require('./jest.unit.config.js');

const mutated = [
  // Plugin runtime: value codec, planning rules, value helpers, diagnostics.
  'providers/runtime/codec.ts',
  'providers/runtime/planning.ts',
  'providers/runtime/value-walk.ts',
  'providers/runtime/typed.ts',
  'providers/runtime/flatmap.ts',
  'providers/runtime/diagnostics.ts',
  'providers/runtime/terraform-command.ts',
  'providers/runtime/validation.ts',
  // Rules every layer shares: input checks, IPv4 arithmetic, SSH targets.
  // Rules every layer shares: input checks, address families and CIDR maths, SSH targets.
  'rules/checks.ts',
  'rules/address-family.ts',
  'rules/ssh.ts',
  'rules/subnets.ts',
  // Constructs and their validation.
  'constructs/**/*.ts',
  '!constructs/index.ts',
  // Inventory parsing.
  'stacks/inventory.ts',
  'stacks/shards.ts',
  'stacks/pg-connection.ts',
  'cli/shard-moves.ts',
  // Parsers of iproute2 and BIRD output.
  'providers/calico/ip-output.ts',
  'providers/calico/nft-table.ts',
  // The one loader of the remote scripts and the one table of their exit codes.
  'providers/calico/script.ts',
  'providers/calico/exit-codes.ts',
  'cli/bird-protocols.ts',
  'cli/bird-peer-details.ts',
  // Report builders.
  'cli/drift-report.ts',
  'cli/status.ts',
  'cli/unified-diff.ts',
  'cli/verify.ts',
  'cli/explain.ts',
  'cli/policy-verify.ts',
];

// globalSetup compiles dist/ for the suites that run the compiled default app; `npm run
// mutation` compiles once before Stryker starts, so each mutant run skips it.
// The jest runner also reads jest.config.js on its own and lays this config over it, so leaving
// a key out is not enough: `null` overrides it (undefined would vanish on the way to the runner
// process, and tsc would then run before every mutant).
const { globalSetup: _globalSetup, globalTeardown: _globalTeardown, ...unitConfig } = unit;
// The two suites that spawn the compiled default app (dist/, which Stryker does not mutate) can
// never detect a mutant; they only cost time, so the mutation run leaves them out. Their cases
// also run in process (validation-inprocess.test.ts), which is what detects mutants.
const subprocessSuites = ['<rootDir>/test/stacks/validation.test.ts', '<rootDir>/test/stacks/examples.test.ts'];
// What keeps the run bounded for modules that nearly every fast suite loads (the script loader,
// the address families): each of their mutants runs every suite that imports them, among them
// suites that spawn shellcheck and bash per case. A run on script.ts alone was projected at
// 4 h 41 min, mutant after mutant timing out. So test/mutation-run.js first runs each such module
// against its own in-process suites below (MUTATION_SUITES), which between them detect every
// mutant of it that the fast suites detect. The group run after that reuses (--incremental) each
// mutant one of them killed, and runs only what they left alive (the equivalent mutants listed in
// the suites' headers, and any timeout) against all the fast suites: no suite is dropped.
const focusedSuites = {
  'providers/calico/script.ts': ['test/calico/script-mutants.test.ts', 'test/calico/script-files.test.ts'],
  'rules/address-family.ts': ['test/constructs/address-family.test.ts', 'test/rules/address-family-mutants.test.ts'],
};
// MUTATION_SUITES=a.test.ts,b.test.ts: run only these suites (a focused run, above).
const onlySuites = process.env.MUTATION_SUITES ? process.env.MUTATION_SUITES.split(',') : undefined;
// ts-jest type-checks every file it compiles (~3x slower per run); here each mutant is a jest
// run, so suites are only transpiled. Type errors are the TypeScript checker's job (below).
const { preset: _preset, ...withoutPreset } = unitConfig;
const jestConfig = {
  ...withoutPreset,
  globalSetup: null,
  globalTeardown: null,
  preset: null,
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testPathIgnorePatterns: ['/node_modules/', ...subprocessSuites],
  ...(onlySuites && { testMatch: onlySuites.map((suite) => `<rootDir>/${suite}`) }),
};

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
module.exports = {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', config: jestConfig, enableFindRelatedTests: true },
  // The TypeScript checker drops mutants that do not compile before any test runs. It is the
  // slow part on a small machine (cdktf's types); MUTATION_CHECKER=0 skips it, and a mutant
  // that does not type-check then runs as JavaScript like any other.
  checkers: process.env.MUTATION_CHECKER === '0' ? [] : ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants such as the inventory's shape table) run every fast
  // suite per mutant: ~140 of them take 94% of the time. MUTATION_STATIC=1 includes them.
  ignoreStatic: process.env.MUTATION_STATIC !== '1',
  mutate: mutated,
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  concurrency: 2,
  timeoutMS: 20000,
  ignorePatterns: ['cdktf.out', '.lab', 'reports', 'coverage'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
// For test/mutation-run.js; not enumerable, so Stryker never sees it among its options.
Object.defineProperty(module.exports, 'focusedSuites', { value: focusedSuites });
