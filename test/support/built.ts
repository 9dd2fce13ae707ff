// The built modules (dist/) that child processes of the tests import, as a real separate process
// would: `npx tsc -p tsconfig.build.json` writes them, and `npm test` builds first.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** File URL of `dist/src/<path>`; throws, saying how to build, when it is missing. */
export function builtModule(path: string): string {
  const file = resolve('dist/src', path);
  if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx tsc -p tsconfig.build.json; npm test does)`);
  return pathToFileURL(file).href;
}
