/**
 * An IPv4-only cluster's policy renders exactly what it rendered before policy learned IPv6:
 * the golden files were written by the code of commit 272f5d8 (test/constructs/golden/), so an
 * existing user's plan shows no change.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { compilePolicyModel } from '../../constructs/policy-compile';
import { renderNodeRuleset } from '../../constructs/policy-nft';
import { IPV4_FIXTURES } from './policy-ipv4-fixtures';

const golden = (file: string) => readFileSync(join(__dirname, 'golden', file), 'utf8');

describe.each(Object.entries(IPV4_FIXTURES))('IPv4-only fixture %s', (name, spec) => {
  const model = compilePolicyModel(spec)!;

  test.each(spec.nodes.map((n) => n.name))('node %s: the ruleset text is the one rendered before IPv6', (node) => {
    expect(renderNodeRuleset(model, node)).toBe(golden(`${name}.${node}.nft`));
  });

  test('the compiled model is the one compiled before IPv6', () => {
    expect(`${JSON.stringify(model, null, 2)}\n`).toBe(golden(`${name}.model.golden`));
  });
});
