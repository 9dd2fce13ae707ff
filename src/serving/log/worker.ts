// The request log's writer thread: owns the SQLite connection, commits the batches the serving
// thread sends (and checkpoints the WAL) so that no request waits for the disk. Messages are
// handled in order, so a feedback or count request sees every batch sent before it.
import { parentPort, workerData } from 'node:worker_threads';
import { ServingError } from '../errors.js';
import { LogStore, type LogStoreOptions } from './store.js';
import type { ToWorker, FromWorker } from './protocol.js';

const port = parentPort!;
const store = new LogStore(workerData as LogStoreOptions);

function reply(message: FromWorker): void {
  port.postMessage(message);
}

port.on('message', (m: ToWorker) => {
  try {
    switch (m.op) {
      case 'write':
        store.writeBatches(m.batches, m.now);
        return;
      case 'feedback':
        reply({ id: m.id, ok: true, result: store.applyFeedback(m.items, m.now) });
        return;
      case 'labelled': {
        const result = store.labelled(m.selection);
        port.postMessage({ id: m.id, ok: true, result } satisfies FromWorker, [result.values.buffer as ArrayBuffer]);
        return;
      }
      case 'count':
        reply({ id: m.id, ok: true, result: store.count() });
        return;
      case 'close':
        store.close();
        reply({ id: m.id, ok: true, result: null });
        port.close();
        return;
    }
  } catch (e) {
    const status = e instanceof ServingError ? e.status : undefined;
    const message = e instanceof Error ? e.message : String(e);
    if (m.op === 'write') reply({ op: 'error', message });
    else reply({ id: m.id, ok: false, message, ...(status ? { status } : {}) });
  }
});
