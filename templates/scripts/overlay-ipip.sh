# shellcheck shell=bash
# IPIP, as Calico programs it: tunl0 (ipip, remote any). Where the kernel has no ipip module,
# apply fails naming the host. tunl0 is the kernel's fallback device, there for anyone: ours
# once it carries our mark, and given back (not deleted) when the kernel keeps it.
# shellcheck source=lib/overlay.sh
. "$LIB/overlay.sh"
# shellcheck source=lib/exit-codes.sh
. "$LIB/exit-codes.sh"

ensure_device() {
  : "${mtu:?}"
  if ! dev_exists; then modprobe ipip 2>/dev/null || true; fi
  register link "$dev"
  if ! dev_exists; then
    local err
    if ! err=$(ip link add name "$dev" type ipip remote any 2>&1); then
      fail no_ipip "$node: this kernel has no ipip support (modprobe ipip failed, and ip link add $dev type ipip said: $err); IPIP cannot work on this host: use vxlanMode instead of ipipMode"
    fi
  fi
  case "$(ip -d -o link show dev "$dev")" in
    *" ipip "*) ;;
    *) fail refused "$node has a device $dev that is not an ipip tunnel; it is left alone" ;;
  esac
  # In use by someone else when it holds an address without our mark.
  if ! dev_ours "$dev" && [ -n "$(ip "$IP_FAMILY_FLAG" -o addr show dev "$dev")" ]; then
    fail refused "$node: $dev holds addresses that calico-net did not add (it lacks the alias $CALICO_MARK); it is left alone"
  fi
  ip link set dev "$dev" alias "$CALICO_MARK" mtu "$mtu" up
}

# IPIP has no neighbour or FDB entries of ours.
converge_entries() { :; }

# The kernel's fallback tunl0 cannot be deleted: then we take back what we set on it.
remove_device() {
  : "${tunnel:?}"
  if dev_exists && dev_ours "$dev" && ! ip link del "$dev" 2>/dev/null; then
    ip addr del "$tunnel/$HOST_PREFIX" dev "$dev" 2>/dev/null || true
    ip link set dev "$dev" down
    ip link set dev "$dev" alias ""
  fi
}
