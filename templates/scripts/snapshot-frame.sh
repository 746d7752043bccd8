# shellcheck shell=bash
# The host snapshot's framing (providers/calico/host-snapshot.ts): `section NAME` starts a
# resource's section, `part LABEL` a labelled sub-part. Both marks carry "$mark_key", which no
# text the host prints can know.
: "${mark_key:?}"

section() { printf '%s\n' "==> $mark_key $1"; }
part() { printf '%s\n' "--> $mark_key $*"; }
