/** Names and marks of what the Calico resources create on a host. */
import { createHash } from 'crypto';

/**
 * Routing protocol number stamped on every route this provider creates (blackholes, host /32s).
 * Teardown deletes only routes carrying it, so a route someone else added for the same prefix
 * survives. 211 is unassigned in iproute2's rt_protos.
 */
export const OUR_ROUTE_PROTO = '211';

export const DEFAULT_BIRD_CONFIG_PATH = '/etc/bird/bird.conf';
export const DEFAULT_BIRD_SOCKET_PATH = '/run/bird/bird.ctl';
/** Suffix of the copy of the file that was there before our first apply. */
export const BACKUP_SUFFIX = '.calico-net.orig';

/** Calico's host-side veth MAC: pods see the same gateway MAC on every node. */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';

function identityHash(nodeName: string, workloadName: string): string {
  return createHash('sha1').update(`${nodeName}/${workloadName}`).digest('hex').slice(0, 11);
}

/** Host side of a workload's veth: "cali" + 11 hex chars = 15, the kernel's IFNAMSIZ limit. */
export function hostInterfaceName(nodeName: string, workloadName: string): string {
  return `cali${identityHash(nodeName, workloadName)}`;
}

/**
 * Temporary name of the container end before it moves into the netns and becomes eth0. Derived
 * from the same hash so a half-finished earlier run leaves a name we recognise and remove.
 */
export function tempPeerName(nodeName: string, workloadName: string): string {
  return `ctmp${identityHash(nodeName, workloadName)}`;
}

export function backupPathFor(configPath: string): string {
  return `${configPath}${BACKUP_SUFFIX}`;
}
