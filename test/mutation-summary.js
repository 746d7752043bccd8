#!/usr/bin/env node
/**
 * Prints the mutation score from Stryker's JSON report (reports/mutation/mutation.json), per file
 * and overall, then every surviving or uncovered mutant with its place and replacement.
 * Score = (killed + timeout) / (killed + timeout + survived + no coverage), as Stryker counts it;
 * mutants the TypeScript checker rejects (compile errors) are not counted.
 */
const fs = require('fs');
const path = require('path');

const file = path.resolve(__dirname, '..', 'reports', 'mutation', 'mutation.json');
const report = JSON.parse(fs.readFileSync(file, 'utf8'));
const detected = new Set(['Killed', 'Timeout']);
const undetected = new Set(['Survived', 'NoCoverage']);
let hit = 0;
let total = 0;
const survivors = [];
const rows = [];
const others = {};
for (const [name, f] of Object.entries(report.files).sort()) {
  let d = 0;
  let u = 0;
  for (const m of f.mutants) {
    if (!detected.has(m.status) && !undetected.has(m.status)) others[m.status] = (others[m.status] ?? 0) + 1;
    if (detected.has(m.status)) d++;
    else if (undetected.has(m.status)) {
      u++;
      const lines = f.source.split('\n');
      const at = m.location.start;
      survivors.push(
        `${m.status.padEnd(10)} ${name}:${at.line}:${at.column} ${m.mutatorName}: ${JSON.stringify(lines[at.line - 1].trim().slice(0, 110))} -> ${JSON.stringify((m.replacement ?? '').slice(0, 80))}`,
      );
    }
  }
  hit += d;
  total += d + u;
  rows.push(
    `${(d + u ? (100 * d) / (d + u) : 100).toFixed(1).padStart(6)}%  ${String(d).padStart(4)}/${String(d + u).padEnd(4)} ${name}`,
  );
}
console.log(rows.join('\n'));
console.log(
  `\nmutation score: ${total ? ((100 * hit) / total).toFixed(2) : '100.00'}% (${hit} of ${total} mutants detected)`,
);
// Not in the score: CompileError (the TypeScript checker rejected the mutant), Ignored (static
// mutants unless MUTATION_STATIC=1, see stryker.config.js), RuntimeError.
const notCounted = Object.entries(others)
  .map(([k, v]) => `${v} ${k}`)
  .join(', ');
if (notCounted) console.log(`not counted: ${notCounted}`);
if (process.argv.includes('--survivors') || process.env.MUTATION_SURVIVORS === '1') {
  console.log(`\nundetected mutants (${survivors.length}):\n${survivors.join('\n')}`);
}
