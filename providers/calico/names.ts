/** Names and marks of what the Calico resources create on a host. */
import { createHash } from 'crypto';
import { eui64LinkLocal } from '../../rules/address-family';

/**
 * Routing protocol number stamped on every route this provider creates (blackholes, host /32s).
 * Teardown deletes only routes carrying it, so a route someone else added for the same prefix
 * survives. 211 is unassigned in iproute2's rt_protos.
 */
export const OUR_ROUTE_PROTO = '211';

/**
 * calico_node's record on the host: which node resource owns the host's node settings, its pod
 * block, and ip_forward as it was before any calico_node touched the host. Under /run, so it
 * goes with a reboot, as ip_forward and the blackhole do. One owner at a time: a node renamed
 * in place (a new resource, the same host) takes the record over, whichever of create and
 * delete Terraform runs first.
 */
export const NODE_RECORD = '/run/calico-net/node';

/** The list of devices and namespaces calico-net made on the host, beside the record (see registry.ts). */
export const REGISTRY = '/run/calico-net/objects';

export const DEFAULT_BIRD_CONFIG_PATH = '/etc/bird/bird.conf';
export const DEFAULT_BIRD_SOCKET_PATH = '/run/bird/bird.ctl';
/** Suffix of the copy of the file that was there before our first apply. */
export const BACKUP_SUFFIX = '.calico-net.orig';
/** Suffix of the file naming the node whose config is in place (see calico_bird_config). */
export const OWNER_SUFFIX = '.calico-net.owner';
/** Suffix of the config that ran before the one being loaded, kept until BGP came back. */
export const PREVIOUS_SUFFIX = '.calico-net.prev';

/** The device our route to the pods' gateway goes through (see node.ts for why lo). */
export const OWN_GATEWAY_DEV = 'lo';

/** Calico's host-side veth MAC: pods see the same gateway MAC on every node. */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';

/**
 * The pods' IPv6 gateway: the link-local address the host veth takes from HOST_VETH_MAC
 * (fe80::ecee:eeff:feee:eeee), as in Calico. The IPv4 gateway is POD_GATEWAY (proxy ARP).
 */
export const POD_GATEWAY_V6 = eui64LinkLocal(HOST_VETH_MAC);

function identityHash(nodeName: string, workloadName: string): string {
  return createHash('sha1').update(`${nodeName}/${workloadName}`).digest('hex').slice(0, 11);
}

/** Host side of a workload's veth: "cali" + 11 hex chars = 15, the kernel's IFNAMSIZ limit. */
export function hostInterfaceName(nodeName: string, workloadName: string): string {
  return `cali${identityHash(nodeName, workloadName)}`;
}

// The container end has no name of its own on the host: apply makes the pair with eth0 already
// inside the namespace (one netlink request), so there is no temporary peer to clean up, and
// nothing is ever removed by a name derived from the workload alone (only the marked host veth).

export function backupPathFor(configPath: string): string {
  return `${configPath}${BACKUP_SUFFIX}`;
}

/**
 * The alias our workload namespaces' `lo` carries: a namespace without it was not created by
 * calico-net, so it is never adopted by apply nor deleted by destroy (import takes one over).
 */
export const NETNS_MARK = 'calico-net';
