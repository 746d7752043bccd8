/** Runs real terraform against the rtfixture provider in a throw-away directory. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installProviderShim } from '../../providers/install';
import { REPO } from './provider-process';

export const FIXTURE_SOURCE = { hostname: 'registry.terraform.io', namespace: 'cdktf-calico', type: 'rtfixture' };

/**
 * test/ is outside the main build: compile the fixture with its own tsconfig, into a directory of
 * this jest worker's own (dist/test-fixtures/<pid>/). Test files run in parallel and must not
 * rewrite a provider another file is running; and nothing here rewrites dist/providers/. Being
 * under the repo, the output still resolves node_modules. Returns the compiled entry.
 */
export function compileFixture(): { entry: string; cleanup(): void } {
  const outDir = path.join(REPO, 'dist', 'test-fixtures', String(process.pid));
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '-p', path.join(REPO, 'test', 'runtime', 'fixture', 'tsconfig.json'), '--outDir', outDir],
    {
      cwd: REPO,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`fixture build failed:\n${r.stdout}${r.stderr}`);
  fixtureEntry = path.join(outDir, 'test', 'runtime', 'fixture', 'main.js');
  const cleanup = (): void => {
    fs.rmSync(outDir, { recursive: true, force: true });
    try {
      fs.rmdirSync(path.dirname(outDir)); // only when no other worker's copy is left
    } catch {
      // not empty: another test file is still using its copy
    }
  };
  return { entry: fixtureEntry, cleanup };
}

let fixtureEntry: string | undefined;
export function FIXTURE_ENTRY(): string {
  if (!fixtureEntry) throw new Error('compileFixture() first');
  return fixtureEntry;
}

export interface TfResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for messages that may land in either. */
  output: string;
}

export class TerraformDir {
  readonly dir: string;
  /** Where terraform runs (default: dir). */
  cwd: string;
  env: NodeJS.ProcessEnv;

  constructor(prefix = 'rt-e2e-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.cwd = this.dir;
    const env: NodeJS.ProcessEnv = {};
    // Inherit the basics only: the user's own TF_* settings must not leak into the tests.
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TF_') && !k.startsWith('PLUGIN_')) env[k] = v;
    fs.writeFileSync(path.join(this.dir, 'empty.tfrc'), '');
    // CHECKPOINT_DISABLE: no version check against HashiCorp's servers, no ~/.terraform.d.
    this.env = {
      ...env,
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      TF_CLI_CONFIG_FILE: path.join(this.dir, 'empty.tfrc'),
    };
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** The shim in ./terraform.d/plugins (an implied local mirror relative to the working dir). */
  installFixture(pluginsDir = this.path('terraform.d', 'plugins')): string {
    return installProviderShim({ entry: FIXTURE_ENTRY(), source: FIXTURE_SOURCE, version: '0.1.0', pluginsDir });
  }

  write(name: string, content: string): void {
    fs.writeFileSync(this.path(name), content);
  }

  tf(...args: string[]): TfResult {
    const interactive = ['init', 'plan', 'apply', 'destroy', 'import', 'refresh'].includes(args[0]);
    // `state <sub>` / `providers <sub>` take their options after the subcommand.
    const full =
      args[0] === 'state' || args[0] === 'providers'
        ? args
        : [args[0], ...(interactive ? ['-input=false'] : []), '-no-color', ...args.slice(1)];
    const r = spawnSync('terraform', full, { cwd: this.cwd, env: this.env, encoding: 'utf8', timeout: 180_000 });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}\n${r.stderr}` };
  }

  /** Runs terraform and fails the test with its output when the exit code is not the expected one. */
  expectTf(expectedCode: number, ...args: string[]): TfResult {
    const r = this.tf(...args);
    if (r.code !== expectedCode) {
      throw new Error(`terraform ${args.join(' ')} exited ${r.code}, expected ${expectedCode}:\n${r.output}`);
    }
    return r;
  }

  state(): any {
    return JSON.parse(this.expectTf(0, 'show', '-json').stdout);
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function fixtureConfig(resources: string, provider = 'provider "rtfixture" {\n  label = "e2e"\n}\n'): string {
  return `terraform {
  required_providers {
    rtfixture = {
      source  = "cdktf-calico/rtfixture"
      version = "0.1.0"
    }
  }
}

${provider}
${resources}`;
}

export function fileResource(
  name: string,
  o: { dir: string; file: string; content: string; lines?: string[]; tag?: string },
): string {
  return `resource "rtfixture_file" "${name}" {
  content = ${JSON.stringify(o.content)}
${o.lines ? `  lines   = ${JSON.stringify(o.lines)}\n` : ''}${o.tag ? `  tag     = ${JSON.stringify(o.tag)}\n` : ''}
  location {
    dir  = ${JSON.stringify(o.dir)}
    name = ${JSON.stringify(o.file)}
  }
}
`;
}
