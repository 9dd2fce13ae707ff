// The descriptions as plain JSON Schema documents (what ajv compiles, `maas schema` prints and the
// build publishes as schema/model.schema.json and schema/composition.schema.json).
import { CompositionSchema } from './composition-schema.js';
import { ModelSchema } from './schema.js';

export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

function plainSchema(schema: unknown): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return { $schema: JSON_SCHEMA_DIALECT, ...plain };
}

/** A fresh, plain (symbol-free) copy of the model schema with its dialect declared. */
export function modelJsonSchema(): Record<string, unknown> {
  return plainSchema(ModelSchema);
}

/** A fresh, plain (symbol-free) copy of the composition schema with its dialect declared. */
export function compositionJsonSchema(): Record<string, unknown> {
  return plainSchema(CompositionSchema);
}
