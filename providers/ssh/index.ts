/**
 * The SSH layer: one ssh2 connection per host per process (SshPool), strict host keys
 * (known-hosts.ts), sudo, passphrases from the environment. Its contract with the Calico
 * resources and the calico-net commands is RemoteHost (types.ts): run a bash script, get its
 * exit code and output. It knows nothing about Calico.
 */
export { SshPool } from './pool';
export type { SshPoolOptions } from './pool';
export { shQuote } from './quote';
export { fingerprint, verifyHostKey } from './known-hosts';
export * from './types';
