// The user's config file (MAAS_HOME/config.yaml): defaults that flags override.
import { readFile } from 'node:fs/promises';
import { MaasError } from './errors.js';

export interface MaasConfig {
  /** Default output format. */
  output?: string;
  /** Default deployment target. */
  target?: string;
  /** Name recorded as the consumer of deployments (default user@host). */
  consumer?: string;
  local?: {
    /** How long a cached (scaled-to-zero) local deployment is kept before `maas gc` may purge it. */
    cacheTtl?: string;
  };
  kubernetes?: {
    kubeconfig?: string;
    context?: string;
    namespace?: string;
    /** Model server image for cluster deployments. */
    image?: string;
  };
}

export const CONFIG_KEYS = [
  'output',
  'target',
  'consumer',
  'local.cacheTtl',
  'kubernetes.kubeconfig',
  'kubernetes.context',
  'kubernetes.namespace',
  'kubernetes.image',
] as const;

export type ConfigKey = (typeof CONFIG_KEYS)[number];

export async function loadConfig(file: string): Promise<MaasConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  const { parse } = await import('yaml');
  let value: unknown;
  try {
    value = parse(text);
  } catch (e) {
    throw new MaasError('USAGE', `config file ${file} is not valid YAML: ${(e as Error).message}`, {
      hint: 'fix the file or remove it; `maas config view` shows what maas reads',
      cause: e,
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MaasError('USAGE', `config file ${file} must be a mapping of settings`, { hint: `known keys: ${CONFIG_KEYS.join(', ')}` });
  }
  return value;
}

export function getConfigValue(config: MaasConfig, key: ConfigKey): string | undefined {
  const [a, b] = key.split('.') as [string, string | undefined];
  const top = (config as Record<string, unknown>)[a];
  if (b === undefined) return typeof top === 'string' ? top : undefined;
  const v = top && typeof top === 'object' ? (top as Record<string, unknown>)[b] : undefined;
  return typeof v === 'string' ? v : undefined;
}
