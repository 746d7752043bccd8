# shellcheck shell=bash

# link_exists NAME: succeeds when the shell's own network namespace has a device named NAME, and
# starts no process to find out. /proc/sys/net lists the devices of the reader's namespace
# (unlike /sys, which shows the namespace it was mounted in), and every device we look for
# (veth, vxlan, ipip) has an entry under $SYSCTL_DIR/conf: their MTU is at least IPv4's 68.
link_exists() { [ -e "$SYSCTL_DIR/conf/$1" ]; }
