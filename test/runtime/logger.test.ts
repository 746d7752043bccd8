/** Provider debug lines are written only when Terraform will keep them (TF_LOG_PROVIDER, else TF_LOG). */
import { debugWanted } from '../../providers/runtime/logger';

test.each([
  [{}, false],
  [{ TF_LOG: '' }, false],
  [{ TF_LOG: 'off' }, false],
  [{ TF_LOG: 'INFO' }, false],
  [{ TF_LOG: 'warn' }, false],
  [{ TF_LOG: 'debug' }, true],
  [{ TF_LOG: 'TRACE' }, true],
  [{ TF_LOG: 'json' }, true],
  // Terraform reads an unknown word as trace.
  [{ TF_LOG: 'verbose' }, true],
  // The provider's own setting wins over the global one, both ways.
  [{ TF_LOG: 'debug', TF_LOG_PROVIDER: 'error' }, false],
  [{ TF_LOG: 'error', TF_LOG_PROVIDER: 'debug' }, true],
  [{ TF_LOG_PROVIDER: 'trace' }, true],
])('%j: debug lines %s', (env, wanted) => {
  expect(debugWanted(env as NodeJS.ProcessEnv)).toBe(wanted);
});
