// Maps a method and URL to one of the server's routes without regular expressions or
// allocations beyond one split of the path. ROUTES is the one table of what the server answers:
// the matcher reads its methods and model actions from it, and tests enumerate it.

export type RouteName =
  | 'health_live'
  | 'health_ready'
  | 'server_metadata'
  | 'model_metadata'
  | 'model_ready'
  | 'infer'
  | 'feedback'
  | 'stats'
  | 'drift'
  | 'labelled'
  | 'members'
  | 'records'
  | 'metrics';

const MODEL = '/v2/models/{name}';
const VERSION = '/v2/models/{name}/versions/{version}';
const modelPaths = (action: string): readonly string[] => [`${MODEL}/${action}`, `${VERSION}/${action}`];

/** Every route: its method and its path templates (`{name}`, `{version}` stand for path segments). */
export const ROUTES: Readonly<Record<RouteName, { method: 'GET' | 'POST'; paths: readonly string[] }>> = {
  health_live: { method: 'GET', paths: ['/v2/health/live'] },
  health_ready: { method: 'GET', paths: ['/v2/health/ready'] },
  server_metadata: { method: 'GET', paths: ['/v2'] },
  model_metadata: { method: 'GET', paths: [MODEL, VERSION] },
  model_ready: { method: 'GET', paths: modelPaths('ready') },
  infer: { method: 'POST', paths: modelPaths('infer') },
  feedback: { method: 'POST', paths: modelPaths('feedback') },
  stats: { method: 'GET', paths: modelPaths('stats') },
  drift: { method: 'GET', paths: modelPaths('drift') },
  labelled: { method: 'GET', paths: modelPaths('labelled') },
  // Composition routers only (other backends answer 404).
  members: { method: 'GET', paths: modelPaths('members') },
  records: { method: 'GET', paths: modelPaths('records') },
  metrics: { method: 'GET', paths: ['/metrics'] },
};

export type Match =
  | { kind: 'route'; route: RouteName; model?: string | undefined; version?: string | undefined }
  | { kind: 'not_found' }
  | { kind: 'method_not_allowed'; allow: string; route: RouteName };

const TABLE = Object.entries(ROUTES) as [RouteName, (typeof ROUTES)[RouteName]][];

/** Paths without parameters -> route (a trailing slash allowed), from the table. */
const FIXED: ReadonlyMap<string, RouteName> = new Map(
  TABLE.flatMap(([route, r]) => r.paths.filter((p) => !p.includes('{')).flatMap((p) => [[p, route] as const, [`${p}/`, route] as const])),
);

/** `/v2/models/{name}/<action>` -> route, from the table. */
const MODEL_ACTIONS: ReadonlyMap<string, RouteName> = new Map(
  TABLE.flatMap(([route, r]) =>
    r.paths.filter((p) => p.startsWith(`${MODEL}/`) && !p.startsWith(VERSION)).map((p) => [p.slice(MODEL.length + 1), route] as const),
  ),
);

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function identify(path: string): { route: RouteName; model?: string | undefined; version?: string | undefined } | undefined {
  const fixed = FIXED.get(path);
  if (fixed) return { route: fixed };
  if (!path.startsWith('/v2/models/')) return undefined;
  // /v2/models/{name}[/versions/{v}][/{action}]
  const parts = path.slice(11).split('/');
  if (parts[parts.length - 1] === '') parts.pop();
  const model = decode(parts[0] ?? '');
  if (!model) return undefined;
  let i = 1;
  let version: string | undefined;
  if (parts[1] === 'versions') {
    version = decode(parts[2] ?? '');
    if (!version) return undefined;
    i = 3;
  }
  if (parts.length === i) return { route: 'model_metadata', model, version };
  if (parts.length !== i + 1) return undefined;
  const route = MODEL_ACTIONS.get(parts[i]!);
  return route ? { route, model, version } : undefined;
}

export function matchRoute(method: string, url: string): Match {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const found = identify(path);
  if (!found) return { kind: 'not_found' };
  const allowed = ROUTES[found.route].method;
  if (method !== allowed && !(method === 'HEAD' && allowed === 'GET'))
    return { kind: 'method_not_allowed', allow: allowed === 'GET' ? 'GET, HEAD' : allowed, route: found.route };
  return { kind: 'route', ...found };
}
