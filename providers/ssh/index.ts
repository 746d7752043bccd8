export { SshPool } from './pool';
export type { SshPoolOptions } from './pool';
export { shQuote } from './quote';
export { fingerprint, verifyHostKey } from './known-hosts';
export * from './types';
