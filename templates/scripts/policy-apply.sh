# shellcheck shell=bash
# calico_policy_ruleset apply: replaces our table with "$ruleset" in one nft transaction, after
# checking that nft is there and that a table of that name is ours. Prints "$listing_mark", then
# the new listing.
# shellcheck source=lib/exit-codes.sh
. "$LIB/exit-codes.sh"
# shellcheck source=lib/nft.sh
. "$LIB/nft.sh"
: "${node:?}" "${ruleset:?}" "${mark:?}" "${listing_mark:?}"

if ! command -v nft >/dev/null 2>&1; then
  fail nft_missing "node $node has no nft command (Debian package nftables); network policy cannot be enforced there: install it, then apply again"
fi
cur=$(current_table)
if [ -n "$cur" ] && ! is_ours "$cur"; then
  fail policy_table_foreign "node $node already has a table $table_family $table_name that calico-net did not create (it lacks calico-net's comment); it is left alone: remove or rename it, then apply again"
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# One transaction: create the table if missing, delete it, define it anew. nft checks all of it
# and the kernel commits all of it or nothing, so no separate nft -c pass.
printf 'table %s %s\ndelete table %s %s\n%s\n' "$table_family" "$table_name" "$table_family" "$table_name" "$ruleset" > "$tmp"
if ! err=$(nft -f "$tmp" 2>&1); then
  if [ "$(current_table)" != "$cur" ]; then
    fail nft_table_changed "node $node: nft refused the ruleset, and the table $table_family $table_name now differs from before (this should not happen: nft transactions are all or nothing): $err"
  fi
  fail nft_refused "node $node: nft refused the ruleset (the transaction was aborted; the table is as it was): $err"
fi
printf '%s\n' "$listing_mark"
nft list table "$table_family" "$table_name"
