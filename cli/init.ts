/**
 * `calico-net init [DIR]`: a cdktf project for one cluster, the way `cdktf init` does it with its
 * templates — package.json (with cdktf-cli), cdktf.json, a commented cluster.yaml, the app
 * (main.js) and .gitignore. Works in an empty directory and in one where the package was just
 * installed: it adds what is missing and never overwrites a file that is already there (in an
 * existing package.json it only adds missing dependencies).
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../providers/package-root';

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** An npm package name from a directory name. */
function packageNameFor(dir: string): string {
  const name = path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '');
  return name || 'calico-cluster';
}

/** The dependencies a project needs, at the versions this package was built with. */
function wantedDependencies(): Record<string, string> {
  const own = readJson<PackageJson>(path.join(packageRoot(), 'package.json'));
  const deps = own.dependencies ?? {};
  return {
    'cdktf-calico': `^${own.version}`,
    cdktf: deps.cdktf,
    'cdktf-cli': deps['cdktf-cli'],
    constructs: deps.constructs,
  };
}

/** Adds what package.json lacks; returns what was done, or undefined when nothing was. */
function ensurePackageJson(dir: string): string | undefined {
  const file = path.join(dir, 'package.json');
  const wanted = wantedDependencies();
  if (!fs.existsSync(file)) {
    const pkg = {
      name: packageNameFor(dir),
      version: '0.1.0',
      private: true,
      scripts: { synth: 'cdktf synth', diff: 'cdktf diff', deploy: 'cdktf deploy', destroy: 'cdktf destroy' },
      dependencies: wanted,
    };
    fs.writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`, { flag: 'wx' });
    return 'created package.json';
  }
  const text = fs.readFileSync(file, 'utf8');
  const pkg = JSON.parse(text) as PackageJson;
  const present = { ...(pkg.devDependencies ?? {}), ...(pkg.dependencies ?? {}) };
  const missing = Object.entries(wanted).filter(([name]) => present[name] === undefined);
  if (missing.length === 0) return undefined;
  pkg.dependencies = { ...(pkg.dependencies ?? {}), ...Object.fromEntries(missing) };
  const indent = /^\{\n(\s+)"/.exec(text)?.[1] ?? '  ';
  fs.writeFileSync(file, `${JSON.stringify(pkg, null, indent)}\n`);
  return `added to package.json: ${missing.map(([n, v]) => `${n}@${v}`).join(', ')}`;
}

function cdktfJson(): string {
  const json = {
    language: 'typescript',
    app: 'node main.js',
    // cdktf writes a projectId into cdktf.json when there is none; give it one up front.
    projectId: randomUUID(),
    sendCrashReports: 'false',
    terraformProviders: [],
    terraformModules: [],
    context: {},
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Writes `content` unless `file` exists; never replaces a file. */
function createOnly(file: string, content: string): boolean {
  try {
    fs.writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export function initProject(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const template = (name: string): string => fs.readFileSync(path.join(packageRoot(), 'cli', 'init-template', name), 'utf8');
  const done: string[] = [];
  const pkg = ensurePackageJson(dir);
  if (pkg) done.push(pkg);
  const files: [string, () => string][] = [
    ['cdktf.json', cdktfJson],
    ['cluster.yaml', () => template('cluster.yaml')],
    ['main.js', () => template('main.js')],
    ['.gitignore', () => template('gitignore')],
  ];
  for (const [name, content] of files) {
    if (createOnly(path.join(dir, name), content())) done.push(`created ${name}`);
    else done.push(`kept your ${name}`);
  }
  return done;
}

export function initCommand(argv: string[]): number {
  if (argv.length > 1 || argv[0]?.startsWith('-')) {
    process.stderr.write('usage: calico-net init [DIR]\n');
    return 1;
  }
  const dir = path.resolve(argv[0] ?? '.');
  for (const line of initProject(dir)) process.stdout.write(`${line}\n`);
  const cd = dir === process.cwd() ? '' : `cd ${JSON.stringify(dir)} && `;
  process.stdout.write(
    `\nNext: edit cluster.yaml, then\n  ${cd}npm install\n  npx cdktf deploy\n` +
      '(run as a user whose ssh key and known_hosts reach every node; see the cdktf-calico README).\n',
  );
  return 0;
}
