// Writes schema/model.schema.json and schema/composition.schema.json from the TypeBox schemas
// (run after tsc by `npm run build`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { compositionJsonSchema, modelJsonSchema } from '../src/spec/json-schema.js';
import { compositionSchemaFile, modelSchemaFile } from '../src/spec/package-files.js';

for (const [file, schema] of [
  [modelSchemaFile(), modelJsonSchema()],
  [compositionSchemaFile(), compositionJsonSchema()],
] as const) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}
