/** Schema shapes (./schema.ts) → tfplugin6.Schema objects (plain objects for protobufjs). */
import type { BlockSchema, ResourceSchema } from './schema';
import { typeJson } from './codec';
import type { WireSchema, WireSchemaBlock } from './protocol';

const NESTING_SINGLE = 1;

function blockToWire(block: BlockSchema, version = 0, description = ''): WireSchemaBlock {
  return {
    version,
    description,
    description_kind: 0,
    attributes: Object.entries(block.attributes).map(([name, a]) => ({
      name,
      type: typeJson(a.type),
      description: a.description,
      description_kind: 0,
      required: !!a.required,
      optional: !!a.optional,
      computed: !!a.computed,
      sensitive: !!a.sensitive,
    })),
    block_types: Object.entries(block.blocks ?? {}).map(([name, nested]) => ({
      type_name: name,
      block: blockToWire(nested.block),
      nesting: NESTING_SINGLE,
      // Terraform requires min = max ∈ {0,1} for single nesting; 1 means "must be present".
      min_items: nested.required ? 1 : 0,
      max_items: nested.required ? 1 : 0,
    })),
  };
}

export function schemaToWire(schema: ResourceSchema): WireSchema {
  return { version: schema.version, block: blockToWire(schema.block, schema.version, schema.description) };
}

/** Catches schema mistakes that would otherwise crash Terraform when it loads the schema. */
export function checkSchema(typeName: string, schema: ResourceSchema): string[] {
  const problems: string[] = [];
  const walk = (block: BlockSchema, prefix: string): void => {
    for (const [name, a] of Object.entries(block.attributes)) {
      const where = `${typeName}: ${prefix}${name}`;
      if (!/^[a-z0-9_]+$/.test(name)) problems.push(`${where}: invalid name`);
      const modes = [a.required, a.optional || a.computed].filter(Boolean).length;
      if (modes !== 1) problems.push(`${where}: must be exactly one of required, optional, computed`);
      if (a.required && a.computed) problems.push(`${where}: cannot be both required and computed`);
    }
    for (const [name, nested] of Object.entries(block.blocks ?? {})) {
      if (name in block.attributes) problems.push(`${typeName}: ${prefix}${name}: block and attribute share a name`);
      walk(nested.block, `${prefix}${name}.`);
    }
  };
  walk(schema.block, '');
  return problems;
}
