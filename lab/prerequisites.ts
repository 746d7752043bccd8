/**
 * What this machine lacks to run a job. The table (scripts/prerequisites.json) and the lookup
 * belong to scripts/prerequisites.js, which installs the tools before `npm test` and `npm run
 * demo` and is plain JavaScript because it runs before anything is compiled; this is its typed
 * face for the lab and the tests.
 */
import * as path from 'path';
import { packageRoot } from '../providers/package-root';

/** lab: `calico-net lab up`; demo: also pings; test: everything the suite runs; bench: also the peers `npm run bench` times. */
export type Job = 'lab' | 'demo' | 'test' | 'bench';

interface Tool {
  command: string;
  package: string;
  neededFor: Job;
}

interface InstallScript {
  missingTools(job: Job, commands?: string[]): Tool[];
}

function installScript(): InstallScript {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JavaScript outside the compiled tree, found from the package root
  return require(path.join(packageRoot(), 'scripts', 'prerequisites.js')) as InstallScript;
}

/**
 * The tools `job` needs (plus the named `commands` of the table) that are missing, each with the
 * package to install; root first, since every job builds namespaces.
 */
export function missingPrerequisites(job: Job = 'lab', commands: string[] = []): string[] {
  const missing = installScript()
    .missingTools(job, commands)
    .map((t) => `${t.command} (apt-get install -y ${t.package})`);
  if (process.getuid?.() !== 0) missing.unshift('root (the lab creates network namespaces)');
  return missing;
}
