# shellcheck shell=bash
# probe_cells: probes every "index protocol ip port" line of $cells (ICMP echo, TCP connect, UDP
# datagram with $udp_probe, a perl one-shot), each in the background, at most $max at a time;
# prints "index allow" or "index deny" for each. It runs inside a workload's namespace, in a
# bash of its own: policy-verify-prober.sh hands it over with `declare -f`.
probe_cells() {
  : "${cells?}" "${max:?}" "${udp_probe?}"
  local n=0 i proto ip port
  while read -r i proto ip port; do
    if (( n >= max )); then wait -n; n=$((n - 1)); fi
    # SC2016: the TCP probe's $0 and $1 are the inner bash's arguments (ip, port), not ours.
    # shellcheck disable=SC2016
    ( case "$proto" in
        ICMP) ping -n -c 1 -W 1 "$ip" >/dev/null 2>&1 ;;
        TCP) timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$ip" "$port" 2>/dev/null ;;
        UDP) perl -e "$udp_probe" "$ip" "$port" ;;
      esac && echo "$i allow" || echo "$i deny" ) &
    n=$((n + 1))
  done <<< "$cells"
  wait
}
