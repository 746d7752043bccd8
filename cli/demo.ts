/**
 * `npm run demo`: the main job on the embedded default. As root: a 3-node lab out of network
 * namespaces (real sshd and bird per node, one AS per node as in the seed, one workload each),
 * `cdktf deploy` from the lab's operator namespace, then every node's BGP sessions and a
 * workload-to-workload ping matrix, and the cluster's picture (calico-net graph, SVG) written
 * to a file whose path it prints. The lab stays up for exploring.
 */
import * as path from 'path';
import { labDown, labUp, operatorExec, LabInfo } from '../lab';
import { packageRoot } from '../providers/package-root';
import { automationEnv, cdktfBinary, writeOperatorProject } from './operator-project';

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function banner(title: string): void {
  say();
  say(`==> ${title}`);
}

async function inOperator(lab: LabInfo, argv: string[], cwd: string, stream: boolean): Promise<number> {
  const result = await operatorExec(lab, argv, {
    cwd,
    env: automationEnv(lab.inventoryPath),
    onOutput: stream ? (chunk) => process.stdout.write(chunk) : undefined,
  });
  if (!stream) process.stdout.write(result.stdout + result.stderr);
  return result.code;
}

export async function runDemo(nodes = 3): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('The demo builds network namespaces and must run as root (sudo npm run demo).\n');
    return 1;
  }
  const root = packageRoot();
  const dir = path.join(root, '.lab');

  banner(`Building a ${nodes}-node lab in ${dir} (network namespaces, real sshd and bird per node)`);
  await labDown(dir); // a previous demo's lab, if any
  const lab = await labUp({ dir, nodes, id: 0, asMode: 'ebgp', log: (l) => say(`    ${l}`) });
  const projectDir = writeOperatorProject(path.join(dir, 'project'));
  const cli = path.join(root, 'bin', 'calico-net.js');

  banner(`cdktf deploy (inventory ${lab.inventoryPath}), from the operator namespace ${lab.operator.netns}`);
  const deployed = await inOperator(lab, [cdktfBinary(), 'deploy', '--auto-approve'], projectDir, true);
  if (deployed !== 0) {
    process.stderr.write(`\ncdktf deploy failed (exit ${deployed}); the lab is still up for inspection.\n`);
    printHowTo(lab, projectDir);
    return deployed;
  }

  banner('BGP sessions on every node (calico-net status)');
  const status = await inOperator(
    lab,
    [process.execPath, cli, 'status', '--inventory', lab.inventoryPath, '--wait', '60'],
    projectDir,
    false,
  );

  banner('Workload-to-workload pings (calico-net verify)');
  const verify = await inOperator(
    lab,
    [process.execPath, cli, 'verify', '--inventory', lab.inventoryPath],
    projectDir,
    false,
  );

  banner('The cluster as a picture (calico-net graph)');
  const picture = path.join(dir, 'cluster.svg');
  // The sessions as status reads them and the drift a refresh-only plan finds: nothing changes.
  const drawn = await inOperator(
    lab,
    [process.execPath, cli, 'graph', '--inventory', lab.inventoryPath, '--dir', projectDir, '--out', picture],
    projectDir,
    false,
  );
  if (drawn === 0) say(`  picture of the demo cluster: ${picture}`);

  printHowTo(lab, projectDir);
  return status === 0 && verify === 0 && drawn === 0 ? 0 : 1;
}

function printHowTo(lab: LabInfo, projectDir: string): void {
  const op = `ip netns exec ${lab.operator.netns}`;
  const calicoNet = `node ${path.join(packageRoot(), 'bin', 'calico-net.js')}`;
  const cdktf = cdktfBinary();
  const first = lab.nodes[0];
  banner('The lab is still running. To explore:');
  say(
    `  ssh into a node:     ${op} ssh -i ${lab.clientKeyPath} -o UserKnownHostsFile=${lab.knownHostsPath} root@${first.address}`,
  );
  say(`  then, on the node:   birdc show protocols; ip route; ip netns list`);
  say(`  BGP status:          ${op} ${calicoNet} status --inventory ${lab.inventoryPath}`);
  say(`  ping matrix:         ${op} ${calicoNet} verify --inventory ${lab.inventoryPath}`);
  say(
    `  picture (SVG):       ${op} ${calicoNet} graph --inventory ${lab.inventoryPath} --dir ${projectDir} --out cluster.svg`,
  );
  say(`  drift report:        cd ${projectDir} && CALICO_INVENTORY=${lab.inventoryPath} ${op} ${calicoNet} drift`);
  say(`  redeploy / destroy:  cd ${projectDir} && CALICO_INVENTORY=${lab.inventoryPath} ${op} ${cdktf} deploy|destroy`);
  say(`  tear the lab down:   ${calicoNet} lab down --dir ${lab.dir}`);
}

if (require.main === module) {
  runDemo().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
