// Registering on a `maas server`: the descriptions are validated here (and their artifacts opened
// in their runtime, as locally), the reference profile of local training data is computed here
// (the server never reads data named by a client, and the data need not leave this machine),
// each local artifact is uploaded (streamed; the server checks its digest), then each version is
// registered with its profile. One request per document: a failure names the file it came from.
import type { Readable } from 'node:stream';
import { dirname, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { LoadedModel } from '../spec/load.js';
import type { ControlPlaneApi } from './control-plane-api.js';
import { localProfile, type RegisteredVersion } from './register.js';
import type { Services } from './services.js';

/** This machine's files, as registration needs them (a port: the use case does no I/O itself). */
export interface LocalFiles {
  /** `sha256:<hex>` and size of a file. */
  digest(path: string): Promise<{ digest: string; size: number }>;
  open(path: string): Readable;
}

export interface RemoteRegisterRequest {
  files: string[];
  cwd: string;
  readStdin?: (maxBytes: number) => Promise<string>;
  inspectArtifacts?: boolean;
}

export async function registerOnServer(
  api: ControlPlaneApi,
  s: Pick<Services, 'datasets' | 'clock'> & Partial<Pick<Services, 'inspectArtifact'>>,
  files: LocalFiles,
  req: RemoteRegisterRequest,
): Promise<RegisteredVersion[]> {
  const { loadModelFiles, STDIN_LABEL } = await import('../spec/load.js');
  const models: LoadedModel[] = await loadModelFiles(req.files, {
    cwd: req.cwd,
    checkArtifact: true,
    ...(req.readStdin ? { readStdin: req.readStdin } : {}),
    ...(s.inspectArtifact && req.inspectArtifacts !== false ? { inspectArtifact: s.inspectArtifact } : {}),
  });
  // Profiles first, as locally: unreadable training data registers nothing.
  const profiles = [];
  for (const m of models) profiles.push(await localProfile(s, m, m.file === STDIN_LABEL ? req.cwd : dirname(resolve(req.cwd, m.file))));
  const out: RegisteredVersion[] = [];
  for (const [i, m] of models.entries()) {
    let artifact: string | undefined;
    if (m.artifactPath !== undefined) {
      const path = m.artifactPath;
      const { digest, size } = await files.digest(path);
      await api.uploadArtifact(() => files.open(path), digest, size);
      artifact = digest;
    }
    const profile = profiles[i]?.profile;
    const [registered] = await api.registerModel({
      description: stringify(m.description, { lineWidth: 0 }),
      ...(artifact !== undefined ? { artifact } : {}),
      ...(profile !== undefined ? { profile } : {}),
    });
    if (registered) out.push({ ...registered, file: m.file, profile: profiles[i]?.outcome ?? registered.profile });
  }
  return out;
}
