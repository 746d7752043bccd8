# shellcheck shell=bash
# The exit codes our scripts end with when they stop on purpose. Each name has one code and one
# meaning; providers/calico/exit-codes.ts maps each to the summary and attribute the operator
# sees (test/calico/scripts.test.ts keeps the two lists the same).

# fail NAME MESSAGE: prints MESSAGE on stderr and exits with NAME's code.
fail() {
  local code
  case "$1" in
    refused) code=3 ;;
    gateway_blocked) code=42 ;;
    bird_rejected) code=43 ;;
    address_missing) code=44 ;;
    bird_rolled_back) code=45 ;;
    bird_not_running) code=46 ;;
    bird_missing) code=47 ;;
    no_ipip) code=50 ;;
    nft_missing) code=51 ;;
    policy_table_foreign) code=52 ;;
    nft_refused) code=53 ;;
    nft_table_changed) code=54 ;;
    # A name missing here is a bug in our scripts: EX_SOFTWARE, and the message still reaches the operator.
    *) code=70 ;;
  esac
  printf '%s\n' "$2" >&2
  exit "$code"
}
