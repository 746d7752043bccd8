/** The lab's addressing (lab/lab.ts labAddressing): unchanged up to 200 nodes, a /23 and /25 pod blocks past that. */
import { labAddressing, workloadAddress, NARROW_LAB_MAX_NODES, WIDE_LAB_MAX_NODES } from '../../lab/lab';

const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const inCidr = (ip: string, cidr: string) => {
  const [net, len] = cidr.split('/');
  const mask = len === '0' ? 0 : (0xffffffff << (32 - Number(len))) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(net) & mask) >>> 0;
};

test('every lab of up to 200 nodes keeps its addressing: 198.18.K.k+1, operator .254, pod block 198.19.k+1.0/24', () => {
  for (const nodes of [1, 3, NARROW_LAB_MAX_NODES]) {
    const a = labAddressing(95, nodes, 1);
    expect(a.subnets).toEqual(['198.18.95.0/24']);
    expect(a.operator).toBe('198.18.95.254');
    for (let k = 0; k < nodes; k++) {
      expect(a.node(k)).toEqual({ address: `198.18.95.${k + 1}`, subnet: 0 });
      expect(a.podCidr(k)).toBe(`198.19.${k + 1}.0/24`);
    }
  }
  expect(workloadAddress('198.19.7.0/24', 0)).toBe('198.19.7.2');
  const two = labAddressing(40, 4, 2);
  expect([0, 1, 2, 3].map((k) => two.node(k).address)).toEqual([
    '198.18.40.1',
    '198.18.40.2',
    '198.18.40.129',
    '198.18.40.130',
  ]);
  expect(two.podCidr(3)).toBe('198.19.4.0/24');
});

test.each([256, WIDE_LAB_MAX_NODES])(
  'a wide lab of %i nodes fits its /23 and 198.19.0.0/16, every address distinct',
  (nodes) => {
    const a = labAddressing(172, nodes, 1);
    expect(a.subnets).toEqual(['198.18.172.0/23']);
    expect(a.prefixLength).toBe(23);
    const addresses = Array.from({ length: nodes }, (_, k) => a.node(k).address);
    const blocks = Array.from({ length: nodes }, (_, k) => a.podCidr(k));
    expect(new Set([...addresses, a.operator]).size).toBe(nodes + 1);
    for (const ip of [...addresses, a.operator]) {
      expect(inCidr(ip, '198.18.172.0/23')).toBe(true);
      expect(ip.endsWith('.0') && ip === '198.18.172.0').toBe(false);
      expect(ip).not.toBe('198.18.173.255');
    }
    expect(new Set(blocks).size).toBe(nodes);
    for (const [k, block] of blocks.entries()) {
      expect(inCidr(block.split('/')[0], '198.19.0.0/16')).toBe(true);
      expect(block.endsWith('/25')).toBe(true);
      // 4 workloads (the bench's) and the bench's extra ones stay inside the node's own block.
      for (const w of [0, 3, 100]) expect(inCidr(workloadAddress(block, w), block)).toBe(true);
      if (k > 0) expect(block).not.toBe(blocks[k - 1]);
    }
    expect(addresses[255]).toBe('198.18.173.0');
    expect(a.operator).toBe('198.18.173.254');
  },
);
