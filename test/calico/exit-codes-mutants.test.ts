/**
 * The exit-code table (providers/calico/exit-codes.ts) as the operator meets it: for every name,
 * the error a script that can end with it gives (summary, detail, attribute), with and without
 * words of its own on stderr; and what a code means for a script that cannot end with it.
 */
import { EXIT_CODES, ExitName, isExitName, scriptFailure } from '../../providers/calico/exit-codes';

const ctx = { node: 'n1', doing: 'write bird.conf', file: '/etc/bird/bird.conf' };
const all = new Set(Object.keys(EXIT_CODES) as ExitName[]);
const failure = (code: number, stderr: string, exits: ReadonlySet<ExitName> = all) => {
  const e = scriptFailure(code, stderr, exits, ctx);
  return e && { summary: e.summary, detail: e.options.detail, attribute: e.options.attribute };
};

test("each name's error, with the script's words (trimmed) as summary or detail", () => {
  const said = '  what the script said \n';
  expect(Object.fromEntries([...all].map((name) => [name, failure(EXIT_CODES[name].code, said)]))).toStrictEqual({
    refused: { summary: 'Failed to write bird.conf on node n1', detail: 'what the script said', attribute: undefined },
    gateway_blocked: { summary: 'what the script said', detail: undefined, attribute: ['name'] },
    bird_rejected: {
      summary: 'BIRD rejected the new configuration for node n1; /etc/bird/bird.conf was left untouched',
      detail: 'what the script said',
      attribute: ['content'],
    },
    address_missing: { summary: 'what the script said', detail: undefined, attribute: ['address'] },
    bird_rolled_back: {
      summary: 'The new bird.conf broke BGP on node n1 and was rolled back',
      detail: 'what the script said',
      attribute: ['content'],
    },
    bird_not_running: {
      summary: 'BIRD is not running on node n1',
      detail: 'what the script said',
      attribute: undefined,
    },
    bird_missing: {
      summary:
        'Cannot check the new bird.conf on node n1: bird was not found on the PATH there; /etc/bird/bird.conf was left untouched',
      detail: 'what the script said',
      attribute: undefined,
    },
    no_ipip: { summary: 'what the script said', detail: undefined, attribute: ['encapsulation'] },
    nft_missing: { summary: 'what the script said', detail: undefined, attribute: undefined },
    policy_table_foreign: { summary: 'what the script said', detail: undefined, attribute: undefined },
    nft_refused: {
      summary: 'nft refused the network policy of node n1; its table is as it was',
      detail: 'what the script said',
      attribute: ['ruleset'],
    },
    nft_table_changed: {
      summary: 'nft refused the network policy of node n1, and its table changed anyway: plan again to see it',
      detail: 'what the script said',
      attribute: undefined,
    },
  });
});

test('a script that said nothing: the exit code is the detail', () => {
  expect(failure(EXIT_CODES.bird_rolled_back.code, ' \n')).toStrictEqual({
    summary: 'The new bird.conf broke BGP on node n1 and was rolled back',
    detail: 'exit code 45',
    attribute: ['content'],
  });
  expect(failure(7, '')).toStrictEqual({
    summary: 'Failed to write bird.conf on node n1',
    detail: 'exit code 7',
    attribute: undefined,
  });
});

test("a code the script cannot end with, or no table's code: the generic error with the script's words", () => {
  // 44 is address_missing, but this script never fails so: its words are the detail, on no attribute.
  expect(failure(44, 'lost\n', new Set<ExitName>(['bird_rejected']))).toStrictEqual({
    summary: 'Failed to write bird.conf on node n1',
    detail: 'lost',
    attribute: undefined,
  });
  expect(failure(1, 'set -e stopped here\n')).toStrictEqual({
    summary: 'Failed to write bird.conf on node n1',
    detail: 'set -e stopped here',
    attribute: undefined,
  });
  expect(failure(0, 'noise on stderr')).toBeNull();
});

test("the attribute is a copy: a caller's change does not reach the table", () => {
  const e = scriptFailure(44, 'x', all, ctx)!;
  e.options.attribute!.push('changed');
  expect(EXIT_CODES.address_missing.attribute).toEqual(['address']);
});

test('isExitName knows the table and nothing else (not what every object inherits)', () => {
  for (const name of all) expect(isExitName(name)).toBe(true);
  for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'REFUSED', ''])
    expect([name, isExitName(name)]).toEqual([name, false]);
});
