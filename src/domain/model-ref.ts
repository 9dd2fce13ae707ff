// `name[@version]` references as typed on the command line.
import { MaasError } from '../core/errors.js';
import { isModelName } from './names.js';

export interface ModelRef {
  name: string;
  version?: string;
}

export function parseModelRef(text: string, opts: { requireVersion?: boolean } = {}): ModelRef {
  const at = text.lastIndexOf('@');
  const name = at === -1 ? text : text.slice(0, at);
  const version = at === -1 ? undefined : text.slice(at + 1);
  if (!isModelName(name) || version === '') {
    throw new MaasError('USAGE', `"${text}" is not a model reference`, { hint: 'write name or name@version, e.g. har-classifier@1' });
  }
  if (opts.requireVersion && version === undefined) {
    throw new MaasError('USAGE', `"${text}" needs an explicit version`, { hint: `write ${name}@VERSION; \`maas versions ${name}\` lists them` });
  }
  return version === undefined ? { name } : { name, version };
}

export function formatModelRef(name: string, version: string): string {
  return `${name}@${version}`;
}
