// The floor for the serving benchmark: a bare node:http server running the same onnxruntime
// session on the same JSON requests, without validation, logging, stats or metrics. Started as
// its own process by bench/serving.ts:
//   node dist/bench/serving-floor.js DESCRIPTION.json MODEL.onnx THREADS
// prints {"port": N} on stdout once listening.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { ModelDescription } from '../src/spec/schema.js';
import { loadRuntime } from '../src/serving/runtimes/index.js';

interface Body {
  id?: string;
  inputs: { shape: number[]; data: number[] }[];
}

async function main(): Promise<void> {
  const [descFile, modelPath, threads] = process.argv.slice(2);
  const description = JSON.parse(readFileSync(descFile!, 'utf8')) as ModelDescription;
  const runtime = await loadRuntime(description, modelPath!, { threads: Number(threads ?? 1) });
  const labels = description.spec.outputs?.labels ?? [];
  let n = 0;
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
        const input = body.inputs[0]!;
        const rows = input.shape[0]!;
        const p = await runtime.predict(Float32Array.from(input.data), rows);
        const out = JSON.stringify({
          model_name: description.metadata.name,
          model_version: description.metadata.version,
          id: body.id ?? String(n++),
          outputs: [
            { name: 'label', datatype: 'BYTES', shape: [rows], data: p.labels },
            { name: 'probabilities', datatype: 'FP32', shape: [rows, labels.length], data: p.probabilities?.flat() },
          ],
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      })();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void runtime.close();
  });
}

void main();
