// Server-side request forgery guard: a URI a client hands the control plane (an artifact to
// record, later fetched by a model server) may not point at the server's own files or at
// addresses only the server can reach (loopback, link-local cloud metadata, private networks).
// The host is judged by its text (pure), then, when the server is given a resolver, by the
// addresses its name resolves to now. A name can still resolve elsewhere later (DNS rebinding),
// which is why file and loopback are refused outright.
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

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad included), or undefined. */
function groupsV6(ip: string): number[] | undefined {
  let x = ip.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(x);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    x = `${x.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = x.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...Array.from({ length: Math.max(0, fill) }, () => '0'), ...t].map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  return groups.length === 8 && groups.every((n) => Number.isInteger(n)) ? groups : undefined;
}

function privateV6(ip: string): boolean {
  const g = groupsV6(ip);
  if (!g) return true;
  const embedded = `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((n) => n === 0);
  // ::/96 (unspecified, loopback, the deprecated IPv4-compatible form): nothing public lives there.
  if (zeros(0, 6)) return true;
  // IPv4-mapped (::ffff:a.b.c.d, which URLs spell ::ffff:7f00:1) and NAT64 (64:ff9b::/96): the IPv4 address decides.
  if (zeros(0, 5) && g[5] === 0xffff) return privateV4(embedded);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return privateV4(embedded);
  const first = g[0]!;
  // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8.
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0 || (first & 0xff00) === 0xff00;
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
  // A trailing dot names the same host (localhost. is localhost).
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.+$/, '');
  if (host === '' || BLOCKED_NAMES.has(host) || host.endsWith('.localhost') || host.endsWith('.internal')) return `host ${host || '(none)'} is internal`;
  const kind = isIP(host);
  if ((kind === 4 && privateV4(host)) || (kind === 6 && privateV6(host))) return `address ${host} is not public`;
  // Decimal, octal or hex spellings of an address (http://2130706433/) are refused rather than decoded.
  if (kind === 0 && /^[0-9.x]+$/i.test(host)) return `host ${host} looks like an encoded address`;
  return undefined;
}

export function requirePublicReference(uri: string, field: string): void {
  const why = forbiddenReference(uri);
  if (why) throw refused(uri, field, why);
}

/** Looks a host name up: its addresses (the system resolver in `maas server`, a table in tests). */
export type ResolveHost = (host: string) => Promise<string[]>;

function refused(uri: string, field: string, why: string): MaasError {
  return new MaasError('VALIDATION', `${field}: ${uri} is refused (${why})`, {
    hint: 'upload local files to the server (the CLI does this for artifacts) or give a public https://, s3://, gs:// or oci:// URI',
  });
}

/** requirePublicReference, plus: an http(s) host name must resolve, and only to public addresses. */
export async function requireResolvedPublic(uri: string, field: string, resolve: ResolveHost): Promise<void> {
  requirePublicReference(uri, field);
  const url = new URL(uri);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return;
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) throw refused(uri, field, `host ${host} does not resolve from the server`);
  const inner = addresses.find((a) => (isIP(a) === 4 ? privateV4(a) : privateV6(a)));
  if (inner !== undefined) throw refused(uri, field, `host ${host} resolves to ${inner}, which is not public`);
}
