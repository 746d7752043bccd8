/**
 * Which state entries move between shard states after nodes changed shard (a `rack` edited, a
 * node turned into a route reflector or back), so that no host is rebuilt: the node's resources
 * keep their Terraform address in every stack, so the entries move as they are from the state
 * of the shard that no longer declares them into the state of the shard that now does.
 *
 * Pure logic: the caller pulls the states, synthesizes the stacks, and pushes the result.
 */

/** A shard state as pulled: the stack it belongs to, what its stack declares, what it holds. */
export interface ShardHoldings {
  stack: string;
  /** Addresses the synthesized stack declares; empty for a rack no longer in the inventory. */
  declared: ReadonlySet<string>;
  /** Addresses the state holds. */
  held: readonly string[];
}

export interface ShardMove {
  address: string;
  from: string;
  to: string;
  /**
   * The target state already holds the address (an interrupted earlier run pushed it there, or
   * the target was deployed since): the source only lets go of its stale copy.
   */
  alreadyThere: boolean;
}

export interface ShardMovePlan {
  moves: ShardMove[];
  /** Held by a state whose stack no longer declares them, and declared nowhere: removed nodes, which the next deploy of that stack destroys, as before sharding. */
  orphans: { address: string; stack: string }[];
  /** Why nothing may be moved (empty when the plan is safe to carry out). */
  problems: string[];
}

export function planShardMoves(shards: readonly ShardHoldings[]): ShardMovePlan {
  const declaredBy = new Map<string, string[]>();
  for (const s of shards) for (const a of s.declared) declaredBy.set(a, [...(declaredBy.get(a) ?? []), s.stack]);
  const holders = new Map<string, string[]>();
  for (const s of shards) for (const a of s.held) holders.set(a, [...(holders.get(a) ?? []), s.stack]);

  const plan: ShardMovePlan = { moves: [], orphans: [], problems: [] };
  for (const s of shards) {
    for (const address of s.held) {
      if (s.declared.has(address)) continue;
      const owners = declaredBy.get(address) ?? [];
      if (owners.length === 0) {
        plan.orphans.push({ address, stack: s.stack });
        continue;
      }
      if (owners.length > 1) {
        plan.problems.push(`${address} is declared by ${owners.join(' and ')}: a resource belongs to one shard`);
        continue;
      }
      const to = owners[0];
      const alreadyThere = (holders.get(address) ?? []).includes(to);
      // Two stale copies and no owner copy: which one is the host's is not ours to guess.
      const staleCopies = (holders.get(address) ?? []).filter((h) => h !== to);
      if (!alreadyThere && staleCopies.length > 1) {
        const problem = `${address} is held by ${staleCopies.join(' and ')} and declared by ${to}: two copies, so nothing is moved (keep the one that matches the host with terraform state rm in the other)`;
        if (!plan.problems.includes(problem)) plan.problems.push(problem);
        continue;
      }
      plan.moves.push({ address, from: s.stack, to, alreadyThere });
    }
  }
  return plan;
}
