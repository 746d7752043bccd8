# shellcheck shell=bash
# The host's own links, addresses and main table: read by every resource type, in one process.
# Unlike a workload's namespace, a host whose read fails fails the snapshot.
# shellcheck source=lib/ip-read.sh
. "$LIB/ip-read.sh"

ip_batch_read host
