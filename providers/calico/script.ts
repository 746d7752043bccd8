/**
 * The one place remote scripts are loaded and parameterised. The scripts are files under
 * templates/scripts (shipped in the package; found through packageRoot(), from the sources, from
 * dist/ and from the one-file bundle alike), so shellcheck and an editor see them as what they
 * are. A script file pulls in a library with a line `. "$LIB/NAME.sh"`: the loader puts the
 * library's text in its place, once per script, since the host has no copy to source.
 *
 * Values travel as quoted shell variables assigned at the top (scriptWithVars), never spliced
 * into code: a resource's own values under lower-case names, declared by each script as
 * `: "${name:?}"`; the constants below and the address family's values under upper-case names,
 * the same for every script.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AddressFamily, IPV4, IPV6 } from '../../rules/address-family';
import { POD_GATEWAY, ENCAPSULATION } from '../../rules/constants';
import { packageRoot } from '../package-root';
import { shQuote } from '../ssh/quote';
import { ExitName, isExitName } from './exit-codes';
import { HOST_VETH_MAC, NETNS_MARK, OUR_ROUTE_PROTO, OWN_GATEWAY_DEV, POD_GATEWAY_V6 } from './names';
import { OVERLAY_DEVICES } from './registry';

/**
 * Builds a script whose first lines assign the given shell variables (each value quoted), so
 * the body only ever refers to "$name" and never splices a value into code.
 */
export function scriptWithVars(vars: Record<string, string>, body: string): string {
  const assignments = Object.entries(vars).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad shell variable name ${name}`);
    return `${name}=${shQuote(value)}`;
  });
  return ['set -euo pipefail', ...assignments, body].join('\n');
}

/**
 * What the scripts take from the address family: the `ip` flag, the host prefix length, the
 * sysctl directory and forwarding's switch in it. IPv4's are the only ones used today; the
 * dual-stack work passes IPv6's (-6, 128, /proc/sys/net/ipv6, conf/all/forwarding).
 */
export interface ScriptFamily {
  IP_FAMILY_FLAG: string;
  HOST_PREFIX: string;
  SYSCTL_DIR: string;
  /** Forwarding's switch, relative to SYSCTL_DIR. */
  IP_FORWARD: string;
  /** The metric of a route given none (the one `ip route replace` takes over). */
  DEFAULT_METRIC: string;
}

/** A family's values as the scripts see them; rules/address-family.ts owns them. */
export function scriptFamilyOf(family: AddressFamily): Readonly<ScriptFamily> {
  return {
    IP_FAMILY_FLAG: family.ipFlag,
    HOST_PREFIX: String(family.hostPrefix),
    SYSCTL_DIR: family.sysctlDir,
    IP_FORWARD: family.forwardingSysctl,
    DEFAULT_METRIC: String(family.defaultRouteMetric),
  };
}

export const IPV4_SCRIPT_FAMILY = scriptFamilyOf(IPV4);

/**
 * IPv6's values under "V6_" names, beside the script's own family: a dual-stack workload or node
 * programs both families in one script (one SSH exec), its IPv4 half as before.
 */
export function ipv6ScriptVars(): Record<string, string> {
  const family = Object.entries(scriptFamilyOf(IPV6)).map(([name, value]) => [`V6_${name}`, value]);
  return { ...Object.fromEntries(family), V6_POD_GATEWAY: POD_GATEWAY_V6, V6_DEFAULT_ROUTE: IPV6.defaultRoute };
}

/** The constants every script may use (names.ts and rules/constants.ts own their values). */
export function scriptConstants(): Record<string, string> {
  return {
    CALICO_MARK: NETNS_MARK,
    ROUTE_PROTO: OUR_ROUTE_PROTO,
    POD_GATEWAY,
    OWN_GATEWAY_DEV,
    HOST_VETH_MAC,
    ...ipv6ScriptVars(),
    OVERLAY_DEVICES: OVERLAY_DEVICES.join(' '),
    ENCAPSULATION_DEVICES: Object.values(ENCAPSULATION)
      .map((e) => e.device)
      .join(' '),
  };
}

/** templates/scripts: where the script files are. */
export function scriptsDir(): string {
  return path.join(packageRoot(), 'templates', 'scripts');
}

/** A file under templates/scripts, without ".sh" (e.g. "node-apply", "lib/registry"), or literal lines. */
export type ScriptPiece = string | { readonly text: string };

/** A script ready to run, and the exit names (exit-codes.ts) its text can end with. */
export interface RemoteScript {
  readonly text: string;
  readonly exits: ReadonlySet<ExitName>;
}

const INCLUDE = /^\. "\$LIB\/([a-z0-9-]+)\.sh"$/;
const FILE_NAME = /^(lib\/)?[a-z0-9-]+$/;
const files = new Map<string, string>();

function readScriptFile(name: string): string {
  if (!FILE_NAME.test(name)) throw new Error(`bad script name ${name}`);
  let text = files.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(scriptsDir(), `${name}.sh`), 'utf8');
    files.set(name, text);
  }
  return text;
}

/** The here-document a line opens: the word that ends it, and whether `<<-` lets tabs lead that word. */
interface HereDocument {
  readonly end: string;
  readonly tabs: boolean;
}

/** Whether the line ends the here-document: its word alone on the line (after tabs, for `<<-`). */
function endsHereDocument(line: string, doc: HereDocument): boolean {
  return line === doc.end || (doc.tabs && line.replace(/^\t+/, '') === doc.end);
}

/**
 * The file's lines with its libraries in place (each library once per script: `seen`). Comment
 * lines and blank lines stay home (the snapshot runs on every plan): only outside here-documents,
 * whose lines are data.
 */
function expand(name: string, seen: Set<string>): string[] {
  const out: string[] = [];
  let heredoc: HereDocument | undefined;
  for (const line of readScriptFile(name).split('\n')) {
    if (heredoc !== undefined) {
      out.push(line);
      if (endsHereDocument(line, heredoc)) heredoc = undefined;
      continue;
    }
    if (/^\s*(#|$)/.test(line)) continue;
    // A here-document's opener, its word bare or quoted ('EOF', "EOF", \EOF): its lines run up to
    // that word alone on a line. A here-string (<<<) opens none: no `<` may precede the `<<`, and
    // a word must follow it at once.
    const opener = /(?:^|[^<])<<(-?)\s*["'\\]?([A-Za-z_]+)/.exec(line);
    heredoc = opener ? { end: opener[2], tabs: opener[1] === '-' } : undefined;
    const include = INCLUDE.exec(line);
    if (include) {
      const lib = `lib/${include[1]}`;
      if (!seen.has(lib)) {
        seen.add(lib);
        out.push(...expand(lib, seen));
      }
      continue;
    }
    out.push(line);
  }
  return out;
}

const bodies = new Map<string, { body: string; exits: ReadonlySet<ExitName> }>();

/** The pieces as one body (cached), and the exit names it uses; an unknown name is our bug. */
export function scriptBody(pieces: readonly ScriptPiece[]): { body: string; exits: ReadonlySet<ExitName> } {
  const key = JSON.stringify(pieces);
  const cached = bodies.get(key);
  if (cached) return cached;
  const seen = new Set<string>();
  const lines = pieces.flatMap((p) => {
    if (typeof p !== 'string') return [p.text];
    if (p.startsWith('lib/')) {
      if (seen.has(p)) return [];
      seen.add(p);
    }
    return expand(p, seen);
  });
  const body = lines.join('\n');
  // `$LIB` in any spelling (`${LIB}`, `${LIB:-…}`) would reach the host unset.
  if (/\$\{?LIB\b/.test(body))
    throw new Error(`script ${JSON.stringify(pieces)} sources a library in a form the loader does not inline`);
  const exits = new Set<ExitName>();
  for (const m of body.matchAll(/(?:^|[\s;|&({])fail ([A-Za-z0-9_]+)/g)) {
    if (!isExitName(m[1]))
      throw new Error(`script ${JSON.stringify(pieces)} fails with ${m[1]}, which exit-codes.ts does not know`);
    exits.add(m[1]);
  }
  const result = { body, exits };
  bodies.set(key, result);
  return result;
}

/**
 * The script made of `pieces`, run with `vars` (a resource's values: lower-case names) and the
 * constants and family values (upper-case names).
 */
export function remoteScript(
  pieces: readonly ScriptPiece[],
  vars: Record<string, string>,
  family: Readonly<ScriptFamily> = IPV4_SCRIPT_FAMILY,
): RemoteScript {
  const shared: Record<string, string> = { ...scriptConstants(), ...family };
  const clash = Object.keys(vars).find((name) => name in shared || name === 'LIB');
  if (clash) throw new Error(`script variable ${clash} is one of the shared names`);
  const { body, exits } = scriptBody(pieces);
  return { text: scriptWithVars({ ...shared, ...vars }, body), exits };
}
