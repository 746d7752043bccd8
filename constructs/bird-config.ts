/** Renders a node's bird.conf from the cluster model (templates/bird.conf.hbs). */
import * as fs from 'fs';
import * as path from 'path';
import Handlebars from 'handlebars';
import { packageRoot } from '../providers/package-root';
import { bgpSessionsOf, rrClusterId } from './bgp-sessions';
import { ClusterSpec, nodeAs } from './model';

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
  return template()({
    node,
    pool: cluster.podCidr,
    asNumber: nodeAs(cluster, node),
    sessions: bgpSessionsOf(cluster, nodeName).map((s) => ({ password: undefined, ...s })),
    rrClusterId: rrClusterId(cluster) ?? '',
  });
}
