/** Renders a node's bird.conf from the cluster model (templates/bird.conf.hbs). */
import * as fs from 'fs';
import * as path from 'path';
import Handlebars from 'handlebars';
import { packageRoot } from '../providers/package-root';
import { bgpSessionsOf, rrClusterId } from './bgp-sessions';
import { ClusterSpec, nodeAs } from './model';
import { encapsulatedBlocks, encapsulationOf, overlayPlanOf } from './overlay';
import { secretPlaceholder } from '../rules/secrets';
import { IPV4 } from '../rules/address-family';
import { routerIdOf } from './dual-stack';
import { birdSecretsV6Of, ipv6TemplateData } from './bird-v6';
import { peeringTemplateData, sessionExtras } from './peering';

let compiled: HandlebarsTemplateDelegate | undefined;

function template(): HandlebarsTemplateDelegate {
  if (!compiled) {
    const source = fs.readFileSync(path.join(packageRoot(), 'templates', 'bird.conf.hbs'), 'utf8');
    // Every value is validated (addresses, numbers, passwords without quotes), and BIRD is not
    // HTML: no escaping.
    compiled = Handlebars.compile(source, { noEscape: true, strict: true });
  }
  return compiled;
}

export function renderBirdConfig(cluster: ClusterSpec, nodeName: string): string {
  const node = cluster.nodes.find((n) => n.name === nodeName);
  if (!node) throw new Error(`no node named "${nodeName}" in cluster "${cluster.name}"`);
  const sessions = bgpSessionsOf(cluster, nodeName);
  return template()({
    node,
    routerId: routerIdOf(node),
    pool: cluster.podCidr,
    asNumber: nodeAs(cluster, node),
    // A password renders as its placeholder; the value travels in the sensitive `secrets` map.
    sessions: sessions.map((s) => ({
      ...s,
      ...sessionExtras(cluster, s),
      password: s.password === undefined ? undefined : secretPlaceholder(s.protocol),
    })),
    peering: peeringTemplateData(cluster, node, sessions),
    rrClusterId: rrClusterId(cluster) ?? '',
    overlay: overlayTemplateData(cluster, nodeName),
    // The IPv4 family's BIRD names (channel, default route): the template writes none itself.
    v4: IPV4,
    // Dual-stack: the IPv6 part (false: an IPv4-only cluster renders as before).
    v6: ipv6TemplateData(cluster, node),
  });
}

/** What the template needs of the node's overlay: false when BIRD programs every block itself. */
function overlayTemplateData(
  cluster: ClusterSpec,
  nodeName: string,
): { device: string; field: string; mode: string; blocks: string } | false {
  const plan = overlayPlanOf(cluster, nodeName);
  const blocks = encapsulatedBlocks(plan);
  if (!plan || blocks.length === 0) return false;
  return { device: plan.device, field: encapsulationOf(cluster)!.field, mode: plan.mode, blocks: blocks.join(', ') };
}

/** The secrets a node's bird.conf needs: its sessions' passwords by protocol name. */
export function birdSecretsOf(cluster: ClusterSpec, nodeName: string): Record<string, string> {
  return {
    ...Object.fromEntries(
      bgpSessionsOf(cluster, nodeName)
        .filter((s) => s.password !== undefined)
        .map((s) => [s.protocol, s.password!]),
    ),
    ...birdSecretsV6Of(cluster, nodeName),
  };
}
