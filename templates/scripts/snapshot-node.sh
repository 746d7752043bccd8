# shellcheck shell=bash
# What calico_node's read needs beyond the host-wide routes and addresses: forwarding, the route
# to the pods' gateway, and the registry's lines ("$registry").
: "${registry:?}"

part ip_forward; read -r node_ip_forward < "$SYSCTL_DIR/$IP_FORWARD"; printf '%s\n' "$node_ip_forward"
part gateway; ip "$IP_FAMILY_FLAG" -o route get "$POD_GATEWAY" 2>/dev/null || true
part registry; if [ -f "$registry" ]; then while IFS= read -r l; do printf '%s\n' "$l"; done < "$registry"; fi
