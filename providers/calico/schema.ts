/**
 * The one definition of the calico provider's schemas.
 *
 * The provider server serves exactly these schemas to Terraform (GetProviderSchema), and the
 * CDKTF construct bindings in constructs/bindings.ts derive their config types and their
 * synthesized attribute names from them. Change a resource here and both sides follow.
 *
 * Attribute conventions:
 * - Inputs (required/optional) are what the operator declares.
 * - Facts are computed-only attributes that ReadResource fills from the host. On plan, the
 *   provider sets each fact to the value apply will establish, so a drifted fact shows up in
 *   `terraform plan` as `fact = "<actual>" -> "<desired>"` and in `plan -refresh-only` as drift.
 */

import type { NestedBlockSchema, ResourceSchema } from '../runtime/schema';
import type { BlockValues } from '../runtime/typed';
import { packageVersion } from '../package-root';
import { eachElement, mapEntries, numberValue, stringValue } from '../runtime/validation';
import {
  encapsulationProblem,
  inRange,
  absolutePathProblem,
  envVarNameProblem,
  hostNameProblem,
  ipv4Problem,
  ipv4CidrProblem,
  mtuProblem,
  nodeNameProblem,
  nonEmptyProblem,
  podIpProblem,
  portProblem,
  unicastMacProblem,
  usableIpv6Problem,
  ipv6CidrProblem,
  userNameProblem,
  workloadNameProblem,
} from '../../rules/checks';
import { BIRD_RELOAD } from '../../rules/constants';
import { proxyJumpKeysProblem, proxyJumpProblem } from '../../rules/ssh';
import { rulesetProblem } from './nft-table';

// The checks below run at validate (unknown values skipped) and again at apply, read, delete
// and import (runtime/validation.ts): handlers trust the inputs they are handed.
const nodeName = [stringValue(nodeNameProblem)];

export const PROVIDER_SOURCE = 'registry.terraform.io/cdktf-calico/calico';
export const PROVIDER_SHORT_SOURCE = 'cdktf-calico/calico';
export const PROVIDER_LOCAL_NAME = 'calico';
/** The npm package's version: one package, one provider version. */
export const PROVIDER_VERSION = packageVersion();

/**
 * How the provider reaches a host. Shared by every resource that lives on a node. (Named `ssh`:
 * `connection` is reserved in Terraform resource blocks for provisioners.)
 */
export const sshBlock = {
  nesting: 'single',
  required: true,
  block: {
    attributes: {
      host: {
        type: 'string',
        required: true,
        forceNew: true,
        description: 'Address or name the provider connects to over SSH.',
        validators: [stringValue(hostNameProblem)],
      },
      port: {
        type: 'number',
        optional: true,
        description: 'SSH port (default 22).',
        validators: [numberValue(portProblem)],
      },
      user: {
        type: 'string',
        optional: true,
        description: 'SSH user (default root).',
        validators: [stringValue(userNameProblem)],
      },
      private_key_path: {
        type: 'string',
        optional: true,
        description:
          'Path of the private key file on the machine running Terraform. Without it the ' +
          'provider uses ssh-agent (SSH_AUTH_SOCK). The key itself never enters state.',
        validators: [stringValue(nonEmptyProblem)],
      },
      passphrase_env: {
        type: 'string',
        optional: true,
        description: 'Name of the environment variable holding the private key passphrase.',
        validators: [stringValue(envVarNameProblem)],
      },
      known_hosts_path: {
        type: 'string',
        optional: true,
        description:
          'known_hosts file used to verify the host key (default ~/.ssh/known_hosts). An ' +
          'unknown or changed host key is refused.',
        validators: [stringValue(nonEmptyProblem)],
      },
      sudo: {
        type: 'bool',
        optional: true,
        description: 'Run remote commands through `sudo -n` (for non-root users).',
      },
      proxy_jump: {
        type: 'string',
        optional: true,
        description:
          'Jump host(s) in OpenSSH ProxyJump form: `[user@]host[:port]`, or a comma-separated ' +
          'chain, first hop first. Every hop is checked against known_hosts_path and logs in with ' +
          'the same key or agent; a hop without a user uses `user`. `none` = direct.',
        validators: [stringValue(proxyJumpProblem)],
      },
      proxy_jump_keys: {
        type: ['list', 'string'],
        optional: true,
        description:
          'The private key each proxy_jump hop logs in with, first hop first: one entry per hop, ' +
          '"" for this block\'s own key (or the agent). Every hop uses passphrase_env and ' +
          "known_hosts_path. Default: every hop uses this block's key.",
      },
      from_ssh_config: {
        type: ['list', 'string'],
        optional: true,
        description:
          'The ssh_config settings (HostName, User, Port, IdentityFile, ProxyJump) that supplied ' +
          'values in this block when it was written. Informational: the provider never reads ssh_config.',
      },
    },
    checks: [
      {
        // One key per hop: checked once both are known (either may come from another resource).
        reads: ['proxy_jump', 'proxy_jump_keys'],
        problems: (ssh) => {
          const keys = ssh.proxy_jump_keys;
          if (!Array.isArray(keys)) return [];
          const jump = typeof ssh.proxy_jump === 'string' ? ssh.proxy_jump : undefined;
          const problem = proxyJumpKeysProblem(
            jump,
            keys.map((k) => (typeof k === 'string' ? k : '')),
          );
          return problem ? [{ attribute: 'proxy_jump_keys', problem }] : [];
        },
      },
    ],
  },
} as const satisfies NestedBlockSchema;

/** A resource's `ssh` block as handlers see it. */
export type SshBlock = BlockValues<typeof sshBlock.block>;

export const providerConfigSchema = {
  version: 0,
  description: 'Calico-style BGP pod networking applied to hosts over SSH.',
  block: {
    attributes: {
      connect_timeout: {
        type: 'number',
        optional: true,
        description: 'Seconds to wait for an SSH connection before failing (default 15).',
      },
      connect_retries: {
        type: 'number',
        optional: true,
        description: 'Extra attempts after a failed SSH connection (default 2).',
      },
    },
  },
} as const satisfies ResourceSchema;

export const resourceSchemas = {
  calico_node: {
    version: 0,
    description:
      'Node-level settings: IPv4 forwarding, the blackhole route for the node pod block, and ' +
      'a route to 169.254.1.1 (needed for proxy ARP) when the host has none of its own.',
    block: {
      attributes: {
        id: { type: 'string', computed: true, description: 'Node name.' },
        name: { type: 'string', required: true, forceNew: true, description: 'Node name.', validators: nodeName },
        address: {
          type: 'string',
          required: true,
          description:
            'Host IPv4 address: the router id and BGP source. Apply refuses a host that does not ' +
            'hold it, so an inventory that points a node at the wrong host is caught.',
          validators: [stringValue(ipv4Problem)],
        },
        pod_cidr: {
          type: 'string',
          required: true,
          forceNew: true,
          description: 'Pod block owned by this node; a blackhole route is installed for it.',
          validators: [stringValue(ipv4CidrProblem)],
        },
        pod_cidr_v6: {
          type: 'string',
          optional: true,
          description:
            "Dual-stack: the node's IPv6 block (Calico's IPv6 block affinity); its blackhole route is installed and IPv6 forwarding (net.ipv6.conf.all.forwarding) is turned on. Unset: IPv6 is not touched. Set, changed or unset on a running node in place (IPv4 is not touched): the block given up loses its blackhole, and unsetting it puts IPv6 forwarding back.",
          validators: [stringValue(ipv6CidrProblem)],
        },
        ipv6_address: {
          type: 'string',
          optional: true,
          description:
            "Dual-stack: the node's IPv6 address (Calico's ipv6Address, without its prefix length), the source of its IPv6 BGP sessions. Apply refuses a host that does not hold it, as it does for `address`.",
          validators: [stringValue(usableIpv6Problem)],
        },
        ip_forward: {
          type: 'string',
          computed: true,
          description: 'Fact: net.ipv4.ip_forward on the host (desired "1").',
        },
        blackhole_route: {
          type: 'bool',
          computed: true,
          description: 'Fact: the blackhole route for pod_cidr is in the main table.',
        },
        gateway_route: {
          type: 'bool',
          computed: true,
          description:
            'Fact: the host routes 169.254.1.1 out of a device other than a workload veth, through ' +
            'its own route or own_gateway_route (without one proxy ARP stays silent).',
        },
        own_gateway_route: {
          type: 'bool',
          computed: true,
          description:
            "Fact: calico-net's own route `169.254.1.1/32 dev lo proto 211` is in the main table. " +
            'Apply adds it when the host has no route to 169.254.1.1 of its own (no default ' +
            'route); it then stays until destroy, whatever the host does to its uplinks and ' +
            'default route later. A host that routes 169.254.1.1 itself gets nothing extra.',
        },
        address_assigned: {
          type: 'bool',
          computed: true,
          description: 'Fact: an interface of the host holds `address`.',
        },
        original_ip_forward: {
          type: 'string',
          computed: true,
          description: 'ip_forward before the first apply; restored on destroy.',
        },
        address_v6_assigned: {
          type: 'bool',
          computed: true,
          description: 'Fact (with ipv6_address): an interface of the host holds `ipv6_address`.',
        },
        ipv6_forwarding: {
          type: 'string',
          computed: true,
          description: 'Fact (with pod_cidr_v6): net.ipv6.conf.all.forwarding on the host (desired "1").',
        },
        blackhole_route_v6: {
          type: 'bool',
          computed: true,
          description: 'Fact (with pod_cidr_v6): the blackhole route for pod_cidr_v6 is in the main table.',
        },
        original_ipv6_forwarding: {
          type: 'string',
          computed: true,
          description: 'net.ipv6.conf.all.forwarding before the first apply that set pod_cidr_v6; restored on destroy.',
        },
        encapsulation: {
          type: 'string',
          optional: true,
          description:
            'The overlay this node\'s configuration wants ("vxlan" or "ipip"; unset: none). An ' +
            "overlay device of calico-net's that it does not name is removed by apply, whatever " +
            'the state says (a kill can leave one that no resource in the state knows).',
          validators: [stringValue(encapsulationProblem)],
        },
        workloads: {
          type: ['set', 'string'],
          optional: true,
          description:
            "The names of the workloads this node's configuration wants. A namespace or veth " +
            'that calico-net made on the host (listed in its registry, and marked) for any other ' +
            'workload is removed by apply. Unset: workload objects are left to their resources.',
          validators: [eachElement(workloadNameProblem)],
        },
        leftovers: {
          type: ['list', 'string'],
          computed: true,
          description:
            'Fact: objects calico-net made on the host (listed in /run/calico-net/objects or one ' +
            'of its overlay devices, and marked) that the configuration no longer wants, as ' +
            '"link NAME" or "netns NAME". Apply removes them (desired []); destroy removes ' +
            'every one listed for this node.',
        },
      },
      blocks: { ssh: sshBlock },
    },
  },

  calico_bird_config: {
    version: 0,
    description:
      'The BIRD 2 configuration of a node: written atomically after a `bird -p` parse check, ' +
      'then loaded with `birdc configure`. The original file is kept on the host and restored ' +
      'on destroy.',
    block: {
      attributes: {
        id: { type: 'string', computed: true, description: 'Node name and config path.' },
        node_name: { type: 'string', required: true, forceNew: true, description: 'Node name.', validators: nodeName },
        config_path: {
          type: 'string',
          optional: true,
          forceNew: true,
          description: 'BIRD config file on the host (default /etc/bird/bird.conf).',
          validators: [stringValue(absolutePathProblem)],
        },
        socket_path: {
          type: 'string',
          optional: true,
          description: 'BIRD control socket on the host (default /run/bird/bird.ctl).',
          validators: [stringValue(absolutePathProblem)],
        },
        content: {
          type: 'string',
          required: true,
          description:
            'Rendered bird.conf, with a placeholder (see `secrets`) where a secret goes. Refresh ' +
            'reads the file on the host back into it, with the secrets masked again.',
        },
        secrets: {
          type: ['map', 'string'],
          optional: true,
          sensitive: true,
          description:
            'Secret name → value (BGP passwords). Apply splices each value into `content` where ' +
            '`<<calico-secret:NAME>>` stands, so plans and logs show only the placeholder.',
        },
        session_wait: {
          type: 'number',
          optional: true,
          description:
            'Seconds to wait, after loading a new config, for every BGP session that was ' +
            'Established before (and is still configured) to be Established again; otherwise ' +
            'BIRD goes back to the previous config and the apply fails naming the sessions. ' +
            '0 switches the check off (a plain `birdc configure`). Default 30.',
          validators: [numberValue(inRange(0, BIRD_RELOAD.maxSessionWait))],
        },
        revert_after: {
          type: 'number',
          optional: true,
          description:
            'Seconds after which BIRD itself reverts a new config that was never confirmed ' +
            '(`birdc configure timeout`), should the provider lose the host mid-check. Must ' +
            'exceed session_wait. Default session_wait + 90.',
          validators: [numberValue(inRange(1, BIRD_RELOAD.maxRevertAfter))],
        },
        backup_path: {
          type: 'string',
          computed: true,
          description: 'Where the file that was there before the first apply is kept.',
        },
        loaded: {
          type: 'bool',
          computed: true,
          description:
            'Fact: BIRD runs and has loaded the file as it is now (its last reconfiguration is ' +
            'not older than the file). False after a failed reload, so the next plan retries it.',
        },
      },
      blocks: { ssh: sshBlock },
      checks: [
        {
          // BIRD's own revert must come after the session wait (its default when unset).
          reads: ['session_wait', 'revert_after'],
          problems: ({ session_wait: wait, revert_after: revert }) => {
            const w = typeof wait === 'number' ? wait : BIRD_RELOAD.sessionWait;
            return typeof revert === 'number' && revert <= w
              ? [{ attribute: 'revert_after', problem: `${revert} must exceed session_wait (${w})` }]
              : [];
          },
        },
      ],
    },
  },

  calico_workload: {
    version: 0,
    description:
      'A workload: network namespace, veth pair, pod IP, link-local gateway, proxy ARP and ' + 'the host /32 route.',
    block: {
      attributes: {
        id: { type: 'string', computed: true, description: 'Node name and workload name.' },
        node_name: { type: 'string', required: true, forceNew: true, description: 'Node name.', validators: nodeName },
        name: {
          type: 'string',
          required: true,
          forceNew: true,
          description: 'Workload name; also the name of its network namespace.',
          validators: [stringValue(workloadNameProblem)],
        },
        ip: {
          type: 'string',
          optional: true,
          forceNew: true,
          description: 'Pod IPv4 address (unset: an IPv6-only workload, which needs ipv6).',
          validators: [stringValue(podIpProblem)],
        },
        ipv6: {
          type: 'string',
          optional: true,
          forceNew: true,
          description:
            "Pod IPv6 address, in canonical form (dual-stack or IPv6-only): on eth0 as /128, default route via the host veth's link-local fe80::ecee:eeff:feee:eeee, host /128 route to the veth.",
          validators: [stringValue(usableIpv6Problem)],
        },
        mtu: {
          type: 'number',
          optional: true,
          description: 'MTU of the veth pair (default: the host default of 1500).',
          validators: [numberValue(mtuProblem)],
        },
        host_interface: {
          type: 'string',
          computed: true,
          description: 'Host-side veth: "cali" + 11 hex characters of a SHA-1 of node/workload.',
        },
        netns_present: {
          type: 'bool',
          computed: true,
          description:
            "Fact: the network namespace exists and carries calico-net's mark. A namespace of " +
            'that name that calico-net did not create is never adopted or deleted; ' +
            '`terraform import` takes one over.',
        },
        pod_interface: {
          type: 'bool',
          computed: true,
          description: 'Fact: eth0 in the namespace is up and holds the pod IP as /32.',
        },
        pod_routes: {
          type: 'bool',
          computed: true,
          description: 'Fact: in the namespace, 169.254.1.1 dev eth0 scope link and default via 169.254.1.1.',
        },
        proxy_arp: {
          type: 'string',
          computed: true,
          description: 'Fact: proxy_arp on the host-side veth (desired "1").',
        },
        proxy_delay: {
          type: 'string',
          computed: true,
          description: 'Fact: neigh proxy_delay on the host-side veth (desired "0").',
        },
        host_route: {
          type: 'bool',
          computed: true,
          description: 'Fact: the host routes <ip>/32 to the host-side veth.',
        },
        pod_interface_v6: {
          type: 'bool',
          computed: true,
          description: 'Fact (with ipv6): eth0 in the namespace is up and holds ipv6 as /128.',
        },
        pod_routes_v6: {
          type: 'bool',
          computed: true,
          description:
            'Fact (with ipv6): in the namespace, ::/0 via fe80::ecee:eeff:feee:eeee dev eth0, and the host veth holds that link-local address.',
        },
        host_route_v6: {
          type: 'bool',
          computed: true,
          description: 'Fact (with ipv6): the host routes <ipv6>/128 to the host-side veth.',
        },
        proxy_ndp: {
          type: 'string',
          computed: true,
          description: 'Fact (with ipv6): net.ipv6.conf.<veth>.proxy_ndp on the host side (desired "1").',
        },
        forwarding_v6: {
          type: 'string',
          computed: true,
          description: 'Fact (with ipv6): net.ipv6.conf.<veth>.forwarding on the host side (desired "1").',
        },
        accept_ra: {
          type: 'string',
          computed: true,
          description: 'Fact (with ipv6): net.ipv6.conf.<veth>.accept_ra on the host side (desired "0").',
        },
      },
      blocks: { ssh: sshBlock },
      checks: [
        {
          // An IPv4-only, dual-stack or IPv6-only workload: at least one address.
          reads: ['ip', 'ipv6'],
          problems: ({ ip, ipv6 }) =>
            ip === null && ipv6 === null
              ? [{ attribute: 'ip', problem: 'a workload needs ip, ipv6 or both (none is set)' }]
              : [],
        },
      ],
    },
  },

  calico_overlay: {
    version: 0,
    description:
      'Encapsulation towards nodes on other subnets, the way Calico programs it: VXLAN (device ' +
      'vxlan.calico, VNI 4096, UDP 4789, no learning) with a permanent neighbour and an FDB ' +
      'entry per remote VTEP, or IPIP (tunl0), and a static route per remote block through the ' +
      'tunnel. BIRD still carries every block over BGP; its kernel export leaves these blocks ' +
      'to this resource.',
    block: {
      attributes: {
        id: { type: 'string', computed: true, description: 'Node name.' },
        node_name: { type: 'string', required: true, forceNew: true, description: 'Node name.', validators: nodeName },
        encapsulation: {
          type: 'string',
          required: true,
          forceNew: true,
          description: '"vxlan" (device vxlan.calico) or "ipip" (device tunl0).',
          validators: [stringValue(encapsulationProblem)],
        },
        address: {
          type: 'string',
          required: true,
          description:
            "The node's underlay IPv4 address: the VXLAN source (`local`). Apply refuses a host " +
            'that does not hold it.',
          validators: [stringValue(ipv4Problem)],
        },
        tunnel_address: {
          type: 'string',
          required: true,
          description: "This node's tunnel (VTEP) address, from its own block; held as /32 by the device.",
          validators: [stringValue(ipv4Problem)],
        },
        tunnel_mac: {
          type: 'string',
          optional: true,
          description: 'VXLAN only: the MAC of vxlan.calico, which remote nodes put in their neighbour entries.',
          validators: [stringValue(unicastMacProblem)],
        },
        mtu: {
          type: 'number',
          optional: true,
          description: 'MTU of the tunnel device (default: 1500 minus the overhead, VXLAN 50, IPIP 20).',
          validators: [numberValue(mtuProblem)],
        },
        neighbours: {
          type: ['map', 'string'],
          optional: true,
          description: 'VXLAN only: remote VTEP address → its MAC, as permanent neighbour entries on vxlan.calico.',
          validators: [mapEntries({ keys: ipv4Problem, values: unicastMacProblem })],
        },
        fdb: {
          type: ['map', 'string'],
          optional: true,
          description: "VXLAN only: remote VTEP MAC → the remote node's underlay address, as permanent FDB entries.",
          validators: [mapEntries({ keys: unicastMacProblem, values: ipv4Problem })],
        },
        routes: {
          type: ['map', 'string'],
          optional: true,
          description:
            "Remote pod block → gateway (VXLAN: the remote VTEP address; IPIP: the remote node's " +
            'address), installed as `<block> via <gateway> dev <device> onlink`, marked as ours.',
          validators: [mapEntries({ keys: ipv4CidrProblem, values: ipv4Problem })],
        },
        device: {
          type: ['map', 'string'],
          computed: true,
          description:
            'Fact: the tunnel device as found on the host (kind, owner, vni, local, dstport, ' +
            'learning, mac, mtu, state, addresses); empty when it is missing. A device of that ' +
            'name without calico-net\'s mark reads as owner "not calico-net" and is never adopted.',
        },
        host_neighbours: {
          type: ['map', 'string'],
          computed: true,
          description: 'Fact: the permanent neighbour entries on the tunnel device.',
        },
        host_fdb: {
          type: ['map', 'string'],
          computed: true,
          description: 'Fact: the FDB entries of the tunnel device (MAC → destination).',
        },
        host_routes: {
          type: ['map', 'string'],
          computed: true,
          description:
            'Fact: our routes through the tunnel device, and any route not ours that holds one ' +
            'of the declared blocks, by prefix.',
        },
      },
      blocks: { ssh: sshBlock },
      checks: [
        {
          // VXLAN needs a MAC; IPIP has no MAC, neighbours or FDB entries.
          reads: ['encapsulation', 'tunnel_mac', 'neighbours', 'fdb'],
          problems: (o) => {
            const out: { attribute: string; problem: string }[] = [];
            if (o.encapsulation === 'vxlan' && o.tunnel_mac === null)
              out.push({ attribute: 'tunnel_mac', problem: 'VXLAN needs the device MAC' });
            if (o.encapsulation === 'ipip') {
              if (o.tunnel_mac !== null) out.push({ attribute: 'tunnel_mac', problem: 'IPIP devices have no MAC' });
              for (const name of ['neighbours', 'fdb']) {
                const map = o[name];
                if (map !== null && typeof map === 'object' && Object.keys(map).length > 0)
                  out.push({ attribute: name, problem: 'IPIP has no neighbour or FDB entries' });
              }
            }
            return out;
          },
        },
      ],
    },
  },

  calico_policy_ruleset: {
    version: 0,
    description:
      "A node's network policy: one nftables table of calico-net's own (`inet calico-net`, marked " +
      'by its comment), loaded in one nft transaction that the kernel checks whole and that ' +
      'replaces the previous table, or, refused, leaves it as it was. A table of that name without the mark is refused and left alone.',
    block: {
      attributes: {
        id: { type: 'string', computed: true, description: 'Node name.' },
        node_name: { type: 'string', required: true, forceNew: true, description: 'Node name.', validators: nodeName },
        ruleset: {
          type: 'string',
          required: true,
          description:
            "The table as `nft -f` reads it, compiled at synth from the cluster's policies: exactly " +
            "one `table inet calico-net { … }` whose first statement is calico-net's comment.",
          // It reaches a host only at apply; an imported state holds "" here until then.
          validators: [stringValue(rulesetProblem, { appliedOnly: true })],
        },
        table: {
          type: 'string',
          computed: true,
          description:
            'Fact: the table as the host lists it (`nft list table inet calico-net`; set and map ' +
            'elements one per line, sorted); "" when the host has none. A hand edit shows here.',
        },
        owner: {
          type: 'string',
          computed: true,
          description:
            'Fact: "calico-net", "not calico-net" (a table of that name calico-net did not make), or "" (no table).',
        },
        applied_table: {
          type: 'string',
          computed: true,
          description: 'The listing right after the last apply of `ruleset`: what `table` must read.',
        },
      },
      blocks: { ssh: sshBlock },
    },
  },
} as const satisfies { readonly [typeName: string]: ResourceSchema };

export type ResourceTypeName = keyof typeof resourceSchemas;
