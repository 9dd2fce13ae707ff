// The drift thread: runs the drift tests of the server's checks (drift-check.ts) so that they
// never hold up the serving thread. The reference side is built once from the profile it gets
// at start; each message carries one snapshot of the window and is answered in order.
import { parentPort, workerData } from 'node:worker_threads';
import { driftReportMaker, type DriftConstants, type FromDriftWorker, type ToDriftWorker } from './drift-check.js';

const port = parentPort!;
const make = driftReportMaker(workerData as DriftConstants);

port.on('message', (m: ToDriftWorker) => {
  let answer: FromDriftWorker;
  try {
    answer = { id: m.id, ok: true, report: make(m.input) };
  } catch (e) {
    answer = { id: m.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(answer);
});
