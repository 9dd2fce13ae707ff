// The model description as a plain JSON Schema document (what ajv compiles, `maas schema`
// prints and the build publishes as schema/model.schema.json).
import { ModelSchema } from './schema.js';

export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/** A fresh, plain (symbol-free) copy of the schema with its dialect declared. */
export function modelJsonSchema(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(ModelSchema)) as Record<string, unknown>;
  return { $schema: JSON_SCHEMA_DIALECT, ...plain };
}
