// Who is using a deployment: `--consumer`, the config's `consumer`, or user@host.
import { hostname, userInfo } from 'node:os';
import type { Io } from './io.js';

export function defaultConsumer(io: Io): string {
  let user = io.env.USER ?? io.env.LOGNAME ?? '';
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}
