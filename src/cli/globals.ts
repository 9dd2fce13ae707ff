// The global options, resolved once: flag, then environment, then config file, then default.
// The renderer and the error printer both use this resolution, so `MAAS_OUTPUT=json` and
// `--output=yaml` shape errors exactly as they shape results.
import type { MaasConfig } from '../core/config.js';
import { MaasError } from '../core/errors.js';
import type { Io } from './io.js';
import { OUTPUT_FORMATS, isMachineFormat, type OutputFormat } from './output.js';

export interface GlobalFlags {
  output?: string;
  color?: boolean;
  quiet?: boolean;
  yes?: boolean;
  home?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface GlobalOptions {
  output: OutputFormat;
  color: boolean;
  quiet: boolean;
  yes: boolean;
  home?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export function isOutputFormat(v: string | undefined): v is OutputFormat {
  return v !== undefined && (OUTPUT_FORMATS as readonly string[]).includes(v);
}

function wantsColor(io: Io, flag: boolean | undefined, output: OutputFormat): boolean {
  if (flag === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR && io.env.FORCE_COLOR !== '0') return true;
  if (isMachineFormat(output)) return false;
  return io.stdout.isTTY === true;
}

/**
 * `strict` (the command path) refuses an unknown format; the error path falls back to `table`
 * so that a bad format is still reported, in words.
 */
export function resolveGlobals(
  flags: GlobalFlags,
  io: Io,
  config: MaasConfig,
  opts: { strict: boolean; configFile?: string; repairing?: boolean } = { strict: false },
): GlobalOptions {
  const fromConfig = opts.repairing && !isOutputFormat(config.output) ? undefined : config.output;
  const raw = flags.output ?? io.env.MAAS_OUTPUT ?? fromConfig ?? 'table';
  let output: OutputFormat = 'table';
  if (isOutputFormat(raw)) output = raw;
  else if (opts.strict) {
    const where = flags.output !== undefined ? '-o' : io.env.MAAS_OUTPUT !== undefined ? 'MAAS_OUTPUT' : `"output" in ${opts.configFile ?? 'the config file'}`;
    throw new MaasError('USAGE', `unknown output format "${raw}" (from ${where})`, {
      hint: `use one of: ${OUTPUT_FORMATS.join(', ')}${where.startsWith('"output"') ? '; fix it with `maas config set output table`' : ''}`,
    });
  }
  const pick = (flag: string | undefined, configured: string | undefined): { value?: string } => {
    const value = flag ?? configured;
    return value !== undefined ? { value } : {};
  };
  const kubeconfig = pick(flags.kubeconfig, config.kubernetes?.kubeconfig).value;
  const context = pick(flags.context, config.kubernetes?.context).value;
  const namespace = pick(flags.namespace, config.kubernetes?.namespace).value;
  return {
    output,
    color: wantsColor(io, flags.color, output),
    quiet: flags.quiet === true,
    yes: flags.yes === true,
    ...(flags.home !== undefined ? { home: flags.home } : {}),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
  };
}

const VALUE_FLAGS: Record<string, keyof GlobalFlags> = { '-o': 'output', '--output': 'output', '--home': 'home' };

/**
 * The global flags in argv, for when the parser failed before handing them over (an unknown
 * option, a missing argument). Later occurrences win, as they do for the parser.
 */
export function scanGlobalFlags(argv: readonly string[]): GlobalFlags {
  const flags: GlobalFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') break;
    if (a === '--no-color') flags.color = false;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const key = VALUE_FLAGS[name];
    if (key === 'output' || key === 'home') {
      const value = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (value !== undefined) flags[key] = value;
    } else if (a.startsWith('-o') && a.length > 2 && !a.startsWith('--')) {
      flags.output = a.slice(2).replace(/^=/, '');
    }
  }
  return flags;
}
