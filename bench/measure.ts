/** Small measuring helpers shared by the bench's parts. */
import * as fs from 'fs';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU ms of a process from /proc/<pid>/stat: its own (utime+stime) and that of its reaped
 * descendants (cutime+cstime).
 */
export function processCpuMs(pid: number | 'self'): { ownMs: number; childrenMs: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ms = (a: number, b: number) => ((Number(f[a]) + Number(f[b])) * 1000) / CLOCK_TICKS_PER_SECOND;
  return { ownMs: ms(11, 12), childrenMs: ms(13, 14) };
}
