/**
 * Writes the README's example pictures (SVG, then a PNG screenshot from headless Chromium):
 * `node dist/test/support/graph/render-examples.js OUTDIR`. The states are made up (fixtures.ts): a
 * session down, a node unreachable, a node drifted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildPicture } from '../../../cli/graph/picture';
import { pictureSvg } from '../../../cli/graph/svg';
import { screenshotSvg } from './chromium';
import { demoCluster, liveState, rrCluster } from './fixtures';

async function main(outdir: string): Promise<void> {
  fs.mkdirSync(outdir, { recursive: true });
  const demo = demoCluster();
  const rr = rrCluster();
  const examples = [
    [
      'graph-demo-6',
      buildPicture(
        demo,
        liveState(demo, {
          down: [
            ['node2', '198.18.1.5'],
            ['node5', '198.18.0.2'],
          ],
          drifted: { node6: ['calico_workload web6: mtu'] },
        }),
      ),
    ],
    [
      'graph-rr-32',
      buildPicture(
        rr,
        liveState(rr, {
          down: [
            ['r3n4', '198.18.0.1'],
            ['r1n1', '198.18.2.4'],
          ],
          unreachable: { r4n7: 'cannot connect: ECONNREFUSED' },
          drifted: { r2n3: ['calico_node: proxy_arp'] },
        }),
      ),
    ],
  ] as const;
  for (const [name, picture] of examples) {
    const svgFile = path.join(outdir, `${name}.svg`);
    fs.writeFileSync(svgFile, await pictureSvg(picture));
    await screenshotSvg(svgFile, path.join(outdir, `${name}.png`));
    process.stdout.write(`${svgFile}\n`);
  }
}

main(process.argv[2] ?? 'docs').catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
