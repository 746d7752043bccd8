# shellcheck shell=bash
# calico-net verify (network policy): starts, in each workload namespace of "$sources" (a
# host's, space-separated: one script per host, as its scripts run one after another), a TCP
# listener on each port of "$tcp" and a UDP echo on each port of "$udp" (comma-separated; a port
# already taken is left to its owner), on IPv4 and, where the namespace has it, IPv6, for two
# minutes at most. Prints each listener's pid, one line per namespace, in order.
: "${sources:?}" "${tcp?}" "${udp?}"

# One socket per family and port (IPv6 ones V6Only, so neither family hides behind the other);
# a family the namespace lacks is skipped. The backlog is large: at 32x4 every other workload
# connects to each port in the same instant, and a full accept queue drops SYNs. The IPv6 UDP
# echo binds each global (and loopback) address of the namespace (/proc/net/if_inet6), not "::": an
# echo from a wildcard socket leaves from the address the kernel prefers, which with two
# addresses need not be the one probed, and the prober takes only the address it asked.
listener=$(cat <<'PERL'
use IO::Socket::IP; use IO::Select;
my ($tcp, $udp) = @ARGV; my $sel = IO::Select->new; my %udp;
my @udp6;
if (open(my $f, "<", "/proc/net/if_inet6")) {
  while (<$f>) { my ($hex, undef, undef, $scope) = split; push @udp6, join(":", unpack("(A4)*", $hex)) if $scope eq "00" || $scope eq "10" }
}
@udp6 = ("::") unless @udp6;
for my $host ("0.0.0.0", "::") {
  my @v6 = $host eq "::" ? (V6Only => 1) : ();
  for (split /,/, $tcp) { my $s = IO::Socket::IP->new(LocalHost => $host, LocalPort => $_, Listen => 4096, ReuseAddr => 1, @v6) or next; $sel->add($s) }
  for my $bind ($host eq "::" ? @udp6 : ($host)) {
    for (split /,/, $udp) { my $s = IO::Socket::IP->new(LocalHost => $bind, LocalPort => $_, Proto => "udp", @v6) or next; $sel->add($s); $udp{$s} = 1 }
  }
}
alarm(120);
while (1) { for my $s ($sel->can_read) { if ($udp{$s}) { my $m; my $peer = $s->recv($m, 256); $s->send($m, 0, $peer) if $peer } else { my $c = $s->accept; close $c if $c } } }
PERL
)
read -r -a namespaces <<< "$sources"
for netns in "${namespaces[@]}"; do
  ip netns exec "$netns" setsid perl -e "$listener" "$tcp" "$udp" </dev/null >/dev/null 2>&1 &
  echo $!
done
