/**
 * Headless Chromium (Debian's `chromium`) for the graph tests: screenshots of an SVG, and the
 * DOM of a page after its scripts ran. A fresh profile each time; no network, no updates.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
];

function chromium(
  args: string[],
  timeoutMs = 120000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-chromium-'));
  return new Promise((resolve, reject) => {
    const child = spawn('chromium', [...FLAGS, `--user-data-dir=${profile}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      fs.rmSync(profile, { recursive: true, force: true });
      reject(new Error(`prerequisite missing: chromium (Debian package chromium): ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.rmSync(profile, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** A PNG of the SVG at its own size. */
export async function screenshotSvg(svgFile: string, pngFile: string): Promise<void> {
  const svg = fs.readFileSync(svgFile, 'utf8');
  const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
  const height = Number(/<svg[^>]* height="(\d+)"/.exec(svg)?.[1]);
  fs.rmSync(pngFile, { force: true });
  const r = await chromium([
    `--screenshot=${path.resolve(pngFile)}`,
    `--window-size=${width},${height}`,
    `file://${path.resolve(svgFile)}`,
  ]);
  if (!fs.existsSync(pngFile))
    throw new Error(`chromium wrote no screenshot (exit ${r.code}): ${r.stderr.slice(-2000)}`);
}

/** The page's DOM after its scripts ran (virtual time lets async rendering finish). */
export async function dumpDom(htmlFile: string): Promise<string> {
  const r = await chromium([
    '--virtual-time-budget=20000',
    '--allow-file-access-from-files',
    '--dump-dom',
    `file://${path.resolve(htmlFile)}`,
  ]);
  if (r.code !== 0) throw new Error(`chromium --dump-dom failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}
