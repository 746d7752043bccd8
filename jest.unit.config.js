/**
 * The fast suites: no root, no namespaces, no network, no terraform/sshd/bird daemons (the
 * example stacks are synthesized in-process by node and parse-checked with `bird -p`, a local
 * parser run). `npm run test:unit` runs exactly these, and Stryker (stryker.config.js) mutates
 * against exactly these. Add a fast suite here; keep anything that builds a lab out.
 */
const base = require('./jest.config.js');

const unitSuites = [
  'test/constructs/**/*.test.ts',
  'test/stacks/**/*.test.ts',
  'test/cli/reports.test.ts',
  'test/cli/report-builders.test.ts',
  'test/cli/verify-report.test.ts',
  'test/cli/verify-ping.test.ts',
  'test/cli/verify-survivors.test.ts',
  'test/cli/verify-dual-stack.test.ts',
  'test/cli/dual-stack-reports.test.ts',
  'test/cli/report-edges.test.ts',
  'test/cli/lab-cli.test.ts',
  'test/cli/peer-status.test.ts',
  'test/lab/tor-config.test.ts',
  'test/lab/lab-ipv6.test.ts',
  'test/cli/explain.test.ts',
  'test/cli/explain-mutants.test.ts',
  'test/cli/policy-verify.test.ts',
  'test/cli/policy-verify-observe.test.ts',
  'test/cli/policy-prober.test.ts',
  'test/cli/policy-verify-ipv6.test.ts',
  'test/cli/shard-reports.test.ts',
  'test/cli/shard-moves.test.ts',
  'test/lab/addressing.test.ts',
  'test/calico/units.test.ts',
  'test/calico/bird-missing.test.ts',
  'test/calico/snapshot.test.ts',
  'test/calico/ip-output.test.ts',
  'test/calico/overlay-units.test.ts',
  'test/calico/registry.test.ts',
  'test/calico/scripts.test.ts',
  'test/calico/exit-codes-mutants.test.ts',
  'test/calico/script-mutants.test.ts',
  'test/calico/script-files.test.ts',
  'test/rules/address-family-mutants.test.ts',
  'test/calico/policy-status-scripts.test.ts',
  'test/calico/host-identity.test.ts',
  'test/calico/dual-stack-host.test.ts',
  'test/plugin/**/*.test.ts',
  'test/runtime/codec.test.ts',
  'test/runtime/destroy-refresh.test.ts',
  'test/runtime/planning.test.ts',
  'test/runtime/flatmap-typed.test.ts',
  'test/runtime/codec-edges.test.ts',
  'test/runtime/value-walk-edges.test.ts',
  'test/runtime/validation.test.ts',
  'test/runtime/validation-mutants.test.ts',
  'test/ssh/known-hosts.test.ts',
  'test/ssh/batch.test.ts',
  'test/ssh/token-scanner.test.ts',
  'test/ssh/ssh-settings.test.ts',
  'test/graph/picture.test.ts',
  'test/graph/dot.test.ts',
];

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: unitSuites.map((glob) => `<rootDir>/${glob}`),
  testTimeout: 60000,
};
