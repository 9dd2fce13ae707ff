// Server-side request forgery guard: a URI a client hands the control plane (an artifact to
// record, later fetched by a model server) may not point at the server's own files or at
// addresses only the server can reach (loopback, link-local cloud metadata, private networks).
// Pure: the host is judged by its text; names that resolve to such addresses (DNS rebinding)
// are outside what this can see, which is why file and loopback are refused outright.
import { isIP } from 'node:net';
import { MaasError } from '../core/errors.js';

const BLOCKED_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'metadata',
  'metadata.google.internal',
  'instance-data',
  'kubernetes.default',
  'kubernetes.default.svc',
]);

function privateV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    a >= 224
  );
}

function privateV6(ip: string): boolean {
  const x = ip.toLowerCase();
  if (x === '::' || x === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(x);
  if (mapped) return privateV4(mapped[1]!);
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(x);
}

/** Why `uri` may not be used by the server, or undefined when it may. */
export function forbiddenReference(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'not an absolute URI';
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme === 'file') return 'a file on the server';
  if (scheme === 's3' || scheme === 'gs' || scheme === 'oci') return undefined;
  if (scheme !== 'http' && scheme !== 'https') return `scheme ${scheme} is not allowed`;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === '' || BLOCKED_NAMES.has(host) || host.endsWith('.localhost') || host.endsWith('.internal')) return `host ${host || '(none)'} is internal`;
  const kind = isIP(host);
  if ((kind === 4 && privateV4(host)) || (kind === 6 && privateV6(host))) return `address ${host} is not public`;
  // Decimal, octal or hex spellings of an address (http://2130706433/) are refused rather than decoded.
  if (kind === 0 && /^[0-9.x]+$/i.test(host)) return `host ${host} looks like an encoded address`;
  return undefined;
}

export function requirePublicReference(uri: string, field: string): void {
  const why = forbiddenReference(uri);
  if (why) {
    throw new MaasError('VALIDATION', `${field}: ${uri} is refused (${why})`, {
      hint: 'upload local files to the server (the CLI does this for artifacts) or give a public https://, s3://, gs:// or oci:// URI',
    });
  }
}
