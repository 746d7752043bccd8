/**
 * `calico-net init [--cdk cdktn|cdktf] [DIR]`: a project for one cluster, the way `cdktf init` does
 * it with its templates — package.json (with the CDK's CLI), cdktf.json, a commented cluster.yaml, the app
 * (main.js) and .gitignore. Works in an empty directory and in one where the package was just
 * installed: it adds what is missing and never overwrites a file that is already there (in an
 * existing package.json it only adds missing dependencies).
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../providers/package-root';

/**
 * CDK Terrain (cdktn) or CDK for Terraform (cdktf, archived by HashiCorp in December 2025). Both
 * read cdktf.json and write cdktf.out; only the package names and the CLI's name differ.
 */
export type InitFlavour = 'cdktn' | 'cdktf';
/**
 * cdktf, not yet cdktn: cdktn-cli 0.24 needs Node.js >= 22.19 (its engines field; on Node 20 it
 * fails at start), and this package supports Node 20. See the README's CDK section.
 */
export const DEFAULT_INIT_FLAVOUR: InitFlavour = 'cdktf';

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** An npm package name from a directory name. */
function packageNameFor(dir: string): string {
  const name = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '');
  return name || 'calico-cluster';
}

/** The dependencies a project needs, at the versions this package was built and tested with. */
function wantedDependencies(flavour: InitFlavour): Record<string, string> {
  const own = readJson<PackageJson>(path.join(packageRoot(), 'package.json'));
  // The CDK and its CLI are the app's to install (peer and dev dependencies here), not ours.
  const versions = { ...(own.devDependencies ?? {}), ...(own.peerDependencies ?? {}), ...(own.dependencies ?? {}) };
  return {
    'cdktf-calico': `^${own.version}`,
    [flavour]: versions[flavour],
    [`${flavour}-cli`]: versions[`${flavour}-cli`],
    constructs: versions.constructs,
  };
}

/** The flavour an existing package.json already uses, if it names exactly one. */
export function flavourOfProject(dir: string): InitFlavour | undefined {
  const file = path.join(dir, 'package.json');
  if (!fs.existsSync(file)) return undefined;
  const pkg = readJson<PackageJson>(file);
  const present = { ...(pkg.devDependencies ?? {}), ...(pkg.dependencies ?? {}) };
  const found = (['cdktn', 'cdktf'] as const).filter(
    (n) => present[n] !== undefined || present[`${n}-cli`] !== undefined,
  );
  return found.length === 1 ? found[0] : undefined;
}

/** Adds what package.json lacks; returns what was done, or undefined when nothing was. */
function ensurePackageJson(dir: string, flavour: InitFlavour): string | undefined {
  const file = path.join(dir, 'package.json');
  const wanted = wantedDependencies(flavour);
  if (!fs.existsSync(file)) {
    const pkg = {
      name: packageNameFor(dir),
      version: '0.1.0',
      private: true,
      scripts: {
        synth: `${flavour} synth`,
        diff: `${flavour} diff`,
        deploy: `${flavour} deploy`,
        destroy: `${flavour} destroy`,
      },
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

export function initProject(dir: string, flavour: InitFlavour = DEFAULT_INIT_FLAVOUR): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const template = (name: string): string =>
    fs.readFileSync(path.join(packageRoot(), 'cli', 'init-template', name), 'utf8').replace(/__CDK__/g, flavour);
  const done: string[] = [];
  const pkg = ensurePackageJson(dir, flavour);
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

/** Whether this Node runs cdktn-cli 0.24 (engines: node >= 22.19.0). */
export function nodeRunsCdktnCli(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 19);
}

const INIT_USAGE = 'usage: calico-net init [--cdk cdktn|cdktf] [DIR]\n';

export function initCommand(argv: string[]): number {
  const args = [...argv];
  let chosen: InitFlavour | undefined;
  const flag = args.findIndex((a) => a === '--cdk' || a.startsWith('--cdk='));
  if (flag >= 0) {
    const value = args[flag].includes('=') ? args[flag].slice('--cdk='.length) : args[flag + 1];
    args.splice(flag, args[flag].includes('=') ? 1 : 2);
    if (value !== 'cdktn' && value !== 'cdktf') {
      process.stderr.write(
        `calico-net init: --cdk must be cdktn or cdktf, not ${JSON.stringify(value ?? '')}\n${INIT_USAGE}`,
      );
      return 1;
    }
    chosen = value;
  }
  if (args.length > 1 || args[0]?.startsWith('-')) {
    process.stderr.write(INIT_USAGE);
    return 1;
  }
  const dir = path.resolve(args[0] ?? '.');
  const existing = flavourOfProject(dir);
  if (chosen && existing && chosen !== existing) {
    process.stderr.write(
      `calico-net init: ${path.join(dir, 'package.json')} already uses ${existing}; see the README's migration note to move it to ${chosen}\n`,
    );
    return 1;
  }
  const flavour = chosen ?? existing ?? DEFAULT_INIT_FLAVOUR;
  if (flavour === 'cdktn' && !nodeRunsCdktnCli(process.versions.node)) {
    process.stderr.write(`calico-net init: note: cdktn-cli needs Node.js >= 22.19; this is ${process.versions.node}\n`);
  }
  for (const line of initProject(dir, flavour)) process.stdout.write(`${line}\n`);
  const cd = dir === process.cwd() ? '' : `cd ${JSON.stringify(dir)} && `;
  process.stdout.write(
    `\nNext: edit cluster.yaml, then\n  ${cd}npm install\n  npx ${flavour} deploy\n` +
      '(run as a user whose ssh key and known_hosts reach every node; see the cdktf-calico README).\n',
  );
  return 0;
}
