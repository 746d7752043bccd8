# shellcheck shell=bash
# calico-net status: one question to the BIRD behind the control socket "$sock", answered with
# birdc's own output and exit code. "$question" is one of the three below (cli/status.ts).
: "${sock:?}" "${question:?}"

case "$question" in
  protocols) birdc -s "$sock" show protocols ;;
  protocols-all) birdc -s "$sock" show protocols all ;;
  bfd-sessions) birdc -s "$sock" show bfd sessions ;;
  *) echo "bird-status.sh: no question $question" >&2; exit 2 ;;
esac
