// `maas config view|get|set|unset|path`: the settings in MAAS_HOME/config.yaml, shown with the
// value each setting really has (the file's, or the default) and where it comes from.
import type { Program, Run } from '../program.js';
import { TARGET_NAMES, DEFAULT_TARGET } from '../../targets/plugins.js';
import { CONFIG_KEYS, getConfigValue, type ConfigKey, type MaasConfig } from '../../core/config.js';
import { MaasError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { closest } from '../../spec/suggest.js';
import type { Context } from '../context.js';
import { OUTPUT_FORMATS, type Style } from '../output.js';

/** What an unset key means, in words a user can act on. */
function defaults(ctx: Context): Record<ConfigKey, string> {
  return {
    output: 'table',
    target: DEFAULT_TARGET,
    consumer: ctx.consumer(undefined),
    'local.cacheTtl': '24h',
    'kubernetes.kubeconfig': '$KUBECONFIG, else ~/.kube/config, else the pod service account',
    'kubernetes.context': "the kubeconfig's current context",
    'kubernetes.namespace': "the context's namespace, else default",
    'kubernetes.image': 'ghcr.io/maas-dev/maas:<maas version>',
  };
}

interface Setting {
  key: ConfigKey;
  value: string;
  source: 'config' | 'default';
}

function setting(ctx: Context, config: MaasConfig, key: ConfigKey): Setting {
  const value = getConfigValue(config, key);
  return value !== undefined ? { key, value, source: 'config' } : { key, value: defaults(ctx)[key], source: 'default' };
}

function checkKey(key: string): ConfigKey {
  if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
    const near = closest(key, CONFIG_KEYS);
    throw new MaasError('USAGE', `unknown config key "${key}"${near ? ` (did you mean ${near}?)` : ''}`, { hint: `known keys: ${CONFIG_KEYS.join(', ')}` });
  }
  return key as ConfigKey;
}

/** Refuses values that would break later commands, so a typo is caught when it is made. */
function checkValue(key: ConfigKey, value: string): void {
  const allowed: Partial<Record<ConfigKey, readonly string[]>> = { output: OUTPUT_FORMATS, target: TARGET_NAMES };
  const choices = allowed[key];
  if (choices && !choices.includes(value)) {
    throw new MaasError('USAGE', `"${value}" is not a valid ${key}`, { hint: `use one of: ${choices.join(', ')}` });
  }
  if (key === 'local.cacheTtl') parseDuration(value, key);
  if (value.trim() === '') throw new MaasError('USAGE', `${key} cannot be empty`, { hint: `to go back to the default: maas config unset ${key}` });
}

export function define(program: Program, run: Run): void {
  const config = program.command('config').description('show or change settings in $MAAS_HOME/config.yaml');
  config
    .command('view')
    .description('print every setting with its value and where it comes from (config file or default)')
    .action(
      run(async (ctx) => {
        const settings = CONFIG_KEYS.map((k) => setting(ctx, ctx.config, k));
        return {
          data: { file: ctx.home.configFile, home: ctx.home.root, config: ctx.config, settings },
          notes: [`# ${ctx.home.configFile}`],
          table: {
            rows: settings,
            columns: [
              { header: 'key', value: (r: Setting) => r.key },
              { header: 'value', value: (r: Setting) => r.value },
              { header: 'source', value: (r: Setting, s: Style) => (r.source === 'config' ? r.source : s.dim(r.source)) },
            ],
          },
          names: settings.map((r) => r.key),
        };
      }),
    );
  config
    .command('path')
    .description('print where maas keeps its files')
    .action(
      run(async (ctx) => ({ data: { home: ctx.home.root, config: ctx.home.configFile, registry: ctx.home.registryDb }, text: () => ctx.home.configFile })),
    );
  config
    .command('get')
    .argument('<key>')
    .description(`print one setting, or its default (${CONFIG_KEYS.join(', ')})`)
    .action(
      run(async (ctx, key) => {
        const s = setting(ctx, ctx.config, checkKey(key));
        return { data: s, text: () => s.value, names: [s.value] };
      }),
    );
  config
    .command('set')
    .argument('<key>')
    .argument('<value>')
    .description('change one setting')
    .action(
      run(async (ctx, key, value) => {
        const k = checkKey(key);
        checkValue(k, value);
        const { writeConfigValue } = await import('../../core/config-write.js');
        await writeConfigValue(ctx.home, k, value);
        return { data: { key: k, value }, text: () => `${k} = ${value}` };
      }),
    );
  config
    .command('unset')
    .argument('<key>')
    .description('remove one setting, so that its default applies again')
    .action(
      run(async (ctx, key) => {
        const k = checkKey(key);
        const { writeConfigValue } = await import('../../core/config-write.js');
        const was = getConfigValue(ctx.config, k);
        if (was !== undefined) await writeConfigValue(ctx.home, k, undefined);
        const now = setting(ctx, {}, k);
        return { data: { key: k, removed: was !== undefined, value: now.value, source: now.source }, text: () => `${k} = ${now.value} (default)` };
      }),
    );
}
