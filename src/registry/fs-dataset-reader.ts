// Data sets on this machine's file system: a `file:` URI or a path, CSV with a header row (the
// project's one CSV reader, streamed). Opening hashes the file once; the records are streamed
// on demand, so a data set of any size is read in constant memory here.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MaasError } from '../core/errors.js';
import { csvRows } from '../protocol/csv.js';
import { resolveFileUri, uriScheme } from '../spec/artifact-uri.js';
import type { Dataset, DatasetReader } from './ports.js';

/** What a file name's extension says about its format, when it says something. */
const EXTENSIONS: Record<string, string> = {
  '.csv': 'csv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.tsv': 'tsv',
  '.xlsx': 'xlsx',
};

function unsupportedScheme(uri: string, scheme: string): MaasError {
  return new MaasError('USAGE', `cannot read data from ${uri}: only local files are read here (a path or a file:// URI), not ${scheme}://`, {
    hint: 'download the data and name the local file',
    details: { unsupported: 'scheme', scheme },
  });
}

function unsupportedFormat(uri: string, format: string): MaasError {
  return new MaasError('USAGE', `cannot read ${format} data (${uri}): only CSV with a header row is supported for now`, {
    hint: 'convert the data to CSV, one column per feature, named as in the description',
    details: { unsupported: 'format', format },
  });
}

/** The absolute path a data URI names, or why it cannot be read here. */
export function datasetPath(uri: string, baseDir: string): string {
  const scheme = uriScheme(uri);
  if (scheme === undefined) {
    if (uri.trim() === '' || uri.includes('\0')) throw new MaasError('USAGE', `"${uri}" does not name a file`);
    return resolve(baseDir, uri);
  }
  if (scheme !== 'file') throw unsupportedScheme(uri, scheme);
  const path = resolveFileUri(uri, baseDir);
  if (path === undefined) throw new MaasError('USAGE', `"${uri}" does not name a file`, { hint: 'write file:///absolute/path/data.csv or file://./data.csv' });
  return path;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

class CsvFile implements Dataset {
  readonly format = 'csv' as const;
  rows: number | undefined;

  constructor(
    readonly uri: string,
    readonly path: string,
    readonly digest: string,
    readonly bytes: number,
    readonly columns: readonly string[],
    private readonly what: string,
  ) {}

  async *records(): AsyncGenerator<Readonly<Record<string, string>>> {
    let n = -1;
    let header: readonly string[] = [];
    for await (const row of csvRows(createReadStream(this.path), this.what)) {
      if (n++ < 0) {
        header = row;
        continue;
      }
      const record: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) record[header[i]!] = row[i]!;
      yield record;
    }
    this.rows = Math.max(0, n);
  }
}

export class FsDatasetReader implements DatasetReader {
  async open(uri: string, options: { baseDir: string; format?: string }): Promise<Dataset> {
    const path = datasetPath(uri, options.baseDir);
    const format = options.format ?? EXTENSIONS[extname(path).toLowerCase()] ?? 'csv';
    if (format !== 'csv') throw unsupportedFormat(uri, format);
    let size: number;
    try {
      const s = await stat(path);
      if (s.isDirectory()) throw new MaasError('USAGE', `${path} is a directory; name a CSV file`);
      size = s.size;
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') {
        throw new MaasError('NOT_FOUND', `data file not found: ${path}`, {
          hint: `check the path; relative ones resolve from ${options.baseDir}`,
          cause: e,
        });
      }
      throw e;
    }
    const digest = await sha256(path);
    const what = `data file ${path}`;
    let columns: string[] | undefined;
    for await (const header of csvRows(createReadStream(path), what)) {
      columns = header;
      break;
    }
    return new CsvFile(pathToFileURL(path).href, path, digest, size, columns ?? [], what);
  }
}
