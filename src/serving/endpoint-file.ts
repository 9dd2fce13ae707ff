// The endpoint file: where a started server tells its supervisor how to reach it. Written
// atomically (temp file + rename) so a reader never sees a partial file.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface EndpointInfo {
  url: string;
  port: number;
  pid: number;
  host: string;
  model: string;
  version: string;
  startedAt: string;
}

export async function writeEndpointFile(path: string, info: EndpointInfo): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}

export async function readEndpointFile(path: string): Promise<EndpointInfo> {
  return JSON.parse(await readFile(path, 'utf8')) as EndpointInfo;
}
