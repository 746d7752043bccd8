# shellcheck shell=bash
# Our nftables table ("$table_family" "$table_name", marked by the comment line "$mark"): what is
# there now, and whether it carries our mark.
: "${table_family:?}" "${table_name:?}"

# The current table, empty when none. Terse (no set elements) and stateless (no counters):
# enough to see the mark and to compare before with after, at a fraction of a full listing's
# cost with hundreds of workloads.
current_table() { nft -t -s list table "$table_family" "$table_name" 2>/dev/null || true; }

# Whether the listing $1 carries our mark. awk reads the whole listing: a pipe into grep -q,
# which quits at the first match, killed its writer with SIGPIPE on a large table, and pipefail
# turned our own table into a foreign one.
is_ours() {
  : "${mark:?}"
  awk -v m="$mark" '{ sub(/^[[:space:]]+/, "") } $0 == m { found = 1 } END { exit !found }' <<< "$1"
}
