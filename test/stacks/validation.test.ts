/**
 * Every kind of bad inventory makes the real default app exit 1 with a message naming the node,
 * workload or field, and write no stack.
 */
import * as fs from 'fs';
import * as path from 'path';
import { synthInventory, synthYaml } from './synth-helpers';
import { cases } from './validation-cases';

describe.each(cases)('%s', (_name, yaml, message) => {
  test('exits 1 with a message naming the culprit, and synthesizes nothing', () => {
    const r = synthYaml(yaml);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stack).toBeNull();
    expect(fs.existsSync(path.join(r.outdir, 'stacks'))).toBe(false);
  });
});

test('a missing inventory file says which file and how to point at another', () => {
  const r = synthInventory('/nonexistent/cluster.yaml');
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/cannot read inventory \/nonexistent\/cluster\.yaml: ENOENT \(set CALICO_INVENTORY/);
  expect(r.stack).toBeNull();
});
