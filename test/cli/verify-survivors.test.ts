/**
 * How pingRun reads the ARP table counters ("F0 <n>" before the pings, "F1 <n>" after) out of a
 * node's answer: whole lines only, surrounding blanks allowed, counts of any length. Kills the
 * mutants of the counter pattern that survived the mutation run (docs/mutation-survivors.md).
 */
import { pingRun, WorkloadTarget } from '../../cli/verify';

/** One node with two workloads whose pings all succeed; `extra` lines follow the verdicts. */
async function warningsFor(extra: string[]): Promise<string[]> {
  const host = {
    label: 'h1',
    run: async () => ({ code: 0, stdout: ['0 ok', '1 ok', ...extra, ''].join('\n'), stderr: '' }),
  };
  const ws: WorkloadTarget[] = [
    { node: 'n1', name: 'a', ip: '198.19.1.2', host },
    { node: 'n1', name: 'b', ip: '198.19.1.3', host },
  ];
  return (await pingRun(ws)).warnings;
}

const warning = (count: string) =>
  `the kernel's ARP (neighbour) table was full during the pings (n1 ${count}x); packets to unresolved neighbours were dropped ` +
  '(raise net.ipv4.neigh.default.gc_thresh3, or find what fills the table)';

test('counters of several digits are read whole', async () => {
  expect(await warningsFor(['F0 2', 'F1 12'])).toEqual([warning('10')]);
});

test('counter lines may carry blanks around them', async () => {
  expect(await warningsFor(['  F0 2  ', '\tF1 5 '])).toEqual([warning('3')]);
});

test('a counter inside a longer line is not a counter', async () => {
  expect(await warningsFor(['F0 2', 'XF1 9'])).toEqual([]);
  expect(await warningsFor(['F0 2', 'F1 9x'])).toEqual([]);
  expect(await warningsFor(['F0 2', 'F1 9 7'])).toEqual([]);
});
