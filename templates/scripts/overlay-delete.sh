# shellcheck shell=bash
# calico_overlay destroy, after the kind's script: our routes through the device, then the
# device (remove_device), and their lines in the registry once they are gone.
# shellcheck source=lib/overlay.sh
. "$LIB/overlay.sh"

remove_our_routes ""
remove_device
unregister link "$tmpdev"
if ! dev_exists || ! dev_ours "$dev"; then unregister link "$dev"; fi
echo end=ok
