/**
 * What this machine lacks to run a job, read from scripts/prerequisites.json: the one table of
 * tools, which scripts/prerequisites.js installs before `npm test` and `npm run demo`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../providers/package-root';

/** lab: `calico-net lab up`; demo: also pings; test: everything the suite runs. */
export type Job = 'lab' | 'demo' | 'test';
const JOBS: Job[] = ['lab', 'demo', 'test'];

interface Tool {
  command: string;
  package: string;
  neededFor: Job;
}

function tools(): Tool[] {
  const file = path.join(packageRoot(), 'scripts', 'prerequisites.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { tools: Tool[] }).tools;
}

// sbin directories too: a non-root PATH often lacks them, and sshd lives there.
const SEARCH = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function onPath(command: string): boolean {
  return SEARCH.some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The tools `job` needs (plus the named `commands` of the table) that are missing, each with the
 * package to install; root first when the job builds namespaces.
 */
export function missingPrerequisites(job: Job = 'lab', commands: string[] = []): string[] {
  const table = tools();
  for (const c of commands) if (!table.some((t) => t.command === c)) throw new Error(`${c} is not in scripts/prerequisites.json`);
  const wanted = table.filter((t) => JOBS.indexOf(t.neededFor) <= JOBS.indexOf(job) || commands.includes(t.command));
  const missing = wanted.filter((t) => !onPath(t.command)).map((t) => `${t.command} (apt-get install -y ${t.package})`);
  if (process.getuid?.() !== 0) missing.unshift('root (the lab creates network namespaces)');
  return missing;
}
