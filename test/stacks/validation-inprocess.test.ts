/**
 * The same bad inventories as validation.test.ts, refused in process by parseInventory with the
 * same message (fast: no synth subprocess; these are what mutation testing can see).
 */
import { parseInventory } from '../../stacks/inventory';
import { ClusterValidationError } from '../../constructs/validation';
import { cases } from './validation-cases';

describe.each(cases)('%s', (_name, yaml, message) => {
  test('parseInventory refuses it with the same message', () => {
    let error: unknown;
    try {
      parseInventory(yaml, '/inventories/cluster.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ClusterValidationError);
    expect((error as ClusterValidationError).problems.some((p) => message.test(p))).toBe(true);
  });
});
