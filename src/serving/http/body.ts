// Reads a request body with a size limit checked while streaming, so an oversized body is
// refused (413) without being buffered. A gzip, deflate or br body (Content-Encoding) is decoded
// while streaming and the limit applies to the decoded size, so a small body that inflates to
// gigabytes is refused too. Callback-style: it runs once per request, and a promise here would
// only add ticks.
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { ServingError } from '../errors.js';
import { formatBytes } from '../../domain/quantity.js';

export class BodyAborted extends Error {}

/** How much of a refused body is read and discarded so the client sees the answer. */
const DISCARD_FACTOR = 4;

export type BodyCallback = (error: Error | undefined, body: Buffer) => void;

const EMPTY = Buffer.alloc(0);

type Decoder = (first: Buffer) => Transform;

/** zlib-wrapped deflate is what the RFC means; some clients send raw deflate, told apart by the header. */
const inflate: Decoder = (first) =>
  first.length >= 2 && (first[0]! & 0x0f) === 8 && ((first[0]! << 8) | first[1]!) % 31 === 0 ? createInflate() : createInflateRaw();

const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: inflate,
  br: () => createBrotliDecompress(),
};

/** The decoder a Content-Encoding names; null = none needed; a 415 for anything else. */
function decoderFor(header: string | undefined): { name: string; make: Decoder } | ServingError | null {
  const name = (header ?? '').trim().toLowerCase();
  if (name === '' || name === 'identity') return null;
  const make = DECODERS[name];
  if (make) return { name, make };
  return new ServingError(415, `unsupported Content-Encoding ${JSON.stringify(header)}; send the body as is, or gzip, deflate or br encoded`);
}

export function readBody(req: IncomingMessage, limit: number, callback: BodyCallback): void {
  let received = 0;
  let size = 0;
  let chunks: Buffer[] | undefined = [];
  let finished = false;
  let decoder: Transform | undefined;
  const encoding = decoderFor(req.headers['content-encoding']);
  const finish = (error: Error | undefined, body: Buffer): void => {
    if (finished) return;
    finished = true;
    callback(error, body);
  };
  const refuse = (error: ServingError): void => {
    // Keep reading (up to a bound) so the client finishes sending and reads the answer.
    chunks = undefined;
    decoder?.destroy();
    finish(error, EMPTY);
  };
  const tooLarge = (decoded = false): ServingError =>
    new ServingError(
      413,
      `request body is larger than the limit of ${/^\d+$/.test(formatBytes(limit)) ? `${limit} bytes` : `${formatBytes(limit)}B (${limit} bytes)`}${decoded && encoding && !(encoding instanceof ServingError) ? ` once ${encoding.name} decoded` : ''}; send fewer rows per request or use a data_ref`,
    );
  const keep = (chunk: Buffer): void => {
    if (!chunks) return;
    size += chunk.length;
    if (size > limit) refuse(tooLarge(decoder !== undefined));
    else chunks.push(chunk);
  };
  const deliver = (): void => {
    if (chunks) finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  };
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (!chunks) {
      if (received > limit * DISCARD_FACTOR + 1_048_576) req.destroy();
      return;
    }
    if (!encoding || encoding instanceof ServingError) {
      keep(chunk);
      return;
    }
    if (received > limit) {
      refuse(tooLarge());
      return;
    }
    if (!decoder) {
      const d = encoding.make(chunk);
      d.on('data', keep);
      d.on('end', deliver);
      d.on('error', (e: Error) => refuse(new ServingError(400, `the request body is not valid ${encoding.name} data: ${e.message}`)));
      decoder = d;
    }
    decoder.write(chunk);
  });
  req.on('end', () => {
    if (!chunks) return;
    if (decoder) decoder.end();
    else if (encoding && !(encoding instanceof ServingError))
      refuse(new ServingError(400, `the request body is empty; Content-Encoding ${encoding.name} needs data`));
    else deliver();
  });
  req.on('error', () => finish(new BodyAborted('request aborted'), EMPTY));
  if (encoding instanceof ServingError) {
    refuse(encoding);
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) refuse(tooLarge());
}
