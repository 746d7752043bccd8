# shellcheck shell=bash
# calico_policy_ruleset read and import (read-only): whether nft is there, then "$listing_mark"
# and our table's listing (nothing after the mark when there is no such table).
: "${table_family:?}" "${table_name:?}" "${listing_mark:?}"

if ! command -v nft >/dev/null 2>&1; then echo nft=missing; exit 0; fi
echo nft=present
printf '%s\n' "$listing_mark"
nft list table "$table_family" "$table_name" 2>/dev/null || true
