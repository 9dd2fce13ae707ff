// `maas gc` removes artifact blobs that no registered version uses, after a grace period.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelDescription } from '../../bench/model-fixtures.js';
import { runCli, tempDir } from '../support/cli.js';
import { tinyOnnx } from '../support/onnx-models.js';

let dir: { path: string; cleanup: () => void };
let home: string;
const cli = (...argv: string[]) => runCli(argv, { home, cwd: dir.path });

/** Writes version `version` of a model beside its artifact; `seed` varies the artifact's bytes. */
function register(version: string, seed: number): void {
  writeFileSync(join(dir.path, 'model.onnx'), tinyOnnx({ features: 1, classes: 2, seed }));
  writeFileSync(join(dir.path, `m${version}.yaml`), JSON.stringify(modelDescription({ name: 'har', version, features: [['x', 'number']] })));
}

beforeEach(() => {
  dir = tempDir('maas-gc-');
  home = join(dir.path, 'home');
});
afterEach(() => dir.cleanup());

describe('maas gc and the artifact store', () => {
  it('removes only unreferenced blobs older than the grace period', async () => {
    register('1', 1);
    expect((await cli('register', 'm1.yaml')).code).toBe(0);
    register('2', 2);
    const two = JSON.parse((await cli('register', 'm2.yaml', '-o', 'json')).stdout) as { artifactDigest: string }[];
    const digest2 = two[0]!.artifactDigest;
    const blob2 = join(home, 'blobs', 'sha256', digest2.replace('sha256:', ''));
    expect(existsSync(blob2)).toBe(true);

    expect((await cli('delete', 'har@2')).code).toBe(0);
    // Fresh blobs are spared: a registration may be between storing and recording its artifact.
    expect(JSON.parse((await cli('gc', '-o', 'json')).stdout)).toMatchObject({ artifacts: [] });
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(blob2, old, old);
    expect(JSON.parse((await cli('gc', '--dry-run', '-o', 'json')).stdout)).toMatchObject({ dryRun: true, artifacts: [digest2] });
    expect(existsSync(blob2)).toBe(true);
    expect(JSON.parse((await cli('gc', '-o', 'json')).stdout)).toMatchObject({ artifacts: [digest2] });
    expect(existsSync(blob2)).toBe(false);
    // Version 1 keeps its artifact, whatever its age.
    expect(readdirSync(join(home, 'blobs', 'sha256'))).toHaveLength(1);
    expect((await cli('get', 'har@1')).code).toBe(0);
  });
});
