// Files that ship with the package (schema, templates), found from this module's location so
// that it works from the sources, from dist/ and from an installed package alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The directory holding maas's own package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown }).name === 'maas') return (root = dir);
      } catch {
        // Not ours (or unreadable): keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the maas package root');
    dir = parent;
  }
}

/** Absolute path of the published JSON Schema of the model description. */
export function modelSchemaFile(): string {
  return join(packageRoot(), 'schema', 'model.schema.json');
}

/** Absolute path of the published JSON Schema of the composition description. */
export function compositionSchemaFile(): string {
  return join(packageRoot(), 'schema', 'composition.schema.json');
}

/** Absolute path of a model description template, e.g. `classification`. */
export function modelTemplateFile(name: 'classification' | 'regression'): string {
  return join(packageRoot(), 'templates', 'model', `${name}.yaml`);
}
