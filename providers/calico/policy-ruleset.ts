/**
 * calico_policy_ruleset: a node's network policy as one nftables table of our own
 * (`inet calico-net`, marked by its comment), compiled at synth (constructs/policy-nft.ts).
 *
 * Apply replaces the table in one `nft -f` transaction (add, delete, define). That transaction
 * is the check: nft parses and evaluates the whole file before it sends anything, and the kernel
 * validates every object of the batch and commits all of it or none, so a refused ruleset leaves
 * the table as it was (the script confirms that) and the host never runs without policy nor with
 * half of it. A separate `nft -c` pass cost as much again and is weaker: it passed a jump loop
 * that the kernel refuses at commit (measured with nft 1.0.6). The `table` fact is the host's
 * listing in a stable form (nft-table.ts): plan expects the listing the last apply produced, so
 * a rule added or deleted by hand, a flushed ruleset or a deleted table shows as a diff and the
 * next apply loads the table again. A table of that name
 * without our mark is refused (apply) and left alone (destroy), naming the node. A host without
 * `nft` fails apply, naming the node; reads of it show no table.
 *
 * Reads run their own small read-only script rather than a section of the shared host snapshot:
 * hosts of a cluster without policies never run anything about nftables.
 */
import { PlanRequest, PlanResult, ProviderError, ResourceContext, ResourceHandler, Unknown } from '../runtime/resource';
import { asObjectValue, BlockValues, InputValues, knownInputs, knownValues } from '../runtime/typed';
import { nodeNameProblem } from '../../rules/checks';
import { POLICY_TABLE_FAMILY, POLICY_TABLE_NAME } from '../../rules/policy-table';
import { CalicoProviderState, runOn } from './hosts';
import { parseImportId } from './import-id';
import { isOurTable, normalizeListing, TABLE_MARK } from './nft-table';
import { resourceSchemas } from './schema';
import { scriptFailure } from './exit-codes';
import { RemoteScript, remoteScript } from './script';

type Ctx = ResourceContext<CalicoProviderState>;
const schema = resourceSchemas.calico_policy_ruleset;
type RulesetState = BlockValues<typeof schema.block>;
type RulesetInputs = InputValues<typeof schema.block>;

export const OWNER_OURS = 'calico-net';
export const OWNER_FOREIGN = 'not calico-net';

/** Where the script's answer starts: after it, only the listing. */
const LISTING_MARK = '==> calico-net listing';

const TABLE = `${POLICY_TABLE_FAMILY} ${POLICY_TABLE_NAME}`;

/** The variables every policy script reads: our table and the line that starts its listing. */
const TABLE_VARS = {
  table_family: POLICY_TABLE_FAMILY,
  table_name: POLICY_TABLE_NAME,
  listing_mark: LISTING_MARK,
};

/** The listing after our mark line in a script's stdout, normalized. */
export function listingOf(stdout: string): string | undefined {
  const at = stdout.indexOf(`${LISTING_MARK}\n`);
  return at < 0 ? undefined : normalizeListing(stdout.slice(at + LISTING_MARK.length + 1));
}

/** The facts a listing gives. */
export function tableFacts(listing: string): Pick<RulesetState, 'table' | 'owner'> {
  if (listing === '') return { table: '', owner: '' };
  return { table: listing, owner: isOurTable(listing) ? OWNER_OURS : OWNER_FOREIGN };
}

/** The script apply runs on the node (templates/scripts/policy-apply.sh), and the exits it can end with. */
export function rulesetApply(node: string, ruleset: string): RemoteScript {
  return remoteScript(['policy-apply'], { ...TABLE_VARS, node, ruleset, mark: TABLE_MARK });
}

/** The text of the script apply runs on the node (bench/policy.ts times this very script). */
export function rulesetApplyScript(node: string, ruleset: string): string {
  return rulesetApply(node, ruleset).text;
}

/** The read-only script read and import run. */
const readScript = () => remoteScript(['policy-read'], TABLE_VARS).text;

async function applyRuleset(planned: RulesetInputs, ctx: Ctx): Promise<RulesetState> {
  // The runtime ran the schema's checks on both (rulesetProblem among them) before apply.
  const { node_name: node, ruleset } = planned;
  const host = ctx.provider.hosts.hostFor(planned.ssh, node);
  const script = rulesetApply(node, ruleset);
  const result = await runOn(host, node, script.text, {
    signal: ctx.signal,
    doing: 'load its network policy',
  });
  const failure = scriptFailure(result.code, result.stderr, script.exits, { node, doing: 'load the network policy' });
  if (failure) throw failure;
  const stderr = result.stderr.trim();
  const listing = listingOf(result.stdout);
  if (listing === undefined) {
    throw new ProviderError(`Failed to load the network policy of node ${node}`, {
      detail: stderr || `exit code ${result.code}`,
    });
  }
  return { ...planned, id: node, ...tableFacts(listing), applied_table: listing };
}

export const policyRulesetHandler: ResourceHandler<CalicoProviderState> = {
  typeName: 'calico_policy_ruleset',
  schema,

  plan(req: PlanRequest): PlanResult {
    const { prior, config } = req;
    // The same ruleset as last applied: the host must list what it listed then. Otherwise the
    // listing is known only once the new ruleset is loaded.
    const same =
      prior !== null &&
      typeof config.ruleset === 'string' &&
      prior.ruleset === config.ruleset &&
      typeof prior.applied_table === 'string';
    const expected = same ? (prior.applied_table as string) : Unknown;
    return {
      planned: {
        ...req.proposed,
        id: config.node_name ?? Unknown,
        owner: OWNER_OURS,
        table: expected,
        applied_table: expected,
      },
    };
  },

  create: async (planned, ctx) => asObjectValue(await applyRuleset(knownInputs(schema.block, planned), ctx)),
  update: async (_prior, planned, ctx) => asObjectValue(await applyRuleset(knownInputs(schema.block, planned), ctx)),

  async read(stateValue, ctx) {
    // A missing table is drift, not absence: the facts say it is gone and apply loads it again.
    const state = knownValues(schema.block, stateValue);
    const node = state.node_name;
    const host = ctx.provider.readOnlyHosts.hostFor(state.ssh, node);
    const result = await runOn(host, node, readScript(), {
      signal: ctx.signal,
      doing: 'read its network policy',
    });
    if (result.code !== 0)
      throw new ProviderError(`Failed to read the network policy of node ${node}`, {
        detail: result.stderr.trim() || `exit code ${result.code}`,
      });
    const listing = result.stdout.includes('nft=missing') ? '' : listingOf(result.stdout);
    if (listing === undefined)
      throw new ProviderError(`Incomplete answer from node ${node}`, { detail: result.stdout.slice(0, 2000) });
    return asObjectValue({ ...state, ...tableFacts(listing) });
  },

  async delete(priorValue, ctx) {
    const prior = knownValues(schema.block, priorValue);
    const node = prior.node_name;
    const host = ctx.provider.hosts.hostFor(prior.ssh, node);
    const result = await runOn(host, node, remoteScript(['policy-delete'], { ...TABLE_VARS, mark: TABLE_MARK }).text, {
      signal: ctx.signal,
      doing: 'remove its network policy',
    });
    if (result.code !== 0 || !/^end=ok$/m.test(result.stdout)) {
      throw new ProviderError(`Failed to remove the network policy of node ${node}`, {
        detail: result.stderr.trim() || `exit code ${result.code}`,
      });
    }
    if (/^foreign=1$/m.test(result.stdout)) {
      ctx.warn(`Left node ${node}'s table ${TABLE} in place`, {
        detail: "it lacks calico-net's comment: calico-net did not create it",
      });
    }
  },

  async import(id, ctx) {
    const { subject: node, ssh } = parseImportId(id, '<node>@[user@]host[:port]');
    const problem = nodeNameProblem(node);
    if (problem) throw new ProviderError(`Invalid node name in import id "${id}"`, { detail: problem });
    const host = ctx.provider.readOnlyHosts.hostFor(ssh, node);
    const result = await runOn(host, node, readScript(), {
      signal: ctx.signal,
      doing: 'read its network policy',
    });
    const listing = listingOf(result.stdout) ?? '';
    if (!isOurTable(listing))
      throw new ProviderError(`Cannot import calico_policy_ruleset ${node}`, {
        detail: `node ${node} has no table ${TABLE} marked as calico-net's`,
      });
    // The ruleset is not recoverable from the listing: the next plan loads the declared one.
    const state: RulesetState = {
      id: node,
      node_name: node,
      ruleset: '',
      ...tableFacts(listing),
      applied_table: null,
      ssh,
    };
    return asObjectValue(state);
  },
};
