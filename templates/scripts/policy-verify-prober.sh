# shellcheck shell=bash
# calico-net verify (network policy): probes every "k index protocol ip port" line of "$cells"
# from the workload namespace named by the k-th word of "$sources" (0 first), with ONE perl
# process per namespace, all of a host's namespaces at once: each starts every probe without
# blocking and collects the answers against one deadline ("$wait" seconds after each probe
# started), at most "$window" sockets open at once (and never more than the open-file limit
# allows); prints "index allow" or "index deny" per cell. A line it cannot read gets no verdict
# (the cell stays unobserved, so the run cannot pass) and a note on stderr, as does a prober that
# fails (its namespace named). Why one script per host: a host's scripts run one after another on
# its one shell, so a prober per script made each pass cost a wait per workload of the host.
: "${sources:?}" "${cells?}" "${window:?}" "${wait:?}" "${stats:?}"

# The values travel as environment variables (ip netns exec keeps the environment) and the cells
# on stdin, never as code. Perl: core modules only (Socket, Errno, Time::HiRes), IPv4 and IPv6 alike.
#  TCP: a non-blocking connect; connected is allow, refused or no answer by the deadline deny.
#  UDP: a datagram on a connected socket, allowed only when the listener echoes the very payload
#    back (an ICMP port unreachable is queued on the socket as an error: deny, never allow).
#  ICMP: echo requests from one raw socket per family (root), matched by our id, the sequence
#    and a payload naming the cell, and from the address probed: a late or foreign reply counts
#    for no other cell.
prober=$(cat <<'PERL'
use strict; use warnings;
use Socket qw(AF_INET AF_INET6 SOCK_STREAM SOCK_DGRAM SOCK_RAW SOL_SOCKET SO_ERROR SO_RCVBUF inet_pton inet_ntop
  pack_sockaddr_in pack_sockaddr_in6 unpack_sockaddr_in unpack_sockaddr_in6 sockaddr_family);
use Errno qw(EINPROGRESS EAGAIN EINTR);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Time::HiRes qw(time);
my %env = %ENV;
my $wait = $env{wait}; my $window = $env{window}; my $nofile = $env{nofile} // 1024;
# Keep 64 descriptors for perl itself; select() is given bit vectors as long as the highest one.
$window = $nofile - 64 if $nofile =~ /^\d+$/ && $window > $nofile - 64;
$window = 1 if $window < 1;
my $token = sprintf("%x.%x", $$, int(rand(2 ** 31)));
my $id = $$ & 0xffff;
local $| = 0;
my (@queue, %icmp, @pending, %byfd, $bad, %rawfd);
# What select() watches, kept up to date as sockets open and close (not rebuilt from every open
# socket per wake-up: with 600 cells in flight that was most of a prober's CPU on a busy host).
my ($rin, $win) = ('', '');
my ($seq, $now) = (0, time);
# stats=1 (CALICO_VERIFY_TIMING): what became of the cells, counted per protocol and verdict
# ("timeout": no answer by the deadline; "late": an answer read after its cell's deadline), and
# what the namespace's kernel counted meanwhile (drops at a full socket buffer or accept queue),
# printed as one "# stats" line, which the caller reads and a verdict reader ignores.
my $stats = ($env{stats} // '') eq '1';
my %st; my $oversleep = 0;
my @watch = qw(Udp.RcvbufErrors Udp.InErrors Udp6RcvbufErrors Icmp.InEchoReps Icmp6InEchoReplies
  TcpExt.ListenOverflows TcpExt.ListenDrops TcpExt.TCPReqQFullDrop TcpExt.TCPBacklogDrop Ip.InDiscards);
sub counters {
  my %c;
  for my $f ("/proc/net/snmp", "/proc/net/netstat") {
    open(my $h, "<", $f) or next; my @l = <$h>; close $h;
    for (my $k = 0; $k + 1 < @l; $k += 2) {
      my @n = split ' ', $l[$k]; my @v = split ' ', $l[$k + 1]; my $p = shift @n; shift @v; $p =~ s/:$//;
      @c{map { "$p.$_" } @n} = @v;
    }
  }
  if (open(my $h, "<", "/proc/net/snmp6")) { while (<$h>) { my ($k, $v) = split; $c{$k} = $v if defined $v } }
  return \%c;
}
my $before = $stats ? counters() : {};
sub verdict {
  my ($c, $v, $why) = @_; return if $c->{done}++; print "$c->{i} $v\n";
  if ($stats) { $st{lc($c->{proto}) . "_" . ($v eq 'allow' ? 'allow' : $why // 'refused')}++; $st{late}++ if $v eq 'allow' && time > $c->{deadline} }
  if (defined $c->{fd}) { vec($rin, $c->{fd}, 1) = 0; vec($win, $c->{fd}, 1) = 0; delete $byfd{$c->{fd}} }
  close $c->{sock} if $c->{sock};
}
sub cksum { my $d = shift; $d .= "\0" if length($d) % 2; my $s = 0; $s += $_ for unpack("n*", $d); $s = ($s >> 16) + ($s & 0xffff) while $s >> 16; return ~$s & 0xffff }
while (my $line = <STDIN>) {
  chomp $line;
  next if $line eq '';
  my ($i, $proto, $ip, $port, $rest) = split / /, $line, 5;
  my $family = defined $ip && index($ip, ':') >= 0 ? AF_INET6 : AF_INET;
  my $addr = defined $ip && length($ip) <= 45 ? inet_pton($family, $ip) : undef;
  if (!defined $port || defined $rest || $i !~ /^\d{1,9}$/ || $proto !~ /^(ICMP|TCP|UDP)$/ || $port !~ /^\d{1,5}$/ || $port > 65535 || !defined $addr) {
    $bad++; next;
  }
  my $sa = $family == AF_INET6 ? pack_sockaddr_in6($port, $addr) : pack_sockaddr_in($port, $addr);
  push @queue, { i => $i, proto => $proto, family => $family, addr => $addr, sa => $sa };
}
print STDERR "calico-net prober: $bad cell line(s) it cannot read, left without a verdict\n" if $bad;
my %raw;
# A receive buffer of 4 MiB (SO_RCVBUFFORCE as root, else as far as SO_RCVBUF may go).
sub roomy { my $s = shift; setsockopt($s, SOL_SOCKET, 33, 1 << 22) or setsockopt($s, SOL_SOCKET, SO_RCVBUF, 1 << 22) }
sub raw_socket {
  my $family = shift;
  return $raw{$family} if exists $raw{$family};
  my $s;
  if (socket($s, $family, SOCK_RAW, $family == AF_INET6 ? 58 : 1)) {
    my $flags = fcntl($s, F_GETFL, 0); fcntl($s, F_SETFL, $flags | O_NONBLOCK);
    # Every ICMP packet of the namespace lands here (the echo requests of all other sources too):
    # the default 208 KiB dropped replies while a busy host kept the prober from reading.
    roomy($s);
    vec($rin, fileno($s), 1) = 1; $rawfd{fileno($s)} = $family;
  } else {
    print STDERR "calico-net prober: no raw ICMP socket ($!): its ICMP cells get no verdict\n"; $s = undef;
  }
  return $raw{$family} = $s;
}
sub start {
  my $c = shift;
  $c->{deadline} = time + $wait;
  if ($c->{proto} eq 'ICMP') {
    my $s = raw_socket($c->{family}) or return;
    $c->{seq} = $seq++ & 0xffff;
    $c->{payload} = "calico-net $token $c->{i}";
    my $type = $c->{family} == AF_INET6 ? 128 : 8;
    my $head = pack("CCnnn", $type, 0, 0, $id, $c->{seq});
    # IPv4 wants our checksum; an ICMPv6 raw socket computes its own (with the pseudo-header).
    substr($head, 2, 2) = pack("n", cksum($head . $c->{payload})) if $type == 8;
    my $dest = $c->{family} == AF_INET6 ? pack_sockaddr_in6(0, $c->{addr}) : pack_sockaddr_in(0, $c->{addr});
    my $sent;
    for (1 .. 50) { $sent = send($s, $head . $c->{payload}, 0, $dest); last if defined $sent || $! != EAGAIN; select(undef, undef, undef, 0.01) }
    return verdict($c, 'deny') unless defined $sent;
    $icmp{"$c->{family} $c->{seq}"} = $c;
    push @pending, $c;
    return;
  }
  my $tcp = $c->{proto} eq 'TCP';
  my $s;
  socket($s, $c->{family}, $tcp ? SOCK_STREAM : SOCK_DGRAM, 0) or do { print STDERR "calico-net prober: socket: $!\n"; return };
  my $flags = fcntl($s, F_GETFL, 0); fcntl($s, F_SETFL, $flags | O_NONBLOCK);
  $c->{sock} = $s; $c->{fd} = fileno($s);
  if ($tcp) {
    if (connect($s, $c->{sa})) { return verdict($c, 'allow') }
    return verdict($c, 'deny') unless $! == EINPROGRESS;
  } else {
    $c->{payload} = "calico-net $token $c->{i}";
    # A send the host refuses (a drop in its output chain says EPERM) is a deny.
    return verdict($c, 'deny') unless connect($s, $c->{sa}) && defined send($s, $c->{payload}, 0);
  }
  $byfd{$c->{fd}} = $c;
  vec($tcp ? $win : $rin, $c->{fd}, 1) = 1;
  push @pending, $c;
}
sub read_icmp {
  my $family = shift;
  my $s = $raw{$family};
  while (1) {
    my $p = '';
    my $from = recv($s, $p, 2048, 0);
    last unless defined $from;
    # IPv4 raw sockets hand over the IP header too; IPv6 ones start at the ICMPv6 header.
    $p = substr($p, (ord($p) & 15) * 4) if $family == AF_INET && length $p;
    next if length($p) < 8;
    my ($type, $code, $sum, $rid, $rseq) = unpack("CCnnn", $p);
    next unless $rid == $id && $type == ($family == AF_INET6 ? 129 : 0);
    my $c = $icmp{"$family $rseq"} or next;
    my $src = $family == AF_INET6 ? (unpack_sockaddr_in6($from))[1] : (unpack_sockaddr_in($from))[1];
    next unless $src eq $c->{addr} && substr($p, 8) eq $c->{payload};
    delete $icmp{"$family $rseq"};
    verdict($c, 'allow');
  }
}
# In flight: sockets open and ICMP echoes unanswered (so a sequence number is never reused while
# its cell waits, whatever the number of cells).
sub open_count { scalar(keys %byfd) + scalar(keys %icmp) }
# The descriptors set in a select() result, found by the C side of unpack and the regex engine.
sub ready { my $bits = unpack("b*", shift); my @fds; while ($bits =~ /1/g) { push @fds, pos($bits) - 1 } return @fds }
sub expire {
  $now = time;
  while (@pending && ($pending[0]{done} || $pending[0]{deadline} <= $now)) {
    my $c = shift @pending;
    next if $c->{done};
    delete $icmp{"$c->{family} $c->{seq}"} if $c->{proto} eq 'ICMP';
    verdict($c, 'deny', 'timeout');
  }
}
while (@queue || @pending) {
  while (@queue && open_count() < $window) { start(shift @queue) }
  shift @pending while @pending && $pending[0]{done};
  next unless @pending; # the window emptied: refill it from the queue first
  $now = time;
  my $left = $pending[0]{deadline} - $now;
  $left = 0 if $left < 0;
  my ($rout, $wout) = ($rin, $win);
  my $n = select($rout, $wout, undef, $left);
  if ($stats) { my $over = time - $now - $left; $oversleep = $over if $over > $oversleep }
  if ($n > 0) {
    for my $fd (ready($wout)) {
      my $c = $byfd{$fd} or next;
      my $err = unpack("i", getsockopt($c->{sock}, SOL_SOCKET, SO_ERROR) // pack("i", -1));
      verdict($c, $err == 0 ? 'allow' : 'deny');
    }
    for my $fd (ready($rout)) {
      if (exists $rawfd{$fd}) { read_icmp($rawfd{$fd}); next }
      my $c = $byfd{$fd} or next;
      my $m = '';
      # An error queued by an ICMP unreachable makes recv fail: deny. Anything but our payload
      # (a stray datagram) is ignored; the cell waits on.
      if (!defined recv($c->{sock}, $m, 256, 0)) { verdict($c, 'deny') unless $! == EAGAIN || $! == EINTR }
      elsif ($m eq $c->{payload}) { verdict($c, 'allow') }
    }
  }
  # Expire only now, after reading every answer already there: a prober the host gave no CPU
  # until past its deadline (a saturated host) called answers that had arrived in time denials.
  expire();
}
if ($stats) {
  my $after = counters();
  # Datagrams our raw sockets (still open) lost to a full receive buffer.
  my $drops = 0;
  for my $f ("/proc/net/raw", "/proc/net/raw6") { open(my $h, "<", $f) or next; <$h>; while (<$h>) { my @x = split; $drops += $x[-1] if @x > 12 } }
  my @t = times;
  print "# stats ", join(" ", (map { "$_=$st{$_}" } sort keys %st),
    (map { "k.$_=" . (($after->{$_} // 0) - ($before->{$_} // 0)) } @watch), "rawdrops=$drops",
    sprintf("cpu_ms=%d", 1000 * ($t[0] + $t[1])), sprintf("oversleep_ms=%d", 1000 * $oversleep)), "\n";
}
PERL
)
export window wait prober
export stats
# As many descriptors as the host lets this process have (the soft limit up to the hard one).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
export nofile
read -r -a namespaces <<< "$sources"
dir=$(mktemp -d)
trap 'rm -rf -- "$dir"' EXIT
# Each namespace's cells in a file of its own (stdin: an environment variable holds at most
# 128 KiB, about 5,000 cells); a line naming no namespace of ours is not probed, and says so.
# Split by one perl, fields as bash's `read -r k rest` takes them (spaces and tabs): a bash loop
# over the lines cost ~0.2 s of CPU per host and pass at 32x4 (2,540 cells a host).
splitter=$(cat <<'PERL'
my ($dir, $n) = @ARGV; my @out; my $strays = 0;
for my $k (0 .. $n - 1) { open($out[$k], ">", "$dir/c$k") or die "$dir/c$k: $!\n" }
while (my $line = <STDIN>) {
  chomp $line;
  my ($k, $rest) = $line =~ /^[ \t]*([^ \t]+)[ \t]*(.*?)[ \t]*$/ or next;
  if ($k =~ /^(?:0|[1-9][0-9]{0,8})$/ && $k < $n) { print { $out[$k] } "$rest\n" } else { $strays++ }
}
close $_ or die "$!\n" for @out;
print STDERR "calico-net prober: $strays cell line(s) naming no namespace, left without a verdict\n" if $strays;
PERL
)
perl -e "$splitter" "$dir" "${#namespaces[@]}" <<< "$cells" || exit 1
pids=()
for k in "${!namespaces[@]}"; do
  ip netns exec "${namespaces[k]}" perl -e "$prober" < "$dir/c$k" > "$dir/o$k" 2> "$dir/e$k" &
  pids+=("$!")
done
# Each prober's output whole (files, not one shared pipe: a buffered write can cut a line in two),
# its notes and a failure under its namespace's name.
failed=0
for k in "${!namespaces[@]}"; do
  if ! wait "${pids[k]}"; then
    failed=1
    echo "the prober failed" >> "$dir/e$k"
  fi
  cat -- "$dir/o$k"
  while IFS= read -r note; do printf '%s: %s\n' "${namespaces[k]}" "$note" >&2; done < "$dir/e$k"
done
exit "$failed"
