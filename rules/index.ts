/**
 * Rules that the constructs, the inventory loader, the provider and the calico-net commands must
 * agree on, each with one owner here: the input checks (checks.ts), the address families and their CIDR maths (address-family.ts),
 * shared constants (constants.ts), how a node is reached over SSH (ssh.ts) and which nodes share
 * a subnet (subnets.ts). This folder
 * imports nothing of the project but the SSH layer's SshTarget type.
 */
export * from './checks';
export * from './constants';
export * from './address-family';
export * from './ssh';
export * from './secrets';
export * from './subnets';
