/**
 * The wire format between the pool and the long-lived shell on a host.
 *
 * One exec per shell starts `bash --norc --noprofile -c DRIVER` (through `sudo -n` when
 * configured). The driver reads frames on its stdin:
 *
 *   run <id> <script bytes> <stdin bytes>\n <script> <stdin> end <id>\n
 *   abort <id>\n
 *
 * `id` is 32 random hex digits chosen per script by the pool. The driver copies the script and
 * its stdin into files of a private temporary directory with `head -c` (which reads exactly that
 * many bytes, so any byte may appear in either), checks the trailer (a frame cut short never
 * runs), and starts `bash --norc --noprofile SCRIPT <STDIN` as a background job in its own process
 * group: `exit`, `set -e`, traps and `cd` stay inside that script, and an abort kills its whole
 * tree. Output streams straight to the channel. Framing tokens on the streams:
 *
 *   stdout: :calico-ready:<session>:\n   once, when the driver is up
 *           :calico-start:<id>:\n        the script was received and is starting
 *           <script stdout>:calico-end:<id>:<exit code>\n
 *   stderr: :calico-ready:<session>:\n, then <script stderr>:calico-end:<id>:\n per script
 *
 * `abort <id>` (sent while script <id> runs) makes the driver SIGTERM the script's process group,
 * SIGKILL it after ABORT_GRACE_SECONDS, and see that the end tokens still come (the job wrapper
 * survives SIGTERM to print them; after SIGKILL the driver prints them), so the stream stays in
 * step and the shell takes the next script.
 *
 * Scripts cannot forge a token: the id reaches only the driver (over stdin, never in an argument
 * or an exported variable). Anything before `ready` (a login shell's banner, .bashrc noise) is
 * dropped. The driver's own stderr goes to /dev/null (job-control notices); scripts get the
 * channel's stderr through fd 3.
 */
import { randomBytes } from 'crypto';
import { shQuote } from './quote';

export const newFrameId = (): string => randomBytes(16).toString('hex');

export const readyToken = (session: string) => `:calico-ready:${session}:`;
export const startToken = (id: string) => `:calico-start:${id}:`;
export const endToken = (id: string) => `:calico-end:${id}:`;

/** Seconds an aborted script gets between SIGTERM and SIGKILL. */
export const ABORT_GRACE_SECONDS = 2;

const DRIVER = `
set -m
d=$(mktemp -d) || exit 1
exec 3>&2 2>/dev/null
trap 'rm -rf -- "$d"' EXIT
printf ':calico-ready:%s:\\n' "$1"; printf ':calico-ready:%s:\\n' "$1" >&3
job= jobid=
while IFS=' ' read -r op id slen ilen; do
  [[ $id =~ ^[0-9a-f]{32}$ ]] || exit 3
  if [[ $op == run && $slen =~ ^[0-9]+$ && $ilen =~ ^[0-9]+$ ]]; then
    [[ -z $job ]] || wait "$job"
    job= jobid=
    head -c "$slen" > "$d/script" || exit 3
    if (( ilen > 0 )); then head -c "$ilen" > "$d/stdin" || exit 3; else : > "$d/stdin"; fi
    IFS=' ' read -r trailer tid && [[ $trailer == end && $tid == "$id" ]] || exit 3
    printf ':calico-start:%s:\\n' "$id"
    ( trap : TERM
      bash --norc --noprofile "$d/script" < "$d/stdin" 2>&3 3>&-
      rc=$?
      printf ':calico-end:%s:%d\\n' "$id" "$rc"
      printf ':calico-end:%s:\\n' "$id" >&3
      exit 0 ) &
    job=$! jobid=$id
  elif [[ $op == abort && $id == "$jobid" ]]; then
    if kill -TERM -- "-$job"; then
      for ((i = 0; i < ${ABORT_GRACE_SECONDS * 10}; i++)); do kill -0 -- "-$job" || break; sleep 0.1; done
      kill -KILL -- "-$job"
    fi
    wait "$job"
    rc=$?
    if (( rc != 0 )); then
      printf ':calico-end:%s:%d\\n' "$id" "$rc"; printf ':calico-end:%s:\\n' "$id" >&3
    fi
    job= jobid=
  elif [[ $op != abort ]]; then
    exit 3
  fi
done
[[ -z $job ]] || wait "$job"
`;

/** The one command the pool execs per shell; `session` comes back in the ready line. */
export function shellCommand(session: string, sudo: boolean): string {
  // exec: the login shell sshd starts is replaced, not kept waiting as an extra process.
  return `exec ${sudo ? 'sudo -n ' : ''}bash --norc --noprofile -c ${shQuote(DRIVER)} calico-shell ${session}`;
}

export function runFrame(id: string, script: string, stdin: string | undefined): Buffer {
  const body = Buffer.from(script, 'utf8');
  const input = Buffer.from(stdin ?? '', 'utf8');
  return Buffer.concat([
    Buffer.from(`run ${id} ${body.length} ${input.length}\n`),
    body,
    input,
    Buffer.from(`end ${id}\n`),
  ]);
}

export const abortFrame = (id: string): Buffer => Buffer.from(`abort ${id}\n`);
