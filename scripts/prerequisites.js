#!/usr/bin/env node
// Run before `npm test` and `npm run demo` (plain JavaScript: `npm test` comes right after
// `npm ci`, before anything is compiled). Installs the Debian packages the namespace labs and the
// end-to-end tests need when running as root with apt-get; otherwise names what is missing.
// lab/prerequisites.ts requires this file for missingTools, so the table has one reader.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

// The one table of tools: command, Debian package, smallest job that needs it.
const { tools: TOOLS } = require('./prerequisites.json');
const JOBS = ['lab', 'demo', 'test', 'bench'];
// sbin directories too: a non-root PATH often lacks them, and sshd lives there.
const SEARCH = [...(process.env.PATH || '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function found(command) {
  return SEARCH.some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The rows `job` needs, plus the named `commands`, whose command is not found. */
function missingTools(job, commands = []) {
  for (const c of commands)
    if (!TOOLS.some((t) => t.command === c)) throw new Error(`${c} is not in scripts/prerequisites.json`);
  const wanted = TOOLS.filter((t) => JOBS.indexOf(t.neededFor) <= JOBS.indexOf(job) || commands.includes(t.command));
  return wanted.filter((t) => !found(t.command));
}

// `demo`: the lab and ping (no PostgreSQL, sudo, …, which only tests use).
const FOR_DEMO = process.argv[2] === 'demo';
// `bench`: everything, plus the peers the bench times (Ansible), which `npm test` does not need.
const FOR_BENCH = process.argv[2] === 'bench';

function missingPackages() {
  const missing = new Set(missingTools(FOR_DEMO ? 'demo' : FOR_BENCH ? 'bench' : 'test').map((t) => t.package));
  if (FOR_DEMO) return [...missing].sort();
  // Debian puts the PostgreSQL server binaries under /usr/lib/postgresql/<version>/bin.
  if (!missing.has('postgresql')) {
    const root = '/usr/lib/postgresql';
    const hasServer =
      fs.existsSync(root) && fs.readdirSync(root).some((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')));
    if (!hasServer) missing.add('postgresql');
  }
  return [...missing].sort();
}

function main() {
  const missing = missingPackages();
  if (missing.length === 0) return 0;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !found('apt-get')) {
    process.stderr.write(
      `missing prerequisites: ${missing.join(' ')}\n` +
        `install them (Debian/Ubuntu: apt-get install -y ${missing.join(' ')}) and run this as root.\n`,
    );
    return 1;
  }
  process.stdout.write(`installing prerequisites: ${missing.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = { env, stdio: ['ignore', 'ignore', 'inherit'] };
  let r = spawnSync('apt-get', ['update', '-qq'], quiet);
  if (r.status === 0) r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], quiet);
  if (r.status !== 0) {
    process.stderr.write(`apt-get install ${missing.join(' ')} failed (exit ${r.status})\n`);
    return 1;
  }
  const still = missingPackages();
  if (still.length) {
    process.stderr.write(`still missing after apt-get: ${still.join(' ')}\n`);
    return 1;
  }
  return 0;
}

module.exports = { missingTools };
if (require.main === module) process.exitCode = main();
