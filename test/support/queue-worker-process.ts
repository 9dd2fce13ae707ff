// A worker process on a SQLite job queue, for tests that kill it mid-job. The child runs the BUILT
// modules (dist/, from `npx tsc -p tsconfig.build.json`; `npm test` builds first), as a real
// separate process would. Jobs of kind "slow" write a marker file named after the job, containing
// the process ID, then wait until the process is killed. Jobs of kind "count" append
// "<job ID> <process ID>" to MARKER_DIR/runs.log and return the process ID.
import { spawn, type ChildProcess } from 'node:child_process';
import { builtModule } from './built.js';

const script = (): string => `
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const { openDatabase } = await import(${JSON.stringify(builtModule('registry/sqlite/database.js'))});
const { migrate } = await import(${JSON.stringify(builtModule('registry/sqlite/migrations.js'))});
const { SqliteJobQueue } = await import(${JSON.stringify(builtModule('queue/sqlite-queue.js'))});

const [file, markerDir, leaseMs] = process.argv.slice(1);
// Never outlive a test that forgot this process.
setTimeout(() => process.exit(3), 60_000).unref();

const db = openDatabase(file);
migrate(db);
const queue = new SqliteJobQueue(
  db,
  {
    slow: async (_payload, progress, job) => {
      progress('started in process ' + process.pid);
      writeFileSync(join(markerDir, 'started-' + job.id), String(process.pid));
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      return { by: 'first' };
    },
    count: async (_payload, _progress, job) => {
      appendFileSync(join(markerDir, 'runs.log'), job.id + ' ' + process.pid + '\\n');
      await new Promise((resolve) => setTimeout(resolve, 25));
      return process.pid;
    },
  },
  { leaseMs: Number(leaseMs), heartbeatMs: Math.max(1, Math.floor(Number(leaseMs) / 5)), pollMs: 20, concurrency: 4, workerId: 'child-' + process.pid },
);
queue.start();
process.on('SIGTERM', () => {
  void queue.close().then(() => {
    db.close();
    process.exit(0);
  });
});
process.stdout.write('ready\\n');
`;

/** Starts the worker process; it prints "ready" once its queue runs. */
export function spawnQueueWorker(dbFile: string, markerDir: string, leaseMs: number): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', script(), dbFile, markerDir, String(leaseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
}
