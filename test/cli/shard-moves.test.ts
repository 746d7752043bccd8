/** Which entries move between shard states when nodes change shard (cli/shard-moves.ts). */
import { planShardMoves, ShardHoldings } from '../../cli/shard-moves';

const shard = (stack: string, declared: string[], held: string[]): ShardHoldings => ({
  stack,
  declared: new Set(declared),
  held,
});

test('a node whose rack changed: its entries move from the old rack to the new one', () => {
  const plan = planShardMoves([
    shard('lab-r1', ['calico_node.n1', 'calico_node.n3'], ['calico_node.n1']),
    shard('lab-r2', ['calico_node.n2'], ['calico_node.n2', 'calico_node.n3']),
  ]);
  expect(plan).toEqual({
    moves: [{ address: 'calico_node.n3', from: 'lab-r2', to: 'lab-r1', alreadyThere: false }],
    orphans: [],
    problems: [],
  });
});

test('nothing to do when every state holds what its stack declares', () => {
  expect(planShardMoves([shard('a', ['x'], ['x']), shard('b', ['y'], [])])).toEqual({
    moves: [],
    orphans: [],
    problems: [],
  });
});

test('a retired rack (declares nothing) gives up its entries; a removed node is an orphan, not a move', () => {
  const plan = planShardMoves([
    shard('lab-r1', ['calico_node.n1', 'calico_node.n2'], ['calico_node.n1']),
    shard('lab-r9', [], ['calico_node.n2', 'calico_node.gone']),
  ]);
  expect(plan.moves).toEqual([{ address: 'calico_node.n2', from: 'lab-r9', to: 'lab-r1', alreadyThere: false }]);
  expect(plan.orphans).toEqual([{ address: 'calico_node.gone', stack: 'lab-r9' }]);
  expect(plan.problems).toEqual([]);
});

test('an interrupted move (the entry in both states): the source only lets go of its copy', () => {
  const plan = planShardMoves([shard('a', ['x'], ['x']), shard('b', [], ['x'])]);
  expect(plan.moves).toEqual([{ address: 'x', from: 'b', to: 'a', alreadyThere: true }]);
});

test('two stale copies and none in the owner: refused, naming both', () => {
  const plan = planShardMoves([shard('a', ['x'], []), shard('b', [], ['x']), shard('c', [], ['x'])]);
  expect(plan.moves).toEqual([]);
  expect(plan.problems).toEqual([
    'x is held by b and c and declared by a: two copies, so nothing is moved (keep the one that matches the host with terraform state rm in the other)',
  ]);
});

test('an address two stacks declare is refused', () => {
  const plan = planShardMoves([shard('a', ['x'], []), shard('b', ['x'], []), shard('c', [], ['x'])]);
  expect(plan.problems).toEqual(['x is declared by a and b: a resource belongs to one shard']);
});
