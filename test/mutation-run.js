#!/usr/bin/env node
/**
 * `npm run mutation`: Stryker over the whole `mutated` list of stryker.config.js, in pieces that
 * each save their results.
 *
 * One Stryker run over every module takes hours on a small shared machine, and a run that is
 * stopped keeps nothing. So the list is run group by group (one group per directory, e.g.
 * providers/runtime, cli), each with `--incremental`: every finished group lands in
 * reports/mutation/incremental.json, and a later run reuses each mutant whose code and covering
 * tests did not change. After the groups, one last incremental run over the whole list writes
 * reports/mutation/mutation.json (it reuses what the groups measured and reruns only what
 * changed since), then test/mutation-summary.js prints the score.
 *
 * A module with focused suites (stryker.config.js's focusedSuites: one nearly every suite loads)
 * is first run alone against those suites, before its group: the group run then reuses every
 * mutant they killed and runs only the rest against all the fast suites.
 *
 * Stryker runs under `nice -n 10` so it yields the CPU to other people's lab tests.
 *
 *   MUTATION_GROUPS=cli,rules   run only these groups (names as printed), then the whole-list run
 *   MUTATION_GROUPS=none        only the whole-list run (after test changes: reruns what they touch)
 *   MUTATION_FRESH=1            forget earlier results (delete the incremental file) first
 *   MUTATION_WHOLE=0            stop after the groups (no whole-list run, no new mutation.json)
 *   MUTATION_CHECKER / MUTATION_STATIC   see stryker.config.js
 *   MUTATION_SUITES             set here for the focused runs (see stryker.config.js)
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { mutate, focusedSuites } = require(path.join(root, 'stryker.config.js'));
const incrementalFile = path.join('reports', 'mutation', 'incremental.json');
const strykerBin = path.join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');

/** The directory part of a pattern before its first glob character: its group. */
function groupOf(pattern) {
  const literal = pattern.split(/[*?[{]/)[0];
  return literal.endsWith('/') ? literal.slice(0, -1) : path.posix.dirname(literal);
}

const exclusions = mutate.filter((p) => p.startsWith('!'));
const groups = new Map();
for (const pattern of mutate.filter((p) => !p.startsWith('!'))) {
  const name = groupOf(pattern);
  groups.set(name, [...(groups.get(name) ?? []), pattern]);
}

const wanted =
  process.env.MUTATION_GROUPS === 'none'
    ? []
    : process.env.MUTATION_GROUPS
      ? process.env.MUTATION_GROUPS.split(',').map((s) => s.trim())
      : [...groups.keys()];
const unknown = wanted.filter((g) => !groups.has(g));
if (unknown.length) {
  console.error(`unknown mutation group(s): ${unknown.join(', ')}; groups are: ${[...groups.keys()].join(', ')}`);
  process.exit(2);
}
if (process.env.MUTATION_FRESH === '1') fs.rmSync(path.join(root, incrementalFile), { force: true });

function stryker(label, extraArgs, env = process.env) {
  const started = Date.now();
  console.log(`\n=== mutation: ${label} (${new Date(started).toISOString()}) ===`);
  const args = [
    '-n',
    '10',
    process.execPath,
    strykerBin,
    'run',
    'stryker.config.js',
    '--incremental',
    '--incrementalFile',
    incrementalFile,
    ...extraArgs,
  ];
  const run = spawnSync('nice', args, { cwd: root, stdio: 'inherit', env });
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  if (run.status !== 0) {
    console.error(`=== mutation: ${label} failed (exit ${run.status ?? run.signal}) after ${minutes} min ===`);
    return false;
  }
  console.log(`=== mutation: ${label} done in ${minutes} min ===`);
  return true;
}

for (const name of wanted) {
  for (const [module, suites] of Object.entries(focusedSuites)) {
    if (groupOf(module) !== name) continue;
    const env = { ...process.env, MUTATION_SUITES: suites.join(',') };
    if (!stryker(`${module} against ${suites.join(', ')}`, ['--mutate', module], env)) process.exit(1);
  }
  // A group that fails stops here: the final run would otherwise redo it all in one long piece.
  if (!stryker(`group ${name}`, ['--mutate', [...groups.get(name), ...exclusions].join(',')])) process.exit(1);
}
// Whole list: reuses every result above, reruns only mutants whose code or tests changed since.
if (process.env.MUTATION_WHOLE !== '0' && !stryker('whole list', [])) process.exit(1);
