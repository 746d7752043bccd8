# shellcheck shell=bash
# calico_policy_ruleset destroy: removes our table; a table of that name without our mark stays
# (foreign=1).
# shellcheck source=lib/nft.sh
. "$LIB/nft.sh"

# Without nft there is no table of ours to remove.
if ! command -v nft >/dev/null 2>&1; then echo end=ok; exit 0; fi
cur=$(current_table)
if [ -n "$cur" ]; then
  if is_ours "$cur"; then nft delete table "$table_family" "$table_name"; else echo foreign=1; fi
fi
echo end=ok
