// Maps a method and URL to one of the server's routes without regular expressions or
// allocations beyond one split of the path.

export type RouteName = 'health_live' | 'health_ready' | 'server_metadata' | 'model_metadata' | 'model_ready' | 'infer' | 'feedback' | 'stats' | 'metrics';

export type Match =
  | { kind: 'route'; route: RouteName; model?: string | undefined; version?: string | undefined }
  | { kind: 'not_found' }
  | { kind: 'method_not_allowed'; allow: string; route: RouteName };

const METHODS: Record<RouteName, string> = {
  health_live: 'GET',
  health_ready: 'GET',
  server_metadata: 'GET',
  model_metadata: 'GET',
  model_ready: 'GET',
  infer: 'POST',
  feedback: 'POST',
  stats: 'GET',
  metrics: 'GET',
};

const MODEL_ACTIONS: Record<string, RouteName> = { ready: 'model_ready', infer: 'infer', feedback: 'feedback', stats: 'stats' };

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function identify(path: string): { route: RouteName; model?: string | undefined; version?: string | undefined } | undefined {
  switch (path) {
    case '/v2/health/live':
      return { route: 'health_live' };
    case '/v2/health/ready':
      return { route: 'health_ready' };
    case '/v2':
    case '/v2/':
      return { route: 'server_metadata' };
    case '/metrics':
      return { route: 'metrics' };
    default:
      break;
  }
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
  const route = MODEL_ACTIONS[parts[i]!];
  return route ? { route, model, version } : undefined;
}

export function matchRoute(method: string, url: string): Match {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const found = identify(path);
  if (!found) return { kind: 'not_found' };
  const allowed = METHODS[found.route];
  if (method !== allowed && !(method === 'HEAD' && allowed === 'GET'))
    return { kind: 'method_not_allowed', allow: allowed === 'GET' ? 'GET, HEAD' : allowed, route: found.route };
  return { kind: 'route', ...found };
}
