// Writes schema/model.schema.json from the TypeBox schema (run after tsc by `npm run build`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { modelJsonSchema } from '../src/spec/json-schema.js';
import { modelSchemaFile } from '../src/spec/package-files.js';

const file = modelSchemaFile();
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(modelJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
