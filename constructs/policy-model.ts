/**
 * Network policy as data, with Calico's v3 names and meaning (projectcalico.org/v3
 * NetworkPolicy and its rules): what the inventory's `policies:` and the NetworkPolicy construct
 * hold. Workloads carry `labels`; a policy's `selector` picks the workloads it applies to.
 */

export type PolicyAction = 'Allow' | 'Deny' | 'Log';
export const POLICY_ACTIONS: readonly PolicyAction[] = ['Allow', 'Deny', 'Log'];

export type PolicyType = 'Ingress' | 'Egress';
export const POLICY_TYPES: readonly PolicyType[] = ['Ingress', 'Egress'];

/** Calico's protocol names; any other protocol is given by its number (1..255). */
export const PROTOCOL_NUMBERS = { TCP: 6, UDP: 17, ICMP: 1, ICMPv6: 58, SCTP: 132, UDPLite: 136 } as const;
export type ProtocolName = keyof typeof PROTOCOL_NUMBERS;
/** The ICMP of each IP version: a rule for one applies to that family only. */
export const ICMP_PROTOCOL_OF_VERSION = { 4: PROTOCOL_NUMBERS.ICMP, 6: PROTOCOL_NUMBERS.ICMPv6 } as const;
/** Calico's rule `ipVersion`: the rule applies to packets of that IP version only. */
export type IpVersion = 4 | 6;
export const IP_VERSIONS: readonly IpVersion[] = [4, 6];
/** The protocols whose rules may name ports. */
export const PORT_PROTOCOLS: readonly number[] = [6, 17, 132];

/** Ports: a number, or "from:to" (inclusive), as Calico writes them. */
export type PortSpec = number | string;

/** One end of a rule (Calico's EntityRule). Every field given must match. */
export interface EntityRule {
  /** The address is in one of these CIDRs (IPv4 or IPv6; each family's apply to its packets). */
  readonly nets?: readonly string[];
  /** The address is in none of these CIDRs. */
  readonly notNets?: readonly string[];
  /** The address belongs to a workload this selector matches. */
  readonly selector?: string;
  /** The address belongs to no workload this selector matches. */
  readonly notSelector?: string;
  /** The port is one of these (needs protocol TCP, UDP or SCTP). */
  readonly ports?: readonly PortSpec[];
  /** The port is none of these (needs protocol TCP, UDP or SCTP). */
  readonly notPorts?: readonly PortSpec[];
}

export interface IcmpMatch {
  readonly type?: number;
  readonly code?: number;
}

/** A rule: the first one that matches decides (Log matches, logs, and goes on). */
export interface PolicyRule {
  readonly action: PolicyAction;
  /**
   * 4 or 6: the rule applies to packets of that IP version only (Calico's `ipVersion`).
   * @default both (a rule with ICMP, ICMPv6 or nets of one family applies to that family)
   */
  readonly ipVersion?: IpVersion;
  /** TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, or a protocol number. @default any */
  readonly protocol?: ProtocolName | number;
  readonly notProtocol?: ProtocolName | number;
  /** Only with protocol ICMP or ICMPv6: the type, and the code (which needs the type). */
  readonly icmp?: IcmpMatch;
  /** Only with protocol ICMP or ICMPv6: the packet is not of this type (and code, when given). */
  readonly notICMP?: IcmpMatch;
  readonly source?: EntityRule;
  readonly destination?: EntityRule;
}

export interface PolicySpec {
  /** Unique in the cluster: letters, digits, "-", "." (a Kubernetes name). */
  readonly name: string;
  /**
   * Lower first. A policy without one comes after every numbered one; ties go by name, as in
   * Calico. @default none
   */
  readonly order?: number;
  /** The workloads it applies to. @default all() */
  readonly selector?: string;
  /**
   * The directions it applies to. @default as Calico: [Ingress] without egress rules,
   * [Egress] with egress rules only, [Ingress, Egress] with both.
   */
  readonly types?: readonly PolicyType[];
  readonly ingress?: readonly PolicyRule[];
  readonly egress?: readonly PolicyRule[];
}

/** The types Calico gives a policy that names none. */
export function policyTypesOf(p: PolicySpec): PolicyType[] {
  if (p.types !== undefined) return [...p.types];
  const ingress = (p.ingress ?? []).length > 0;
  const egress = (p.egress ?? []).length > 0;
  if (egress && !ingress) return ['Egress'];
  if (egress) return ['Ingress', 'Egress'];
  return ['Ingress'];
}

/** Calico's order: numbered first by order, then unnumbered; ties broken by name. */
export function comparePolicies(a: PolicySpec, b: PolicySpec): number {
  const ao = a.order ?? Infinity;
  const bo = b.order ?? Infinity;
  if (ao !== bo) return ao < bo ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A protocol as its number (names as Calico spells them; numbers as they are). */
export function protocolNumber(p: ProtocolName | number): number {
  return typeof p === 'number' ? p : PROTOCOL_NUMBERS[p];
}
