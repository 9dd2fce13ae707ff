// `redis://[user:password@]host:port[/db]` and `rediss://` (TLS) as connection options, checked
// here so that a typo fails at once with a usage error instead of as endless reconnects.
import { MaasError } from '../core/errors.js';

export interface RedisConnectionOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** Present for `rediss://`: the server name to verify the certificate against. */
  tls?: { servername: string };
  /** BullMQ's workers block on Redis and require that commands are never given up on. */
  maxRetriesPerRequest: null;
}

const HINT = 'use redis://[user:password@]host:port[/db], or rediss://… for TLS, e.g. redis://127.0.0.1:6379/0';

export function parseRedisUrl(url: string): RedisConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new MaasError('USAGE', `not a Redis URL: ${redactRedisUrl(url)}`, { hint: HINT, cause: e });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new MaasError('USAGE', `a Redis URL starts with redis:// or rediss://, not ${u.protocol}//`, { hint: HINT });
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new MaasError('USAGE', `the Redis URL ${redactRedisUrl(url)} names no host`, { hint: HINT });
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(dbText)) throw new MaasError('USAGE', `the Redis database in ${redactRedisUrl(url)} must be a number, not "${dbText}"`, { hint: HINT });
  if (u.search || u.hash) throw new MaasError('USAGE', `the Redis URL ${redactRedisUrl(url)} takes no query or fragment`, { hint: HINT });
  const options: RedisConnectionOptions = { host, port, db: dbText === '' ? 0 : Number(dbText), maxRetriesPerRequest: null };
  if (u.username) options.username = decodeURIComponent(u.username);
  if (u.password) options.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') options.tls = { servername: host };
  return options;
}

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
