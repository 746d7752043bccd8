/**
 * calico_policy_ruleset's load on a real kernel (lab 150, one node entered with nsenter): the
 * ruleset goes in as ONE nft transaction, with no `nft -c` pass before it, so this suite proves
 * what that pass used to promise. A ruleset that nft refuses, in its parser or in the kernel at
 * commit, changes nothing: the table the node had (or its absence) stays, and the error names
 * the node. And the bench's 250-workload × 100-policy table loads through the handler.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labDown, labUp, LabInfo, nodeExec } from '../../lab';
import { ObjectValue, ProviderError } from '../../providers/runtime/resource';
import { policyRulesetHandler } from '../../providers/calico';
import { normalizeListing, TABLE_HEADER, TABLE_MARK } from '../../providers/calico/nft-table';
import { RemoteHost } from '../../providers/ssh/types';
import { compilePolicyModel } from '../../constructs/policy-compile';
import { renderNodeRuleset } from '../../constructs/policy-nft';
import { benchCluster } from '../../bench/policy';
import { assertE2ePrerequisites } from '../e2e/prerequisites';
import { apply, contextFor, fullConfig, resolverFor } from './driver';

jest.setTimeout(120000);

const NODE = 'tx-n1';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-policy-tx-'));
let lab: LabInfo;
let host: RemoteHost;
let address: string;

const table = (...body: string[]) => [TABLE_HEADER, `\t${TABLE_MARK}`, ...body, '}'].join('\n');

/** One counter-free chain: loads anywhere. */
const GOOD = table('\tchain probe_a {', '\t\tip saddr 198.19.150.1 accept', '\t}');
const GOOD_2 = table('\tchain probe_b {', '\t\tip saddr 198.19.150.2 drop', '\t}');
/** Well formed for rulesetProblem and for `nft -c` (nft 1.0.6), refused by the kernel at commit: a jump loop from a base chain. */
const KERNEL_REFUSES = table(
  '\tchain loop_a {',
  '\t\tjump loop_b',
  '\t}',
  '\tchain loop_b {',
  '\t\tjump loop_a',
  '\t}',
  '\tchain forward {',
  '\t\ttype filter hook forward priority filter; policy accept;',
  '\t\tjump loop_a',
  '\t}',
);
/** Refused by nft's own evaluation, before anything reaches the kernel: a set that does not exist. */
const NFT_REFUSES = table('\tchain probe_c {', '\t\tip saddr @no_such_set drop', '\t}');

async function exec(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return host.run(script);
}

/** The node's table as the provider lists it, '' when there is none. */
async function hostTable(): Promise<string> {
  const r = await exec('nft list table inet calico-net 2>/dev/null || true');
  return normalizeListing(r.stdout);
}

const config = (ruleset: string): ObjectValue =>
  fullConfig(policyRulesetHandler, { node_name: NODE, ruleset }, { host: address });

async function load(ruleset: string, prior: ObjectValue | null): Promise<ObjectValue> {
  const ctx = contextFor(resolverFor(new Map([[address, host]])));
  return apply(policyRulesetHandler, config(ruleset), prior, ctx);
}

async function refused(ruleset: string, prior: ObjectValue | null): Promise<ProviderError> {
  const err = await load(ruleset, prior).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

beforeAll(async () => {
  await assertE2ePrerequisites();
  lab = await labUp({ dir, nodes: 1, id: 150 });
  address = lab.nodes[0].address;
  const name = lab.nodes[0].name;
  // The script on stdin, as the remote shell gets it over its channel (as one argument, a
  // large ruleset would pass the kernel's 128 KB limit for a single argument).
  host = {
    label: `${name} (${address})`,
    run: (script) => nodeExec(lab, name, ['bash', '--norc', '-s'], { input: script }),
  };
});

afterAll(async () => {
  if (lab) await labDown(lab.dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

let state: ObjectValue | null = null;

test('a refused first load leaves the node without a table, naming the node', async () => {
  expect(await hostTable()).toBe('');
  const err = await refused(KERNEL_REFUSES, null);
  expect(err.summary).toBe(`nft refused the network policy of node ${NODE}; its table is as it was`);
  expect(String(err.options.detail)).toContain(`node ${NODE}: nft refused the ruleset`);
  expect(await hostTable()).toBe('');
});

test('one transaction loads the table, and its listing is the table fact', async () => {
  state = await load(GOOD, null);
  const listed = await hostTable();
  expect(listed).toContain('chain probe_a');
  expect(listed).toContain('ip saddr 198.19.150.1 accept');
  expect(state.table).toBe(listed);
  expect(state.owner).toBe('calico-net');
});

test('a ruleset the kernel refuses at commit changes nothing: the loaded table stays whole', async () => {
  const before = await hostTable();
  const err = await refused(KERNEL_REFUSES, state);
  expect(err.summary).toContain(`node ${NODE}; its table is as it was`);
  expect(await hostTable()).toBe(before);
});

test('a ruleset nft itself refuses changes nothing either', async () => {
  const before = await hostTable();
  const err = await refused(NFT_REFUSES, state);
  expect(String(err.options.detail)).toContain('no_such_set');
  expect(await hostTable()).toBe(before);
});

test('an update replaces the whole table in the same transaction: nothing of the old one is left', async () => {
  state = await load(GOOD_2, state);
  const listed = await hostTable();
  expect(listed).toContain('chain probe_b');
  expect(listed).not.toContain('probe_a');
  expect(state.table).toBe(listed);
});

test("the bench's table (250 workloads, 100 policies on one node) loads through the handler", async () => {
  const spec = benchCluster();
  const ruleset = renderNodeRuleset(compilePolicyModel(spec)!, 'bench');
  state = await load(ruleset, state);
  const listed = await hostTable();
  expect(state.table).toBe(listed);
  expect(listed).not.toContain('probe_b');
  // Both verdict maps hold every workload's interface, and every policy has its ingress chain.
  expect(listed.match(/^\t+"cali[0-9a-f]{11}" : goto /gm)).toHaveLength(500);
  expect(listed.match(/^\tchain pi_p\d{3} \{$/gm)).toHaveLength(100);
  // Loaded again over itself: an update, whose ownership check reads the table first.
  state = await load(ruleset, state);
  expect(await hostTable()).toBe(listed);
});

test('a table of ours larger than a pipe holds is still ours: the update loads, the delete removes it', async () => {
  // 3,000 chains list as some 150 KB, more than a pipe's 64 KB: a check that piped the listing
  // into grep -q (which quits at the mark, line 2) killed the writer with SIGPIPE, and with
  // pipefail took our own table for a foreign one.
  const big = table(
    ...Array.from({ length: 3000 }, (_, i) => [
      `\tchain big_${String(i).padStart(4, '0')} {`,
      `\t\tip saddr 198.19.150.${(i % 250) + 1} accept`,
      '\t}',
    ]).flat(),
  );
  state = await load(big, state);
  expect((await exec('nft -t -s list table inet calico-net | wc -c')).stdout.trim()).toMatch(/^\d{6,}$/);
  state = await load(GOOD, state);
  expect(await hostTable()).toContain('chain probe_a');
  state = await load(big, state);
  const ctx = contextFor(resolverFor(new Map([[address, host]])));
  const warnings: string[] = [];
  await policyRulesetHandler.delete(state, { ...ctx, warn: (summary: string) => warnings.push(summary) });
  expect(warnings).toEqual([]);
  expect(await hostTable()).toBe('');
});
