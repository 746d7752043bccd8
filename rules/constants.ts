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

/**
 * Encapsulation between nodes on different subnets, as Calico programs it. `overhead` is what
 * the outer headers take from the underlay MTU: the tunnel device and, unless the user sets
 * one, every workload's veth get the underlay MTU minus it. VXLAN: Calico's device name, VNI
 * and the IANA port; every node uses the same three, so they are constants, not settings.
 */
export const ENCAPSULATION = {
  vxlan: { device: 'vxlan.calico', overhead: 50, vni: 4096, port: 4789 },
  ipip: { device: 'tunl0', overhead: 20 },
} as const;

export type Encapsulation = keyof typeof ENCAPSULATION;

/** The underlay MTU the defaults assume (the hosts' usual Ethernet MTU). */
export const UNDERLAY_MTU = WORKLOAD_MTU.default;
