/**
 * A small program that drives one SshPool (one "provider process") through a plan read as JSON
 * on stdin, and prints one JSON answer: per step the result or the error, what the pool logged,
 * connections and shells it opened. The SSH tests run it inside a lab's operator namespace, the
 * only place the lab's nodes are reachable from.
 *
 * A plan: { target: SshTarget, steps: Step[] }; a step runs one script, or several at once.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { SshPool } from '../../providers/ssh/pool';
import { SshTarget } from '../../providers/ssh/types';

export interface ProbeStep {
  script: string;
  stdin?: string;
  /** Overrides of the plan's target for this step (e.g. sudo). */
  target?: Partial<SshTarget>;
  /** Abort the script once this file exists (the script creates it when it is under way). */
  abortWhenFileExists?: string;
  /** Answer with the length and SHA-256 of stdout instead of stdout itself (huge outputs). */
  digest?: boolean;
}

export interface ProbePlan {
  target: SshTarget;
  /** A step, or an array of steps started together (they queue on the host's shell). */
  steps: (ProbeStep | ProbeStep[])[];
}

export interface ProbeResult {
  ok: boolean;
  code?: number;
  stdout?: string;
  stderr?: string;
  stdoutLength?: number;
  stdoutSha256?: string;
  stderrLength?: number;
  kind?: string;
  message?: string;
}

export interface ProbeAnswer {
  results: (ProbeResult | ProbeResult[])[];
  log: string[];
  connections: Record<string, number>;
  shells: Record<string, number>;
}

async function runStep(pool: SshPool, plan: ProbePlan, step: ProbeStep): Promise<ProbeResult> {
  const host = pool.host({ ...plan.target, ...step.target }, 'probe');
  const controller = new AbortController();
  let poll: NodeJS.Timeout | undefined;
  if (step.abortWhenFileExists) {
    const file = step.abortWhenFileExists;
    poll = setInterval(() => {
      if (fs.existsSync(file)) {
        clearInterval(poll);
        controller.abort();
      }
    }, 20);
  }
  try {
    const r = await host.run(step.script, { stdin: step.stdin, signal: controller.signal });
    if (!step.digest) return { ok: true, ...r };
    return {
      ok: true,
      code: r.code,
      stdoutLength: Buffer.byteLength(r.stdout),
      stdoutSha256: createHash('sha256').update(r.stdout).digest('hex'),
      stderrLength: Buffer.byteLength(r.stderr),
      stderr: r.stderr.slice(0, 2000),
    };
  } catch (err) {
    const e = err as Error & { kind?: string };
    return { ok: false, kind: e.kind, message: e.message };
  } finally {
    if (poll) clearInterval(poll);
  }
}

async function main(): Promise<void> {
  const plan = JSON.parse(fs.readFileSync(0, 'utf8')) as ProbePlan;
  const log: string[] = [];
  const pool = new SshPool({ connectRetries: 0, connectTimeoutMs: 5000, log: (m) => log.push(m) });
  const results: ProbeAnswer['results'] = [];
  for (const step of plan.steps) {
    results.push(
      Array.isArray(step)
        ? await Promise.all(step.map((s) => runStep(pool, plan, s)))
        : await runStep(pool, plan, step),
    );
  }
  const answer: ProbeAnswer = { results, log, connections: pool.stats(), shells: pool.shellStats() };
  await pool.close();
  process.stdout.write(JSON.stringify(answer));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
