/**
 * The pictures in real renderers: the Mermaid text through Mermaid itself (its parser and
 * renderer, in headless Chromium, as GitHub runs it in a browser), and the SVG screenshotted by
 * Chromium at its own size. Needs Debian's chromium (scripts/prerequisites.json); fails without.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildPicture } from '../../cli/graph/picture';
import { pictureSvg } from '../../cli/graph/svg';
import { pictureMermaid } from '../../cli/graph/text-formats';
import { packageRoot } from '../../providers/package-root';
import { dumpDom, screenshotSvg } from '../support/graph/chromium';
import { demoCluster, liveState, rrCluster } from '../support/graph/fixtures';

let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-graph-render-'))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const demo = demoCluster();
const rr = rrCluster();
const pictures = {
  demo: buildPicture(
    demo,
    liveState(demo, {
      down: [['node2', '198.18.1.5']],
      drifted: { node6: ['calico_node: proxy_arp'] },
      unreachable: { node4: 'cannot connect: "x" <y> & z' },
    }),
  ),
  rr32: buildPicture(rr, liveState(rr, { down: [['r3n4', '198.18.0.1']], unreachable: { r4n7: 'timeout' } })),
};

test('Mermaid parses and renders both pictures (mermaid.parse, then mermaid.render)', async () => {
  const mermaidJs = path.join(packageRoot(), 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');
  const results: Record<string, string> = {};
  for (const [name, picture] of Object.entries(pictures)) {
    const text = pictureMermaid(picture);
    const html = path.join(tmp, `${name}.html`);
    fs.writeFileSync(
      html,
      `<!doctype html><html><body><script src="file://${mermaidJs}"></script><script>
const text = ${JSON.stringify(text).replace(/</g, '\\u003c')};
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', maxEdges: 2000, maxTextSize: 500000 });
mermaid.parse(text)
  .then(() => mermaid.render('picture', text))
  .then((r) => { const d = document.createElement('div'); d.id = 'rendered'; d.innerHTML = r.svg; document.body.appendChild(d); document.body.setAttribute('data-result', 'ok'); })
  .catch((e) => document.body.setAttribute('data-result', 'error: ' + (e && e.message || e)));
</script></body></html>`,
    );
    const dom = await dumpDom(html);
    results[name] = /data-result="([^"]*)"/.exec(dom)?.[1] ?? 'no result (mermaid did not finish)';
    if (results[name] === 'ok') {
      // The rendered diagram holds every node's card.
      for (const node of picture.nodes) expect(dom).toContain(`${node.name}`);
      expect(dom).toMatch(/<svg[^>]*id="picture"/);
    }
  }
  expect(results).toEqual({ demo: 'ok', rr32: 'ok' });
});

test('Chromium shows the SVG at its own size', async () => {
  for (const [name, picture] of Object.entries(pictures)) {
    const svg = path.join(tmp, `${name}.svg`);
    fs.writeFileSync(svg, await pictureSvg(picture));
    const png = path.join(tmp, `${name}.png`);
    await screenshotSvg(svg, png);
    const bytes = fs.readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(fs.readFileSync(svg, 'utf8'))?.[1]);
    expect(bytes.readUInt32BE(16)).toBe(width);
    // Not a blank page: a drawing compresses far less than an empty white one.
    expect(bytes.length).toBeGreaterThan(20000);
  }
});
