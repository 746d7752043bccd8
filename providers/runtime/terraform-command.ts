/**
 * Which Terraform command started this provider process. Terraform runs a provider as its own
 * direct child (go-plugin exec; an `exec` shim keeps the pid), so the parent's argv says
 * whether the command is a destroy. The protocol does not: a destroy first runs a normal plan
 * (the "pre-destroy refresh": ReadResource for every object, in a provider process of its own)
 * that looks, to the provider, exactly like `terraform plan`.
 *
 * Only a positive, exact reading counts: anything else (another parent, an unreadable
 * /proc, a wrapper that adds -destroy through TF_CLI_ARGS) is "not a destroy", the safe side.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Go's strconv.ParseBool true spellings, which Terraform's flag parser accepts for -destroy=. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

/** Whether a flag argument turns destroy mode on: -destroy, --destroy, -destroy=true … */
function isDestroyFlag(arg: string): boolean {
  const m = /^--?destroy(?:=(.*))?$/.exec(arg);
  return m !== null && (m[1] === undefined || GO_TRUE.has(m[1]));
}

/**
 * Whether a Terraform (or OpenTofu) command line destroys: `destroy`, or `apply`/`plan` with
 * `-destroy`. Global options (`-chdir=…`) may precede the subcommand.
 */
export function isDestroyCommand(argv: readonly string[]): boolean {
  // terraform, tofu, or a versioned copy (terraform_1.11.4, terraform1.11).
  if (argv.length === 0 || !/^(terraform|tofu)([-_.]?\d[\d.]*)?$/.test(path.basename(argv[0]))) return false;
  const at = argv.findIndex((a, i) => i > 0 && !a.startsWith('-'));
  if (at < 0) return false;
  const sub = argv[at];
  if (sub === 'destroy') return true;
  // A later `-destroy=false` wins, as in Go's flag package: the last setting counts.
  const flags = argv.slice(at + 1).filter((a) => /^--?destroy(=|$)/.test(a));
  return (sub === 'apply' || sub === 'plan') && flags.length > 0 && isDestroyFlag(flags[flags.length - 1]);
}

/** The argv of this process's parent, or undefined where /proc cannot tell. */
export function parentArgv(ppid: number = process.ppid): string[] | undefined {
  try {
    return fs
      .readFileSync(`/proc/${ppid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch {
    return undefined;
  }
}

/** Whether the Terraform command that started this process is a destroy (see above). */
export function startedByDestroy(): boolean {
  const argv = parentArgv();
  return argv !== undefined && isDestroyCommand(argv);
}
