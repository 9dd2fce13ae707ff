// Reads a request body with a size limit checked while streaming, so an oversized body is
// refused (413) without being buffered. Callback-style: it runs once per request, and a promise
// here would only add ticks.
import type { IncomingMessage } from 'node:http';
import { ServingError } from '../errors.js';

export class BodyAborted extends Error {}

/** How much of an oversized body is read and discarded so the client sees the 413. */
const DISCARD_FACTOR = 4;

export type BodyCallback = (error: Error | undefined, text: string) => void;

export function readBody(req: IncomingMessage, limit: number, callback: BodyCallback): void {
  let size = 0;
  let chunks: Buffer[] | undefined = [];
  let finished = false;
  const finish = (error: Error | undefined, text: string): void => {
    if (finished) return;
    finished = true;
    callback(error, text);
  };
  const refuse = (): void => {
    // Keep reading (up to a bound) so the client finishes sending and reads the answer.
    chunks = undefined;
    finish(new ServingError(413, `request body is larger than the limit of ${limit} bytes; send fewer rows per request or use a data_ref`), '');
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (!chunks) {
      if (size > limit * DISCARD_FACTOR + 1_048_576) req.destroy();
      return;
    }
    if (size > limit) refuse();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    if (chunks) finish(undefined, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
  });
  req.on('error', () => finish(new BodyAborted('request aborted'), ''));
  const declared = Number(req.headers['content-length']);
  if (declared > limit) refuse();
}
