// A `maas worker`-like process on the Redis job queue, for tests that kill it mid-job. The child
// runs the BUILT modules (dist/, from `npx tsc -p tsconfig.build.json`; `npm test` builds first).
// A job of kind "slow" that no process has started yet writes a marker file named after the job,
// containing the process ID, and waits until the process is killed; a job that another process
// started (and died on) finishes at once with `{ by: <process ID> }`.
import { spawn, type ChildProcess } from 'node:child_process';
import { builtModule } from './built.js';

const script = (): string => `
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const { RedisJobQueue } = await import(${JSON.stringify(builtModule('queue/redis-queue.js'))});

const [url, prefix, markerDir, lockMs] = process.argv.slice(1);
// Never outlive a test that forgot this process.
setTimeout(() => process.exit(3), 60_000).unref();

const queue = new RedisJobQueue(url, { prefix, lockMs: Number(lockMs) });
const worker = queue.startWorker(
  {
    slow: async (_payload, progress, job) => {
      const marker = join(markerDir, 'started-' + job.id);
      if (existsSync(marker)) {
        progress('finished in process ' + process.pid + ', attempt ' + job.attempt);
        return { by: process.pid };
      }
      writeFileSync(marker, String(process.pid));
      progress('started in process ' + process.pid);
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      return { by: process.pid };
    },
  },
  { concurrency: 2, workerId: 'worker-' + process.pid },
);
process.on('SIGTERM', () => {
  void worker
    .close(1000)
    .then(() => queue.close())
    .then(() => process.exit(0));
});
await worker.ready();
process.stdout.write('ready\\n');
`;

/** Starts the worker process; it prints "ready" once connected to Redis. */
export function spawnRedisWorker(url: string, prefix: string, markerDir: string, lockMs: number): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', script(), url, prefix, markerDir, String(lockMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
}
