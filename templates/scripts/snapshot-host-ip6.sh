# shellcheck shell=bash
# The host's IPv6 addresses and main table (providers/calico/ip-output.ts, hostIp6Section): one
# process on every host, IPv4-only ones too.
# shellcheck source=lib/ip-read.sh
. "$LIB/ip-read.sh"

# A kernel booted with ipv6.disable=1 has no IPv6 to read (and `ip -6` fails there): an empty
# section, as on a host with no IPv6 address or route.
if [ -d "$V6_SYSCTL_DIR" ]; then IP_FAMILY_FLAG=$V6_IP_FAMILY_FLAG ip_batch_read host; fi
