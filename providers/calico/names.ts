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

/** The link-local gateway every pod routes through (answered by proxy ARP on the host veth). */
export const POD_GATEWAY = '169.254.1.1';
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
export const DEFAULT_MTU = 1500;

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

/**
 * Shell function: prints routes in the main table for exactly "$1" (a prefix) that would collide
 * with ours (same default metric) but were not created by us. `ip route replace` would otherwise
 * silently take such a route over, and our teardown would then delete it.
 */
export const FOREIGN_ROUTES_FN = `
foreign_routes() {
  ip -4 route show table main exact "$1" | awk '!/ proto ${OUR_ROUTE_PROTO}( |$)/ && !/ metric [1-9]/'
}`;
