# shellcheck shell=bash
# The host's IPv6 addresses and main table (providers/calico/ip-output.ts, hostIp6Section): one
# process on every host, IPv4-only ones too.
# shellcheck source=lib/ip-read.sh
. "$LIB/ip-read.sh"

IP_FAMILY_FLAG=$V6_IP_FAMILY_FLAG ip_batch_read host
