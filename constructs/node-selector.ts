/**
 * BGPPeer `nodeSelector`: which nodes peer with an external peer, chosen by the nodes' labels.
 * One selector syntax in the whole project: Calico's, as constructs/selector.ts parses it for
 * policies. A selector is parsed once per text (a cluster asks once per node and peer).
 */
import { Labels, matches, parseSelector, Selector, SelectorError } from './selector';

/** Parsed selectors by text; null: it does not parse. */
const parsed = new Map<string, Selector | null>();

/**
 * Whether a node with these labels is selected. A selector that does not parse selects no node:
 * rendering may run before the checks (cdktf resolves the bird.conf before validating), and the
 * checks then refuse the cluster, naming the peer and the position.
 */
export function nodeSelectorMatches(selector: string, labels: Labels): boolean {
  if (!parsed.has(selector)) {
    try {
      parsed.set(selector, parseSelector(selector));
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      parsed.set(selector, null);
    }
  }
  const sel = parsed.get(selector);
  return sel ? matches(sel, labels) : false;
}
