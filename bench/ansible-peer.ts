/**
 * The Ansible peer (bench/ansible/site.yml, a copy of the team's shared playbook): the same node
 * setup an operator would otherwise write as a playbook, run on the same lab in the same bench
 * run, so the ratios compare like with like. Settings as the shared notes give them: pipelining,
 * 10 forks, strict host keys, a fresh ControlPath dir per lab.
 *
 * Its inventory says what ours does: per node its address, AS number, pod CIDR and workloads.
 */
import * as fs from 'fs';
import * as path from 'path';
import { stringify as toYaml } from 'yaml';
import type { LabInfo } from '../lab';
import { packageRoot } from '../providers/package-root';

export const PLAYBOOK = () => path.join(packageRoot(), 'bench', 'ansible', 'site.yml');

interface InventoryNode {
  name: string;
  address: string;
  asNumber?: number;
  podCidr: string;
  workloads: { name: string; ip: string }[];
}

/** hosts.yml for the lab, from the lab's own inventory (the one our deploy used). */
export function ansibleInventory(
  lab: LabInfo,
  clusterYaml: { cluster: { podCidr: string; asNumber?: number }; nodes: InventoryNode[] },
): string {
  const asNumber = clusterYaml.cluster.asNumber ?? 64512;
  return toYaml({
    nodes: {
      hosts: Object.fromEntries(
        clusterYaml.nodes.map((n) => {
          const address = n.address.split('/')[0];
          return [
            n.name,
            {
              ansible_host: address,
              address,
              as_number: n.asNumber ?? asNumber,
              pod_cidr: n.podCidr,
              workloads: n.workloads.map((w) => ({ name: w.name, ip: w.ip })),
            },
          ];
        }),
      ),
      vars: {
        pool: clusterYaml.cluster.podCidr,
        ansible_user: 'root',
        ansible_ssh_private_key_file: lab.clientKeyPath,
        ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.knownHostsPath}`,
        ansible_python_interpreter: '/usr/bin/python3',
      },
    },
  });
}

/**
 * The environment of one ansible-playbook run: everything Ansible keeps on the operator side
 * (its home, control sockets, temp files) under `root`, nothing in the user's HOME.
 */
export function ansibleEnv(root: string): NodeJS.ProcessEnv {
  const home = path.join(root, 'ansible-home');
  const control = path.join(root, 'ansible-cp');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(control, { recursive: true });
  return {
    HOME: home,
    ANSIBLE_HOME: home,
    ANSIBLE_LOCAL_TEMP: path.join(home, 'tmp'),
    ANSIBLE_PIPELINING: '1',
    ANSIBLE_FORKS: '10',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_SSH_CONTROL_PATH_DIR: control,
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
  };
}

/** argv of a playbook run (first, no-op) or its plan (`--check`). */
export function playbookArgv(inventoryFile: string, check = false): string[] {
  return ['ansible-playbook', '-i', inventoryFile, PLAYBOOK(), ...(check ? ['--check'] : [])];
}
