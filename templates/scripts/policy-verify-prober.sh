# shellcheck shell=bash
# calico-net verify (network policy): probes every cell of "$cells" from the workload namespace
# "$netns", at most "$max" at a time (lib/probe.sh).
# shellcheck source=lib/probe.sh
. "$LIB/probe.sh"
: "${netns:?}" "${cells?}" "${max:?}"

# One UDP probe: a datagram, and a reply within a second.
udp_probe=$(cat <<'PERL'
use IO::Socket::INET; use IO::Select;
my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1], Proto => "udp") or exit 1;
$s->send("calico-net"); exit(IO::Select->new($s)->can_read(1) ? 0 : 1);
PERL
)
# ip netns exec keeps the environment: the cells and the UDP prober travel as variables.
export cells udp_probe max
ip netns exec "$netns" bash -c "$(declare -f probe_cells); probe_cells"
