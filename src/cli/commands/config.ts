// `maas config view|get|set|path`: the config file in MAAS_HOME.
import type { Program, Run } from '../program.js';
import { TARGET_NAMES } from '../../targets/plugins.js';
import { CONFIG_KEYS, getConfigValue, type ConfigKey } from '../../core/config.js';
import { MaasError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { OUTPUT_FORMATS } from '../output.js';

function checkKey(key: string): ConfigKey {
  if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
    throw new MaasError('USAGE', `unknown config key "${key}"`, { hint: `known keys: ${CONFIG_KEYS.join(', ')}` });
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
  if (value.trim() === '') throw new MaasError('USAGE', `${key} cannot be empty`);
}

export function define(program: Program, run: Run): void {
  const config = program.command('config').description('show or change settings in $MAAS_HOME/config.yaml');
  config
    .command('view')
    .description('print the effective config file')
    .action(
      run(async (ctx) => ({
        data: { file: ctx.home.configFile, home: ctx.home.root, config: ctx.config },
        text: () => `# ${ctx.home.configFile}\n${JSON.stringify(ctx.config, null, 2)}`,
      })),
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
    .description(`print one setting (${CONFIG_KEYS.join(', ')})`)
    .action(
      run(async (ctx, key) => {
        const k = checkKey(key);
        const value = getConfigValue(ctx.config, k);
        if (value === undefined) throw new MaasError('NOT_FOUND', `"${k}" is not set`, { hint: `set it with \`maas config set ${k} VALUE\`` });
        return { data: { key: k, value }, text: () => value, names: [value] };
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
}
