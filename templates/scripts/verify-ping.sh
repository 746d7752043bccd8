# shellcheck shell=bash
# `calico-net verify` on one node, for one address family (cli/verify.ts): from inside every
# local workload, ping its targets.
#
# stdin: an optional "P ping" line (force the fallback), then "W <netns>" lines, each followed by
# its "<index> <address>" targets. stdout: "<index> ok|fail" per target, and "F0 n" / "F1 n", the
# neighbour table's (ARP or NDP) table_fulls counter before and after.
#
# Values (cli/verify.ts): $timeout seconds per try, $pings_in_flight (the fallback's tokens),
# $neigh_table (arp_cache, ndisc_cache). The family comes as $IP_FAMILY_FLAG (-4, -6), from
# rules/address-family.ts through the loader. Only the validated namespace name is an argument
# anywhere; addresses reach each pinger on its stdin.
: "${timeout:?}" "${pings_in_flight:?}" "${neigh_table:?}"
# A failed ping or a missing `ip ntable` is an answer to print, never a reason to stop.
set +e

fulls() { ip -s ntable show name "$neigh_table" 2>/dev/null | sed -n 's/.*table_fulls \([0-9][0-9]*\).*/\1/p' | head -n 1; }
echo "F0 $(fulls)"

# One process per workload: every echo request from one raw socket, replies collected as they
# come, one retry for the pairs that did not answer (the first packets towards a fresh
# neighbour can be lost while ARP/NDP resolves). Requests carry the target's position as
# sequence number and this process's id; a reply counts only from the address that was asked.
# IPv4's raw socket hands us the IP header and wants our checksum; IPv6's does neither (the
# kernel fills ICMPv6 checksums), and the sender comes from recv. The receive buffer is raised
# (as root) so hundreds of replies arriving at once are not dropped. Only core Perl (perl-base).
read -r -d '' perl_pinger <<'PERL'
use strict; use Socket qw(:DEFAULT inet_pton pack_sockaddr_in6 unpack_sockaddr_in6 AF_INET6 PF_INET6);
my $wait = shift;
my $v6 = shift eq '-6';
# Opened first: run with no targets, the program only tells whether the socket can be had.
socket(my $s, $v6 ? PF_INET6 : PF_INET, SOCK_RAW, $v6 ? 58 : 1) or die "raw ICMP socket: $!\n";
my (@idx, @to);
while (my $l = <STDIN>) { my ($i, $ip) = split ' ', $l; next unless defined $ip; push @idx, $i; push @to, inet_pton($v6 ? AF_INET6 : AF_INET, $ip) // die "bad address $ip\n"; }
exit 0 unless @idx;
die "more than 65536 targets\n" if @idx > 65536;
setsockopt($s, SOL_SOCKET, 33, pack("i", 1 << 22)) or setsockopt($s, SOL_SOCKET, SO_RCVBUF, pack("i", 1 << 22));
my $id = $$ & 0xffff;
my @ok = (0) x @idx;
sub csum { my $n = 0; $n += $_ for unpack("n*", $_[0]); $n = ($n >> 16) + ($n & 0xffff) while $n >> 16; ~$n & 0xffff }
for my $try (1, 2) {
  my @todo = grep { !$ok[$_] } 0 .. $#idx;
  last unless @todo;
  for my $k (@todo) {
    my $p = pack("CCnnn", $v6 ? 128 : 8, 0, 0, $id, $k) . "calico-net verify";
    if ($v6) { send($s, $p, 0, pack_sockaddr_in6(0, $to[$k])); next; }
    $p .= "\0" if length($p) % 2;
    substr($p, 2, 2) = pack("n", csum($p));
    send($s, $p, 0, pack_sockaddr_in(0, $to[$k]));
  }
  my $left = @todo;
  my $time = $wait;
  my $bits = ""; vec($bits, fileno($s), 1) = 1;
  while ($left > 0 && $time > 0) {
    my ($n, $rest) = select(my $r = $bits, undef, undef, $time);
    $time = $rest;
    next unless $n > 0;
    while (defined(my $peer = recv($s, my $buf, 1500, MSG_DONTWAIT))) {
      my ($h, $reply, $from) = $v6 ? (0, 129, (unpack_sockaddr_in6($peer))[1]) : ((ord($buf) & 15) * 4, 0, substr($buf, 12, 4));
      next if length($buf) < $h + 8;
      my ($type, $code, $sum, $rid, $seq) = unpack("CCnnn", substr($buf, $h, 8));
      next unless $type == $reply && $rid == $id && $seq < @idx && !$ok[$seq] && $from eq $to[$seq];
      $ok[$seq] = 1; $left--;
    }
  }
}
print "$idx[$_] ", ($ok[$_] ? "ok" : "fail"), "\n" for 0 .. $#idx;
PERL

# The fallback, one `ping` per pair: every workload fires its pings as fast as the node's tokens
# allow; a FIFO holds $pings_in_flight tokens shared by all workloads of the node, each ping (and
# its one retry) holds one. Arguments: seconds per try, the family flag.
read -r -d '' pinger <<'PINGER'
while read -r i ip; do
  read -r -N 1 -u 9 _
  { if ping "$2" -c 1 -W "$1" -q "$ip" >/dev/null 2>&1 || ping "$2" -c 1 -W "$1" -q "$ip" >/dev/null 2>&1
    then echo "$i ok"; else echo "$i fail"; fi
    printf " " >&9; } &
done
wait
PINGER

declare -A targets=()
order=()
ns=
use=perl
while read -r a b; do
  if [[ $a == P ]]; then use=$b
  elif [[ $a == W ]]; then ns=$b; order+=("$ns"); targets[$ns]=
  elif [[ -n $ns ]]; then targets[$ns]+="$a $b"$'\n'
  fi
done
if [[ $use == perl ]] && ! perl -e "$perl_pinger" "$timeout" "$IP_FAMILY_FLAG" </dev/null 2>/dev/null; then use=ping; fi
if [[ $use == perl ]]; then
  for ns in "${order[@]}"; do
    printf '%s' "${targets[$ns]}" | ip netns exec "$ns" perl -e "$perl_pinger" "$timeout" "$IP_FAMILY_FLAG" &
  done
else
  dir=$(mktemp -d) && mkfifo "$dir/tokens" && exec 9<>"$dir/tokens" && rm -rf -- "$dir" || exit 1
  printf '%*s' "$pings_in_flight" '' >&9
  for ns in "${order[@]}"; do
    printf '%s' "${targets[$ns]}" | ip netns exec "$ns" bash --norc --noprofile -c "$pinger" pinger "$timeout" "$IP_FAMILY_FLAG" &
  done
fi
wait
echo "F1 $(fulls)"
