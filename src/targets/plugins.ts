// Every deployment target maas knows. The target names, `--target` choices, target flags of
// `maas deploy` and config checks all derive from this list; adding a target is one entry here
// and one directory under targets/. Implementations load lazily so the CLI starts fast.
import type { TargetPlugin } from './target.js';
import { localPlugin } from './local/plugin.js';
import { kubernetesPlugin } from './kubernetes/plugin.js';

export const TARGET_PLUGINS: readonly TargetPlugin[] = [localPlugin, kubernetesPlugin];

export const TARGET_NAMES: readonly string[] = TARGET_PLUGINS.map((p) => p.name);

export const DEFAULT_TARGET = 'local';

export function findPlugin(name: string): TargetPlugin | undefined {
  return TARGET_PLUGINS.find((p) => p.name === name);
}
