/**
 * The exit codes our remote scripts stop with on purpose, one table for all of them: each name
 * has one code (the shell side, `fail NAME MESSAGE` in templates/scripts/lib/exit-codes.sh, uses
 * the same numbers; test/calico/scripts.test.ts keeps the two the same) and says what the
 * operator sees: the summary, whether the script's own words are the summary or the detail,
 * and the attribute the diagnostic points at.
 */
import { ProviderError } from '../runtime/resource';

/** Who failed at what, for the summaries. */
export interface FailureContext {
  node: string;
  /** What the script does, e.g. "write bird.conf": "Failed to write bird.conf on node n1". */
  doing: string;
  /** The file the script works on, when it works on one (bird.conf). */
  file?: string;
}

interface ExitMeaning {
  readonly code: number;
  /** The summary; null: the script's own sentence (its stderr) is the summary, with no detail. */
  readonly summary: ((c: FailureContext) => string) | null;
  readonly attribute?: readonly string[];
}

const genericSummary = (c: FailureContext) => `Failed to ${c.doing} on node ${c.node}`;

export const EXIT_CODES = {
  /** Something of someone else's is in the way, or a precondition the message names does not hold. */
  refused: { code: 3, summary: genericSummary },
  /** The pods' gateway route cannot be put in place (calico_node). */
  gateway_blocked: { code: 42, summary: null, attribute: ['name'] },
  /** `bird -p` rejected the new bird.conf; the live file was not touched. */
  bird_rejected: {
    code: 43,
    summary: (c) => `BIRD rejected the new configuration for node ${c.node}; ${c.file} was left untouched`,
    attribute: ['content'],
  },
  /** The host does not hold the node's address (lib/address.sh). */
  address_missing: { code: 44, summary: null, attribute: ['address'] },
  /** Sessions did not come back after a reload: BIRD is back on the previous config. */
  bird_rolled_back: {
    code: 45,
    summary: (c) => `The new bird.conf broke BGP on node ${c.node} and was rolled back`,
    attribute: ['content'],
  },
  /** No BIRD control socket: the file is in place, not loaded. */
  bird_not_running: { code: 46, summary: (c) => `BIRD is not running on node ${c.node}` },
  /** No `bird` on the PATH to check the new file with; the live file was not touched. */
  bird_missing: {
    code: 47,
    summary: (c) =>
      `Cannot check the new bird.conf on node ${c.node}: bird was not found on the PATH there; ${c.file} was left untouched`,
  },
  /** The kernel has no ipip support (calico_overlay with IPIP). */
  no_ipip: { code: 50, summary: null, attribute: ['encapsulation'] },
  /** No `nft` on the host (calico_policy_ruleset): policy cannot be enforced there. */
  nft_missing: { code: 51, summary: null },
  /** A table of our policy table's name that lacks our mark: someone else's, left alone. */
  policy_table_foreign: { code: 52, summary: null },
  /** nft refused the ruleset; the transaction was aborted and the table is as it was. */
  nft_refused: {
    code: 53,
    summary: (c) => `nft refused the network policy of node ${c.node}; its table is as it was`,
    attribute: ['ruleset'],
  },
  /** nft refused the ruleset, yet the table differs from before (nft's all-or-nothing broke). */
  nft_table_changed: {
    code: 54,
    summary: (c) =>
      `nft refused the network policy of node ${c.node}, and its table changed anyway: plan again to see it`,
  },
} as const satisfies Record<string, ExitMeaning>;

export type ExitName = keyof typeof EXIT_CODES;

export function isExitName(name: string): name is ExitName {
  return Object.prototype.hasOwnProperty.call(EXIT_CODES, name);
}

/**
 * The error for a script that exited with `code`: the table's meaning when the script can end
 * with that code (`exits`: the names its text uses), else the generic one. null for success.
 */
export function scriptFailure(
  code: number,
  stderr: string,
  exits: ReadonlySet<ExitName>,
  c: FailureContext,
): ProviderError | null {
  if (code === 0) return null;
  const said = stderr.trim();
  const name = [...exits].find((n) => EXIT_CODES[n].code === code);
  const meaning: ExitMeaning | undefined = name === undefined ? undefined : EXIT_CODES[name];
  if (meaning === undefined) return new ProviderError(genericSummary(c), { detail: said || `exit code ${code}` });
  const attribute = meaning.attribute ? [...meaning.attribute] : undefined;
  if (meaning.summary === null) return new ProviderError(said, { attribute });
  return new ProviderError(meaning.summary(c), { detail: said || `exit code ${code}`, attribute });
}
