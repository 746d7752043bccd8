/**
 * The FRR ToR set-up that e2e suites peering with the fabric share (fabric-peering,
 * peer-selector-next-hop): a ToR (lab/tor.ts) on the lab's one segment, the nodes' addresses
 * given with the segment's prefix, and the ToR as the inventory's one BGP peer.
 *
 * Why the prefix: the ToR and the nodes share the segment, so every session to it is direct
 * (BFD and BIRD's next-hop handling between direct sessions depend on that).
 */
import * as fs from 'fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { LabInfo, TorInfo, torDown, torUp } from '../../lab';

interface InventoryNode {
  name: string;
  address: string;
  [field: string]: unknown;
}

export interface TorLabOptions {
  /** Fields of the ToR's peer entry besides its address and AS (e.g. a nodeSelector). */
  peer?: Record<string, unknown>;
  /** Fields to add to each node's entry, by its index in the inventory (e.g. labels). */
  node?: (index: number, node: InventoryNode) => Record<string, unknown>;
}

/** A running ToR for a lab; `down()` stops it (the lab itself is the caller's). */
export interface TorLab {
  tor: TorInfo;
  down(): Promise<void>;
}

/**
 * Starts a ToR on `lab` (a one-segment lab, up already) and rewrites its inventory: each node's
 * address with the segment's /24 (and `opts.node`'s fields), the ToR as the only peer. On a
 * failure the ToR is stopped again before the error is thrown.
 */
export async function torLab(lab: LabInfo, opts: TorLabOptions = {}): Promise<TorLab> {
  const tor = await torUp(lab);
  try {
    const inventory = parseYaml(fs.readFileSync(lab.inventoryPath, 'utf8'));
    inventory.nodes = (inventory.nodes as InventoryNode[]).map((n, i) => ({
      ...n,
      address: `${n.address}/24`,
      ...(opts.node ? opts.node(i, n) : {}),
    }));
    inventory.peers = [{ address: tor.address, asNumber: tor.asNumber, ...opts.peer }];
    fs.writeFileSync(lab.inventoryPath, toYaml(inventory));
  } catch (err) {
    await torDown(lab.dir).catch(() => undefined);
    throw err;
  }
  return { tor, down: () => torDown(lab.dir) };
}
