# shellcheck shell=bash
# calico-net verify (network policy): probes every cell of "$cells" from the workload namespace
# "$netns", at most "$max" at a time (lib/probe.sh).
# shellcheck source=lib/probe.sh
. "$LIB/probe.sh"
: "${netns:?}" "${cells?}" "${max:?}"

# One UDP probe: a datagram, and its echo within a second. Readable is not enough: a port
# without a listener answers with ICMP port unreachable, which also wakes the select (the socket
# is connected, the error is queued on it), so only the echoed payload counts as allowed.
udp_probe=$(cat <<'PERL'
use IO::Socket::INET; use IO::Select; my ($ip, $port) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => $ip, PeerPort => $port, Proto => "udp") or exit 1;
$s->send("calico-net") or exit 1; IO::Select->new($s)->can_read(1) or exit 1;
my $m = ""; defined $s->recv($m, 64) or exit 1; exit($m eq "calico-net" ? 0 : 1);
PERL
)
# ip netns exec keeps the environment: the cells and the UDP prober travel as variables.
export cells udp_probe max
ip netns exec "$netns" bash -c "$(declare -f probe_cells); probe_cells"
