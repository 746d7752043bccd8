/**
 * `terraform import` hands us one string. Formats (the part after the first "@" says how to
 * reach the host; user defaults to root, port to 22, known_hosts to ~/.ssh/known_hosts — set
 * private_key_path etc. in the configuration, the next apply records them):
 *
 *   calico_node         <node>@[user@]host[:port]                   node1@198.18.0.1
 *   calico_bird_config  <node>:<config path>@[user@]host[:port]     node1:/etc/bird/bird.conf@root@198.18.0.1:22
 *   calico_workload     <node>/<workload>@[user@]host[:port]        node1/web@198.18.0.1
 *   calico_overlay      <node>@[user@]host[:port]                   node1@198.18.0.1
 *
 * An IPv6 host is written in brackets: node1@[2001:db8::1]:22.
 *
 * A host behind jump hosts: any of the above, then " via " and the hops in OpenSSH's ProxyJump
 * form (as in the ssh block's proxy_jump; every hop is checked against the same known_hosts):
 *
 *   node3@198.18.35.131 via ops@198.18.35.1
 *   node3/web@198.18.35.131 via ops@198.18.35.1:22,198.18.36.1
 */
import { ProviderError } from '../runtime/resource';
import { hostNameProblem, userNameProblem } from '../../rules/checks';
import { parseProxyJump } from '../../rules/ssh';
import type { SshBlock } from './schema';

export interface ImportTarget {
  /** The resource part before the first "@". */
  subject: string;
  /** An `ssh` block value with only what the id says; everything else null. */
  ssh: SshBlock;
}

export function parseImportId(id: string, format: string): ImportTarget {
  const bad = (why: string): never => {
    throw new ProviderError(`Invalid import id "${id}"`, {
      detail: `${why}; expected ${format}, optionally followed by " via <jump hosts>"`,
    });
  };
  let target = id;
  let proxyJump: string | null = null;
  const via = id.indexOf(' via ');
  if (via >= 0) {
    target = id.slice(0, via);
    proxyJump = id.slice(via + ' via '.length).trim();
    const hops = parseProxyJump(proxyJump);
    if (typeof hops === 'string') bad(`"${proxyJump}" after " via " is not a ProxyJump value: ${hops}`);
  }
  const at = target.indexOf('@');
  if (at <= 0) bad('missing "@host"');
  const subject = target.slice(0, at);
  let rest = target.slice(at + 1);
  let user: string | null = null;
  const userAt = rest.indexOf('@');
  if (userAt >= 0) {
    user = rest.slice(0, userAt);
    rest = rest.slice(userAt + 1);
    if (userNameProblem(user)) bad(`"${user}" is not a user name`);
  }
  let host = rest;
  let port: number | null = null;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::([0-9]+))?$/.exec(rest);
  const hostPort = /^([^:]+)(?::([0-9]+))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1];
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (hostPort) {
    host = hostPort[1];
    if (hostPort[2]) port = Number(hostPort[2]);
  }
  if (!host || hostNameProblem(host)) bad(`"${host}" is not a host name or address`);
  if (port !== null && (port < 1 || port > 65535)) bad(`port ${port} is out of range`);
  return {
    subject,
    ssh: {
      host,
      port,
      user,
      private_key_path: null,
      passphrase_env: null,
      known_hosts_path: null,
      sudo: null,
      proxy_jump: proxyJump,
      proxy_jump_keys: null,
      from_ssh_config: null,
    },
  };
}
