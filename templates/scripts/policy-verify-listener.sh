# shellcheck shell=bash
# calico-net verify (network policy): starts, in the workload namespace "$netns", a TCP listener
# on each port of "$tcp" and a UDP echo on each port of "$udp" (comma-separated; a port already
# taken is left to its owner), for two minutes at most. Prints the listener's pid.
: "${netns:?}" "${tcp?}" "${udp?}"

listener=$(cat <<'PERL'
use IO::Socket::INET; use IO::Select;
my ($tcp, $udp) = @ARGV; my $sel = IO::Select->new; my %udp;
for (split /,/, $tcp) { my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $_, Listen => 64, ReuseAddr => 1) or next; $sel->add($s) }
for (split /,/, $udp) { my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $_, Proto => "udp") or next; $sel->add($s); $udp{$s} = 1 }
alarm(120);
while (1) { for my $s ($sel->can_read) { if ($udp{$s}) { my $m; my $peer = $s->recv($m, 64); $s->send($m, 0, $peer) if $peer } else { my $c = $s->accept; close $c if $c } } }
PERL
)
ip netns exec "$netns" setsid perl -e "$listener" "$tcp" "$udp" </dev/null >/dev/null 2>&1 &
echo $!
