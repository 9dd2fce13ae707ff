// The services a request's use case runs with: the server's own, with a queue that records the
// requesting token as the owner of every job it causes (GET /v1/jobs/{id} shows a job to its
// owner and to admins only).
import type { Services } from '../app/services.js';
import type { Principal } from '../app/tokens.js';
import type { JobQueue } from '../queue/port.js';
import type { ServerDeps } from './deps.js';

export function ownedQueue(queue: JobQueue, owner: string, idempotencyKey?: string): JobQueue {
  return {
    enqueue: (kind, payload, progress, options) =>
      queue.enqueue(kind, payload, progress, { ...options, owner, ...(idempotencyKey !== undefined ? { idempotencyKey: `${kind}:${idempotencyKey}` } : {}) }),
    idle: () => queue.idle(),
    get: (id) => queue.get(id),
    list: (filter) => queue.list(filter),
    counts: () => queue.counts(),
    close: () => Promise.resolve(),
  };
}

export function servicesFor(deps: ServerDeps, principal: Principal): Services {
  return { ...deps.services, queue: ownedQueue(deps.queue, principal.name) };
}
