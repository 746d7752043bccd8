/**
 * The nftables table calico-net enforces network policy in: its family and name, and the
 * comment that marks it as ours. The compiler renders it, the provider loads, reads and removes
 * it; a table of that name without the mark was made by someone else and is left alone.
 */
export const POLICY_TABLE_FAMILY = 'inet';
export const POLICY_TABLE_NAME = 'calico-net';
/** `nft list table` prints it back as `comment "<this>"`: the mark. */
export const POLICY_TABLE_COMMENT = 'calico-net network policy; managed by calico-net deploy, hand edits are reverted';
