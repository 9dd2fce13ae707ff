// WAL checkpoints (copying the write-ahead log into the database and syncing it to disk) on a
// small worker thread with its own connection, for when the log is written on the serving
// thread: a request then never waits for an fsync. Plain CommonJS evaluated from a string, so it
// runs the same from compiled output and from sources under test.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const tick = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { parentPort.postMessage({ error: String(e && e.message || e) }); } };
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); tick(); db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(path: string, intervalMs: number, onError: (message: string) => void): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { path, intervalMs, module } });
  worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
  worker.on('error', (e) => onError(e.message));
  // A checkpointer must never keep a finished server alive...
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // ...but the process waits for its last checkpoint.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
