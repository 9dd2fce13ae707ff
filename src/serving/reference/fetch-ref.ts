// Fetches the bytes a data reference names, under the server's policy, streaming with a size
// limit so an oversized file is refused (413) without being held in memory.
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { ServingError, badRequest } from '../errors.js';
import { hostAllowed, type ReferencePolicy } from './policy.js';

export interface FetchedData {
  text: string;
  /** Content type of an HTTP answer, when given. */
  contentType?: string | undefined;
  /** Path part of the URI, for telling the format by extension. */
  path: string;
}

export type ReferenceFetcher = (uri: string) => Promise<FetchedData>;

function tooLarge(uri: string, max: number): ServingError {
  return new ServingError(413, `data_ref ${uri} is larger than the limit of ${max} bytes`);
}

function collect(stream: Readable, uri: string, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        stream.destroy();
        reject(tooLarge(uri, max));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks, size)));
    stream.on('error', reject);
  });
}

async function fetchFile(url: URL, uri: string, policy: ReferencePolicy): Promise<FetchedData> {
  if (url.host !== '' && url.host !== 'localhost') throw badRequest(`data_ref ${uri}: file URIs must be absolute (file:///path)`);
  const path = fileURLToPath(url);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw badRequest(`data_ref ${uri}: no such file`);
  }
  if (real !== policy.fileRoot && !real.startsWith(policy.fileRoot.endsWith(sep) ? policy.fileRoot : policy.fileRoot + sep)) {
    throw badRequest(`data_ref ${uri} is outside the directory the server may read (${policy.fileRoot}); see --ref-root`);
  }
  try {
    const bytes = await collect(createReadStream(real), uri, policy.maxBytes);
    return { text: bytes.toString('utf8'), path: real };
  } catch (e) {
    if (e instanceof ServingError) throw e;
    throw badRequest(`data_ref ${uri} could not be read: ${(e as Error).message}`);
  }
}

function fetchHttp(url: URL, uri: string, policy: ReferencePolicy): Promise<FetchedData> {
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: policy.timeoutMs, headers: { accept: 'text/csv, application/json, application/x-ndjson, */*' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        reject(badRequest(`data_ref ${uri} answered a redirect (HTTP ${status}); redirects are not followed, give the final URL`));
        return;
      }
      if (status < 200 || status >= 300) {
        res.resume();
        reject(badRequest(`data_ref ${uri} answered HTTP ${status}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxBytes) {
        res.destroy();
        reject(tooLarge(uri, policy.maxBytes));
        return;
      }
      collect(res, uri, policy.maxBytes).then(
        (bytes) => resolve({ text: bytes.toString('utf8'), contentType: res.headers['content-type'], path: url.pathname }),
        (e: unknown) => {
          req.destroy();
          reject(e instanceof ServingError ? e : new ServingError(502, `data_ref ${uri}: ${(e as Error).message}`));
        },
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${policy.timeoutMs} ms`)));
    req.on('error', (e) => reject(new ServingError(502, `data_ref ${uri} could not be fetched: ${e.message}`)));
  });
}

/** A fetcher bound to a policy: checks scheme, host and root, then reads with the size limit. */
export function createReferenceFetcher(policy: ReferencePolicy): ReferenceFetcher {
  return async (uri) => {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw badRequest(`data_ref ${JSON.stringify(uri)} is not a valid URI`);
    }
    const scheme = url.protocol.replace(/:$/, '').toLowerCase();
    if (!policy.schemes.includes(scheme))
      throw badRequest(`data_ref scheme "${scheme}" is not allowed (allowed: ${policy.schemes.join(', ')}); see --allow-ref-scheme`);
    if (scheme === 'file') return fetchFile(url, uri, policy);
    if (scheme !== 'http' && scheme !== 'https')
      throw badRequest(`data_ref scheme "${scheme}" is allowed but this server cannot fetch it (it reads file, http and https)`);
    if (!hostAllowed(policy, url)) throw badRequest(`data_ref host "${url.host}" is not allowed (allowed: ${policy.hosts.join(', ')}); see --allow-ref-host`);
    return fetchHttp(url, uri, policy);
  };
}
