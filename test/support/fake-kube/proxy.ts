// The Service proxy subresource: /api/v1/namespaces/{ns}/services/[scheme:]{name}[:{port}]/proxy/{path}.
// Like kube-apiserver it answers 503 when the Service has no ready endpoint; otherwise it forwards
// to the backend URL the test registered for the Service (a real local model server).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { errors } from './status.js';
import type { Obj } from './types.js';

const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'authorization',
]);

/** `http:svc:8080` / `svc:http` / `svc` -> parts. */
export function parseServiceRef(ref: string): { scheme?: string | undefined; name: string; port?: string | undefined } {
  const parts = ref.split(':');
  if (parts.length === 3) return { scheme: parts[0], name: parts[1]!, port: parts[2] };
  if (parts.length === 2) return { name: parts[0]!, port: parts[1] };
  return { name: ref };
}

export function servicePortMatches(service: Obj, port: string | undefined): boolean {
  const ports = (service.spec?.ports ?? []) as Obj[];
  if (port === undefined || port === '') return ports.length > 0;
  return ports.some((p) => p.name === port || String(p.port) === port);
}

export function forward(req: IncomingMessage, res: ServerResponse, backend: string, path: string, query: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const target = new URL(backend);
    const base = target.pathname.replace(/\/$/, '');
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k.toLowerCase())) headers[k] = v;
    headers['content-length'] = String(body.length);
    headers['x-forwarded-uri'] = req.url ?? '';
    const out = httpRequest({ hostname: target.hostname, port: target.port, method: req.method, path: `${base}${path}${query}`, headers }, (up) => {
      const h: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k.toLowerCase())) h[k] = v;
      res.writeHead(up.statusCode ?? 502, h);
      up.pipe(res);
      up.on('end', () => resolve());
      up.on('error', reject);
    });
    out.on('error', (e) => reject(errors.serviceUnavailable(`error trying to reach service: ${e.message}`)));
    out.end(body);
  });
}
