/**
 * The one place that names a CDK library. The constructs work inside a CDK for Terraform app
 * (`cdktf`, archived in December 2025) and inside a CDK Terrain app (`cdktn`, its community
 * continuation): the two libraries have the same API and keep the same identity symbols
 * (`Symbol.for("cdktf/App")`, the token map, the custom-synthesis hook), so one set of constructs
 * serves both, as long as it builds on the library the app itself loaded.
 *
 * Both are optional peer dependencies: a project installs the one it uses, and we load that very
 * copy (resolved from the project), so App, stacks, tokens and our resources share one library.
 * Types come from cdk-types.ts, our own shape of the part we use, checked against both libraries:
 * our declarations name neither, so a project type-checks with only the one it installed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { IConstruct } from 'constructs';
import type { CdkLibrary, ISynthesisSession } from './cdk-types';

export type { CdkLibrary };
export type CdkFlavour = 'cdktn' | 'cdktf';
export const CDK_FLAVOURS: readonly CdkFlavour[] = ['cdktn', 'cdktf'];

/** What the choice is made from; gathered by `cdkEvidence`, passed in so the rule can be tested. */
export interface CdkEvidence {
  /** `CALICO_CDK`, for the rare project that has both installed and wants the other one. */
  override?: string;
  /** Libraries already loaded in this process (the app imported one before us). */
  loaded: CdkFlavour[];
  /** The project's package.json: which it lists under dependencies, which under dev/peer. */
  dependencies: CdkFlavour[];
  devDependencies: CdkFlavour[];
  /** Which of the two can be resolved from the project (or from this package). */
  resolvable: CdkFlavour[];
}

/**
 * The library the app uses: an explicit CALICO_CDK; else the one the app already loaded; else the
 * one the project's package.json lists (dependencies before devDependencies; cdktf when it lists
 * both alike, as an existing project that adds cdktn to migrate still runs on cdktf until it
 * drops it); else whichever is installed. Returns a problem string when there is none.
 */
export function chooseCdk(evidence: CdkEvidence): { flavour: CdkFlavour } | { problem: string } {
  if (evidence.override !== undefined && evidence.override !== '') {
    const wanted = evidence.override as CdkFlavour;
    if (!CDK_FLAVOURS.includes(wanted))
      return { problem: `CALICO_CDK must be cdktn or cdktf, not ${JSON.stringify(evidence.override)}` };
    if (!evidence.resolvable.includes(wanted))
      return {
        problem: `CALICO_CDK=${wanted}, but ${wanted} is not installed in this project (npm install ${wanted})`,
      };
    return { flavour: wanted };
  }
  const pick = (names: CdkFlavour[]): CdkFlavour | undefined => {
    const usable = names.filter((n) => evidence.resolvable.includes(n));
    if (usable.length === 1) return usable[0];
    return usable.length > 1 ? 'cdktf' : undefined;
  };
  const flavour =
    pick(evidence.loaded) ?? pick(evidence.dependencies) ?? pick(evidence.devDependencies) ?? pick(evidence.resolvable);
  if (flavour) return { flavour };
  return {
    problem:
      'cdktf-calico needs CDK Terrain or CDK for Terraform in your project: npm install cdktn constructs (or cdktf)',
  };
}

/** The nearest package.json at or above `dir`. */
function projectPackageJson(dir: string): Record<string, unknown> | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const file = path.join(d, 'package.json');
    if (fs.existsSync(file)) {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/** Where each library resolves from: the project first (where the app's own copy lives), then us. */
function resolveFlavour(name: CdkFlavour, projectDir: string): string | undefined {
  for (const from of [projectDir, __dirname]) {
    try {
      return require.resolve(name, { paths: [from] });
    } catch {
      // not installed there
    }
  }
  return undefined;
}

export function cdkEvidence(
  projectDir = process.cwd(),
  env = process.env,
): CdkEvidence & { paths: Partial<Record<CdkFlavour, string>> } {
  const paths: Partial<Record<CdkFlavour, string>> = {};
  for (const name of CDK_FLAVOURS) {
    const resolved = resolveFlavour(name, projectDir);
    if (resolved) paths[name] = resolved;
  }
  const pkg = projectPackageJson(projectDir) ?? {};
  const listed = (...keys: string[]): CdkFlavour[] =>
    CDK_FLAVOURS.filter((n) =>
      keys.some((k) => typeof pkg[k] === 'object' && pkg[k] !== null && n in (pkg[k] as object)),
    );
  const cached = Object.keys(require.cache ?? {});
  return {
    override: env.CALICO_CDK,
    loaded: CDK_FLAVOURS.filter((n) => paths[n] !== undefined && cached.includes(paths[n] as string)),
    dependencies: listed('dependencies'),
    devDependencies: listed('devDependencies', 'peerDependencies'),
    resolvable: CDK_FLAVOURS.filter((n) => paths[n] !== undefined),
    paths,
  };
}

function loadCdk(): { flavour: CdkFlavour; library: CdkLibrary; entry: string } {
  const evidence = cdkEvidence();
  const choice = chooseCdk(evidence);
  if ('problem' in choice) throw new Error(choice.problem);
  const entry = evidence.paths[choice.flavour] as string;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CDK library is chosen at run time (cdktf or cdktn), by path
  return { flavour: choice.flavour, library: require(entry) as CdkLibrary, entry };
}

const loaded = loadCdk();

/** The CDK library the app uses (cdktn or cdktf); import its classes from here, never by name. */
export const cdk: CdkLibrary = loaded.library;
export const cdkFlavour: CdkFlavour = loaded.flavour;

/**
 * `addCustomSynthesis`: not re-exported from either library's index; the one hook that runs with
 * a stack's output directory. Both keep it at the same path, keyed by the same symbol.
 */
export function addCustomSynthesis(
  construct: IConstruct,
  synthesis: { onSynthesize: (session: ISynthesisSession) => void },
): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file inside whichever CDK library was loaded, found by path
  const synthesizer = require(path.join(path.dirname(loaded.entry), 'synthesize', 'synthesizer')) as {
    addCustomSynthesis: (c: unknown, s: unknown) => void;
  };
  synthesizer.addCustomSynthesis(construct, synthesis);
}
