/**
 * Script building for the Calico resources: values travel as quoted shell variables, and the
 * shell fragments more than one resource runs are written once, here.
 */
import { shQuote } from '../ssh/quote';
import { OUR_ROUTE_PROTO } from './names';

/**
 * Builds a script whose first lines assign the given shell variables (each value quoted), so
 * the body only ever refers to "$name" and never splices a value into code.
 */
export function scriptWithVars(vars: Record<string, string>, body: string): string {
  const assignments = Object.entries(vars).map(([name, value]) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad shell variable name ${name}`);
    return `${name}=${shQuote(value)}`;
  });
  return ['set -euo pipefail', ...assignments, body].join('\n');
}

/**
 * Shell function: succeeds when the shell's own network namespace has a device named "$1", and
 * starts no process to find out. /proc/sys/net lists the devices of the reader's namespace
 * (unlike /sys, which shows the namespace it was mounted in), and every device we look for
 * (veth, vxlan, ipip) has an IPv4 entry there: their MTU is at least IPv4's 68.
 */
export const LINK_EXISTS_FN = `
link_exists() { [ -e "/proc/sys/net/ipv4/conf/$1" ]; }`;

/**
 * Shell function: prints routes in the main table for exactly "$1" (a prefix) that would collide
 * with ours (same default metric) but were not created by us. `ip route replace` would otherwise
 * silently take such a route over, and our teardown would then delete it. Routes through the
 * device "$2", when given, do not count (the caller replaces them itself).
 */
export const FOREIGN_ROUTES_FN = `
foreign_routes() {
  ip -4 route show table main exact "$1" |
    awk -v dev="\${2-}" '!/ proto ${OUR_ROUTE_PROTO}( |$)/ && !/ metric [1-9]/ && (dev == "" || index($0, " dev " dev " ") == 0)'
}`;

/**
 * Shell function: deletes every IPv4 \`proto bird\` route of the main table that \`ip route show\`
 * selects with the given arguments (none: all of them; \`root <cidr>\`: those inside a block).
 * BIRD's kernel protocol runs with \`persist\`, so its routes outlive its config: teardown removes
 * them itself. The first word of a line is the route type when it is not the prefix.
 */
export const REMOVE_BIRD_ROUTES_FN = `
remove_bird_routes() {
  ip -4 route show table main "$@" proto bird | awk '/^[^ \\t]/{print ($1 ~ /^(unicast|blackhole|unreachable|prohibit|throw)$/) ? $2 : $1}' | sort -u |
    while read -r prefix; do
      while ip route del "$prefix" table main proto bird 2>/dev/null; do :; done
    done
}`;
