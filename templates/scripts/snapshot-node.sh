# shellcheck shell=bash
# What calico_node's read needs beyond the host-wide routes and addresses: forwarding (IPv4, and
# IPv6's, empty on a host without IPv6), the route
# to the pods' gateway, and the registry's lines ("$registry").
: "${registry:?}"

part ip_forward; read -r node_ip_forward < "$SYSCTL_DIR/$IP_FORWARD"; printf '%s\n' "$node_ip_forward"
part ipv6_forwarding; node_v6_forwarding=''; read -r node_v6_forwarding 2>/dev/null < "$V6_SYSCTL_DIR/$V6_IP_FORWARD" || true; printf '%s\n' "$node_v6_forwarding"
part gateway; ip "$IP_FAMILY_FLAG" -o route get "$POD_GATEWAY" 2>/dev/null || true
part registry; if [ -f "$registry" ]; then while IFS= read -r l; do printf '%s\n' "$l"; done < "$registry"; fi
