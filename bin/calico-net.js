#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and compiled to dist/ by `npm run build`
// (run automatically by `npm ci` / `npm install` through the package's prepare script).
'use strict';
const path = require('path');
let main;
try {
  main = require(path.join(__dirname, '..', 'dist', 'cli', 'main.js')).main;
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('calico-net is not built yet: run `npm run build` in ' + path.join(__dirname, '..') + '\n');
    process.exit(1);
  }
  throw err;
}
// process.exit() drops whatever a pipe has not taken yet (a large --format json report was cut
// off mid-way): exit once both streams have handed everything to the OS.
const exit = (code) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
main(process.argv.slice(2)).then(exit, (err) => {
  process.stderr.write(`calico-net: ${err && err.message ? err.message : err}\n`);
  exit(1);
});
