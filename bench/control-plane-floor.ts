// The floor of the control-plane benchmark: a bare node:http server answering the same JSON the
// real server answers for search and status, from memory, without routing, validation, tokens,
// rate limits, logging or metrics. Started by bench/control-plane.ts:
//   node dist/bench/control-plane-floor.js ANSWERS.json
// prints {"port": N} on stdout once listening.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';

const answers = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { search: unknown; status: unknown };
const search = Buffer.from(JSON.stringify(answers.search));
const status = Buffer.from(JSON.stringify(answers.status));

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  // Read (and drop) the request body as a real server must, then answer.
  req.on('data', () => {});
  req.on('end', () => {
    const body = req.method === 'POST' ? search : status;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
