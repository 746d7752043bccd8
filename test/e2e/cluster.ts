/**
 * An end-to-end cluster: a namespace lab (real sshd and bird per node) plus an operator project
 * from which `cdktf deploy` runs inside the lab's operator netns, exactly as a user would.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { labDown, labUp, nodeExec, operatorExec, LabInfo } from '../../lab';
import { run } from '../../lab/process';
import { parseBirdProtocols, BgpSessionRow } from '../../cli/bird-protocols';
import { automationEnv, cdktfBinary, writeOperatorProject } from '../../cli/operator-project';
import { pingMatrix, PingResult, WorkloadTarget } from '../../cli/verify';
import { RemoteHost, RemoteResult } from '../../providers/ssh/types';
import { packageRoot } from '../../providers/package-root';
import { assertE2ePrerequisites } from './prerequisites';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface InventoryWorkload {
  node: string;
  name: string;
  ip: string;
}

/** What the tests compare before the first deploy and after destroy. */
export interface NodeSnapshot {
  netns: string[];
  caliLinks: string[];
  routes: string[];
  birdConf: string;
  ipForward: string;
}

export class E2eCluster {
  private constructor(
    readonly lab: LabInfo,
    readonly root: string,
    readonly projectDir: string,
  ) {}

  static async up(opts: {
    id: number;
    nodes: number;
    asMode?: 'ibgp' | 'ebgp';
    routeReflectors?: number;
    workloadsPerNode?: number;
    subnets?: number;
    operatorReach?: 'all' | 'first';
    ipv6?: boolean;
  }): Promise<E2eCluster> {
    await assertE2ePrerequisites();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `calico-e2e-${opts.id}-`));
    // An empty CLI config: the user's own settings (a provider_installation block, a plugin
    // cache) must not decide how the tests find the provider. Synthesis puts it in the stack.
    fs.writeFileSync(path.join(root, 'terraformrc'), '');
    const labDir = path.join(root, 'lab');
    await labDown(labDir).catch(() => undefined);
    const lab = await labUp({ dir: labDir, ...opts });
    const projectDir = writeOperatorProject(path.join(root, 'project'));
    return new E2eCluster(lab, root, projectDir);
  }

  async down(): Promise<void> {
    await labDown(this.lab.dir);
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  get nodeNames(): string[] {
    return this.lab.nodes.map((n) => n.name);
  }

  address(node: string): string {
    return this.lab.nodes.find((n) => n.name === node)!.address;
  }

  podCidr(node: string): string {
    return this.lab.nodes.find((n) => n.name === node)!.podCidr;
  }

  workloads(): InventoryWorkload[] {
    const inventory = parseYaml(fs.readFileSync(this.lab.inventoryPath, 'utf8'));
    return inventory.nodes.flatMap((n: { name: string; workloads?: { name: string; ip: string }[] }) =>
      (n.workloads ?? []).map((w) => ({ node: n.name, name: w.name, ip: w.ip })),
    );
  }

  get stackName(): string {
    return parseYaml(fs.readFileSync(this.lab.inventoryPath, 'utf8')).cluster.name;
  }

  /** Added to every terraform/cdktf run (e.g. PG_CONN_STR). */
  extraEnv: NodeJS.ProcessEnv = {};

  /** Environment of every terraform/cdktf run: the inventory and an empty CLI config. */
  get env(): NodeJS.ProcessEnv {
    return {
      ...automationEnv(this.lab.inventoryPath),
      TF_CLI_CONFIG_FILE: path.join(this.root, 'terraformrc'),
      ...this.extraEnv,
    };
  }

  /** terraform in the synthesized stack, from the operator namespace. */
  terraform(args: string[]): Promise<CommandResult> {
    return operatorExec(this.lab, ['terraform', ...args], { cwd: this.stackDir, env: this.env });
  }

  get stackDir(): string {
    return path.join(this.projectDir, 'cdktf.out', 'stacks', this.stackName);
  }

  /** Runs the cdktf CLI in the operator netns (where the nodes are reachable). */
  cdktf(args: string[]): Promise<CommandResult> {
    return operatorExec(this.lab, [cdktfBinary(), ...args], {
      cwd: this.projectDir,
      env: this.env,
    });
  }

  deploy(): Promise<CommandResult> {
    return this.cdktf(['deploy', '--auto-approve']);
  }

  destroy(): Promise<CommandResult> {
    return this.cdktf(['destroy', '--auto-approve']);
  }

  /**
   * `calico-net ARGS` (this checkout's CLI) from the operator netns, in the project, with its
   * environment; `extraEnv` is laid over it for this run only.
   */
  calicoNet(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
    const cli = path.join(packageRoot(), 'bin', 'calico-net.js');
    return operatorExec(this.lab, [process.execPath, cli, ...args], {
      cwd: this.projectDir,
      env: { ...this.env, ...extraEnv },
    });
  }

  /** `terraform plan -detailed-exitcode` in the synthesized stack: 0 = no changes, 2 = changes. */
  plan(extra: string[] = []): Promise<CommandResult> {
    return operatorExec(this.lab, ['terraform', 'plan', '-detailed-exitcode', '-input=false', '-no-color', ...extra], {
      cwd: this.stackDir,
      env: this.env,
    });
  }

  async exec(node: string, argv: string[], input?: string): Promise<CommandResult> {
    return nodeExec(this.lab, node, argv, input === undefined ? undefined : { input });
  }

  async sh(node: string, script: string): Promise<CommandResult> {
    return this.exec(node, ['bash', '-c', script]);
  }

  /** A RemoteHost that runs scripts inside a node's namespaces (the test's back door). */
  hostOf(node: string): RemoteHost {
    return {
      label: `${node} (via nsenter)`,
      run: (script: string, options?: { stdin?: string }): Promise<RemoteResult> =>
        nodeExec(
          this.lab,
          node,
          ['bash', '-c', script],
          options?.stdin === undefined ? undefined : { input: options.stdin },
        ),
    };
  }

  async sessions(node: string): Promise<BgpSessionRow[]> {
    const r = await this.exec(node, ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'protocols']);
    if (r.code !== 0) throw new Error(`birdc on ${node} failed: ${r.stderr || r.stdout}`);
    return parseBirdProtocols(r.stdout);
  }

  /** Waits (by polling BIRD, not sleeping blindly) until every node has `expected` sessions up. */
  async waitForSessions(expected: (node: string) => number, timeoutMs = 60_000): Promise<Map<string, BgpSessionRow[]>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = new Map<string, BgpSessionRow[]>();
      for (const node of this.nodeNames) all.set(node, await this.sessions(node));
      const ready = this.nodeNames.every((n) => all.get(n)!.filter((s) => s.established).length === expected(n));
      if (ready || Date.now() > deadline) return all;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async routes(node: string): Promise<string[]> {
    const r = await this.exec(node, ['ip', '-4', 'route', 'show', 'table', 'main']);
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }

  /** Waits until a node's kernel holds routes for every given block learned from BGP. */
  async waitForRoutes(node: string, wanted: RegExp[], timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const routes = await this.routes(node);
      if (wanted.every((re) => routes.some((r) => re.test(r))) || Date.now() > deadline) return routes;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** `node`'s block as another node's kernel holds it once learned over BGP. */
  learnedRoute(node: string): RegExp {
    return new RegExp(`^${escapeDots(this.podCidr(node))} via ${escapeDots(this.address(node))} .*proto bird`);
  }

  blackholeRoute(node: string): RegExp {
    return new RegExp(`^blackhole ${escapeDots(this.podCidr(node))} `);
  }

  /** Each node holds its own blackhole and a learned route for every other node's block. */
  async expectRoutesConverged(): Promise<void> {
    for (const node of this.nodeNames) {
      const wanted = [
        this.blackholeRoute(node),
        ...this.nodeNames.filter((n) => n !== node).map((n) => this.learnedRoute(n)),
      ];
      const routes = await this.waitForRoutes(node, wanted);
      for (const re of wanted) expect(routes.some((r) => re.test(r))).toBe(true);
    }
  }

  async pingAll(): Promise<PingResult[]> {
    const targets: WorkloadTarget[] = this.workloads().map((w) => ({ ...w, host: this.hostOf(w.node) }));
    return pingMatrix(targets);
  }

  async snapshot(node: string): Promise<NodeSnapshot> {
    const [netns, links, routes, birdConf, ipForward] = await Promise.all([
      this.exec(node, ['ip', 'netns', 'list']),
      this.exec(node, ['ip', '-o', 'link', 'show']),
      this.routes(node),
      this.exec(node, ['cat', '/etc/bird/bird.conf']),
      this.exec(node, ['sysctl', '-n', 'net.ipv4.ip_forward']),
    ]);
    return {
      netns: netns.stdout
        .split('\n')
        .map((l) => l.split(' ')[0])
        .filter(Boolean)
        .sort(),
      caliLinks: links.stdout
        .split('\n')
        .map((l) => l.split(':')[1]?.trim().split('@')[0])
        .filter((n) => n?.startsWith('cali'))
        .sort(),
      routes: routes.sort(),
      birdConf: birdConf.stdout,
      ipForward: ipForward.stdout.trim(),
    };
  }
}

/** The host-side veth of a workload, as the provider names it (read from state, not recomputed). */
export async function hostInterfaceOf(cluster: E2eCluster, workload: string): Promise<string> {
  const r = await operatorExec(cluster.lab, ['terraform', 'show', '-json', '-no-color'], {
    cwd: cluster.stackDir,
    env: cluster.env,
  });
  const state = JSON.parse(r.stdout);
  const resources: { type: string; values: Record<string, unknown> }[] = state.values?.root_module?.resources ?? [];
  const found = resources.find((x) => x.type === 'calico_workload' && x.values.name === workload);
  if (!found) throw new Error(`workload ${workload} not in state`);
  return found.values.host_interface as string;
}

function escapeDots(text: string): string {
  return text.replace(/\./g, '\\.');
}

/**
 * What an operator importing by hand has: the lab's key in a running ssh-agent and the lab's
 * hosts in ~/.ssh/known_hosts of a home directory under the cluster's root. `env` holds HOME and
 * SSH_AUTH_SOCK; stop() ends the agent.
 */
export async function operatorAgent(
  cluster: E2eCluster,
  name: string,
): Promise<{ env: NodeJS.ProcessEnv; stop(): void }> {
  const home = path.join(cluster.root, `${name}-home`);
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  fs.copyFileSync(cluster.lab.knownHostsPath, path.join(home, '.ssh', 'known_hosts'));
  const sock = path.join(cluster.root, `${name}-agent.sock`);
  const agent = await run('ssh-agent', ['-a', sock, '-s']);
  if (agent.code !== 0) throw new Error(`ssh-agent: ${agent.stderr}`);
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1] ?? 0);
  const stop = () => {
    try {
      if (pid > 0) process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const add = await run('ssh-add', [cluster.lab.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
  if (add.code !== 0) {
    stop();
    throw new Error(`ssh-add: ${add.stderr}`);
  }
  return { env: { HOME: home, SSH_AUTH_SOCK: sock }, stop };
}

export function describeCommand(r: CommandResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout.slice(-6000)}\n--- stderr ---\n${r.stderr.slice(-6000)}`;
}
