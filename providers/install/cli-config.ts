/**
 * Terraform ignores its implied local mirrors (terraform.d/plugins, ~/.terraform.d/plugins) as
 * soon as the CLI configuration has a provider_installation block of its own. Synthesis checks for
 * that and says exactly what to add, instead of leaving the user with Terraform's registry error.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CALICO_SOURCE } from './mirror';

/** The files Terraform reads its CLI configuration from, in its order (only those that exist). */
export function cliConfigFiles(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string[] {
  const main = env.TF_CLI_CONFIG_FILE || env.TERRAFORM_CONFIG || path.join(home, '.terraformrc');
  const files = [main];
  const dir = path.join(home, '.terraform.d');
  try {
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.endsWith('.tfrc') || name.endsWith('.tfrc.json')) files.push(path.join(dir, name));
    }
  } catch {
    // no ~/.terraform.d: nothing more to read
  }
  return files.filter((f) => {
    try {
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** HCL or JSON text without comments (good enough to find a top-level block name). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)(#|\/\/).*$/gm, '$1');
}

function declaresProviderInstallation(text: string): boolean {
  const t = withoutComments(text);
  return /(^|\n)\s*provider_installation\s*\{/.test(t) || /"provider_installation"\s*:/.test(t);
}

/** Files whose provider_installation block does not already mention our provider's namespace. */
export function providerInstallationFiles(files: string[] = cliConfigFiles()): string[] {
  return files.filter((f) => {
    const text = fs.readFileSync(f, 'utf8');
    return (
      declaresProviderInstallation(text) &&
      !withoutComments(text).includes(`${CALICO_SOURCE.hostname}/${CALICO_SOURCE.namespace}/`)
    );
  });
}

/**
 * What goes inside a provider_installation block so Terraform finds the provider synthesis
 * writes. The path is relative: Terraform resolves it against the directory it runs in — the
 * stack directory under cdktf, the project directory for `terraform -chdir=…`.
 */
export function providerInstallationSnippet(): string {
  const pattern = `${CALICO_SOURCE.hostname}/${CALICO_SOURCE.namespace}/*`;
  return [
    '  filesystem_mirror {',
    '    path    = "terraform.d/plugins"',
    `    include = ["${pattern}"]`,
    '  }',
    '  direct {',
    `    exclude = ["${pattern}"]`,
    '  }',
  ].join('\n');
}

/** What to add, naming the file; undefined when nothing needs adding. */
export function providerInstallationAdvice(files: string[] = cliConfigFiles()): string | undefined {
  const offending = providerInstallationFiles(files);
  if (offending.length === 0) return undefined;
  return [
    `cdktf-calico: ${offending.join(' and ')} ${offending.length > 1 ? 'have' : 'has'} a provider_installation block, so Terraform`,
    'will not look in terraform.d/plugins, where synthesis puts the calico provider. Add this inside',
    'that block (keep your own entries; if it already has a direct {} block, add the exclude line to it):',
    '',
    providerInstallationSnippet(),
    '',
    '(The relative path is searched from where terraform runs: the stack directory under cdktf,',
    'or the project directory for `terraform -chdir=cdktf.out/stacks/<name>`.)',
  ].join('\n');
}
