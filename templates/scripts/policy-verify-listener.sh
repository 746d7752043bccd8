# shellcheck shell=bash
# calico-net verify (network policy): starts, in each workload namespace of "$sources" (a
# host's, space-separated: one script per host, as its scripts run one after another), a TCP
# listener on each port of "$tcp" and a UDP echo on each port of "$udp" (comma-separated; a port
# already taken is left to its owner), on IPv4 and, where the namespace has it, IPv6, for two
# minutes at most. Prints each listener's pid, one line per namespace, in order.
: "${sources:?}" "${tcp?}" "${udp?}"

# One socket per family and port (IPv6 ones V6Only, so neither family hides behind the other);
# a family the namespace lacks is skipped. The backlog is large: at 32x4 every other workload
# connects to each port in the same instant, and a full accept queue drops SYNs; as many
# datagrams reach each UDP echo at once, so its receive buffer is 4 MiB, not the default
# 208 KiB. The IPv6 UDP echo binds each global (and loopback) address of the namespace
# (/proc/net/if_inet6), not "::": an echo from a wildcard socket leaves from the address the
# kernel prefers, which with two addresses need not be the one probed, and the prober takes
# only the address it asked. Core Socket only: IO::Socket::IP took twice the CPU to start, and
# a run starts one listener per workload (128 at 32x4) at once.
listener=$(cat <<'PERL'
use Socket qw(AF_INET AF_INET6 SOCK_STREAM SOCK_DGRAM SOL_SOCKET SO_REUSEADDR SO_RCVBUF IPPROTO_IPV6
  IPV6_V6ONLY inet_pton pack_sockaddr_in pack_sockaddr_in6);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
my ($tcp, $udp) = @ARGV; my (%tcp, %udp); my $rin = '';
my @udp6;
if (open(my $f, "<", "/proc/net/if_inet6")) {
  while (<$f>) { my ($hex, undef, undef, $scope) = split; push @udp6, join(":", unpack("(A4)*", $hex)) if $scope eq "00" || $scope eq "10" }
}
@udp6 = ("::") unless @udp6;
# A non-blocking socket bound to host and port (IPv6 ones IPv6-only), or nothing.
sub bound {
  my ($family, $type, $host, $port) = @_;
  my $addr = inet_pton($family, $host) // return;
  socket(my $s, $family, $type, 0) or return;
  setsockopt($s, IPPROTO_IPV6, IPV6_V6ONLY, 1) if $family == AF_INET6;
  setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1) if $type == SOCK_STREAM;
  bind($s, $family == AF_INET6 ? pack_sockaddr_in6($port, $addr) : pack_sockaddr_in($port, $addr)) or return;
  fcntl($s, F_SETFL, fcntl($s, F_GETFL, 0) | O_NONBLOCK);
  vec($rin, fileno($s), 1) = 1;
  return $s;
}
for my $family (AF_INET, AF_INET6) {
  my $any = $family == AF_INET ? "0.0.0.0" : "::";
  for my $port (split /,/, $tcp) {
    my $s = bound($family, SOCK_STREAM, $any, $port) or next;
    if (listen($s, 4096)) { $tcp{fileno $s} = $s } else { vec($rin, fileno($s), 1) = 0 }
  }
  for my $bind ($family == AF_INET6 ? @udp6 : ($any)) {
    for my $port (split /,/, $udp) {
      my $s = bound($family, SOCK_DGRAM, $bind, $port) or next;
      # Room for every source's datagram at once (SO_RCVBUFFORCE as root, else SO_RCVBUF).
      setsockopt($s, SOL_SOCKET, 33, 1 << 22) or setsockopt($s, SOL_SOCKET, SO_RCVBUF, 1 << 22);
      $udp{fileno $s} = $s;
    }
  }
}
alarm(120);
while (1) {
  my $n = select(my $rout = $rin, undef, undef, undef);
  next unless $n > 0;
  for my $fd (grep { vec($rout, $_, 1) } keys %tcp, keys %udp) {
    if (my $s = $udp{$fd}) {
      my $m = '';
      my $peer = recv($s, $m, 256, 0);
      send($s, $m, 0, $peer) if defined $peer && length $peer;
    } else {
      while (accept(my $c, $tcp{$fd})) { close $c }
    }
  }
}
PERL
)
read -r -a namespaces <<< "$sources"
for netns in "${namespaces[@]}"; do
  ip netns exec "$netns" setsid perl -e "$listener" "$tcp" "$udp" </dev/null >/dev/null 2>&1 &
  echo $!
done
