/** Values the constructs, the provider and the tools must agree on; each has its owner here. */

/** The link-local gateway every pod routes through (answered by proxy ARP on the host veth). */
export const POD_GATEWAY = '169.254.1.1';

/** The workloads' veth MTU: the kernel takes 68..65535; below 576 IPv4 hosts may drop packets. */
export const WORKLOAD_MTU = { min: 576, max: 65535, default: 1500 } as const;

/**
 * Loading a new bird.conf: how long to wait for the BGP sessions that were up to come back
 * (0: do not check), and BIRD's own revert timeout, by default the wait plus a margin.
 */
export const BIRD_RELOAD = { sessionWait: 30, maxSessionWait: 3600, revertMargin: 90, maxRevertAfter: 86400 } as const;
