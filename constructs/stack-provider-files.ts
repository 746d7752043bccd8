/**
 * At synth, every stack that uses the calico provider gets the provider itself: a shim in the
 * stack directory's terraform.d/plugins and a matching .terraform.lock.hcl (providers/install).
 * So `cdktf deploy` works the first time, with nothing installed globally and no registry.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ISynthesisSession } from './cdk-types';
import { addCustomSynthesis, cdk } from './cdk';
import { Construct } from 'constructs';
import { providerInstallationAdvice, writeStackProvider } from '../providers/install';
import { providerLauncher } from '../providers/package-root';

/**
 * The cdktf project directory (holding cdktf.json) the output directory belongs to, if any: the
 * parent of the default `cdktf.out`, or the current directory when the output lies inside it.
 * A synth into some other directory (tests, tools) gets no project-level copy.
 */
function projectDirOf(outdir: string): string | undefined {
  const candidates = [path.dirname(path.resolve(outdir)), process.cwd()];
  return candidates.find(
    (dir) => fs.existsSync(path.join(dir, 'cdktf.json')) && path.resolve(outdir).startsWith(dir + path.sep),
  );
}

export function addStackProviderFiles(provider: Construct): void {
  const files = new Construct(provider, 'stack-provider-files');
  addCustomSynthesis(files, {
    onSynthesize: (session: ISynthesisSession) => {
      const stack = cdk.TerraformStack.of(provider);
      const stackDir = path.join(session.outdir, session.manifest.forStack(stack).workingDirectory);
      writeStackProvider({
        stackDir,
        projectDir: projectDirOf(session.outdir),
        entry: providerLauncher(),
      });
      const advice = providerInstallationAdvice();
      if (advice) cdk.Annotations.of(stack).addWarning(advice);
    },
  });
}
