/**
 * A provider with one do-nothing resource: what the start-up benchmark launches when the calico
 * entry (dist/providers/main.js) does not exist yet, so it measures the runtime's own cost.
 */
import { serveProvider } from '../../providers/runtime';
import type { ProviderDefinition } from '../../providers/runtime/resource';

export const minimalProvider: ProviderDefinition<null> = {
  name: 'minimal',
  configSchema: { version: 0, description: 'Benchmark provider.', block: { attributes: {} } },
  resources: [
    {
      typeName: 'minimal_thing',
      schema: {
        version: 0,
        description: 'Nothing.',
        block: { attributes: { id: { type: 'string', computed: true, description: 'Id.' } } },
      },
      create: async (planned) => ({ ...planned, id: 'thing' }),
      read: async (state) => state,
      update: async (_prior, planned) => planned,
      delete: async () => undefined,
      import: async (id) => ({ id }),
    },
  ],
  configure: () => null,
};

if (require.main === module) void serveProvider(minimalProvider);
