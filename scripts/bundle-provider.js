#!/usr/bin/env node
/**
 * Bundles the provider (dist/providers/main.js and everything it requires, dependencies
 * included) into one file, dist/providers/provider.js: Terraform starts the provider about three
 * times per command, and a process that loads one file instead of some 200 modules (each a
 * resolve, a stat, a read and a compile) reaches its handshake sooner. `npm run bench` measures
 * both (start to handshake, median of 9).
 *
 * Runs after tsc (npm run build / prepare). esbuild is a devDependency: a package installed from
 * the packed tarball carries the bundle and never runs this. Without esbuild (a checkout built
 * with `tsc` alone) nothing is written, and synthesis points the shim at main.js.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'providers', 'main.js');
const outfile = path.join(root, 'dist', 'providers', 'provider.js');

let esbuild;
try {
  esbuild = require('esbuild');
} catch {
  fs.rmSync(outfile, { force: true }); // never leave a bundle older than the code it stands for
  process.stderr.write('bundle-provider: esbuild is not installed; the provider runs from dist/providers/main.js\n');
  process.exit(0);
}

// Build into a temporary file and rename: a bundle killed half-way is never run.
const tmp = `${outfile}.${process.pid}.tmp`;
try {
  esbuild.buildSync({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // ssh2 (a third of the bundle, with its dependencies) stays outside: the provider requires
    // it lazily, on its first connection, and two of Terraform's three starts of a command
    // connect to nothing; bundled, every start would parse it. Its optional native helpers
    // stay out for the same reason as before: ssh2 falls back to pure JS without them.
    external: ['ssh2', '*.node', 'cpu-features'],
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  fs.renameSync(tmp, outfile);
} catch (err) {
  fs.rmSync(tmp, { force: true });
  fs.rmSync(outfile, { force: true });
  throw err;
}
