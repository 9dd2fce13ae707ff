// A local deploy of a model whose artifact is remote fails before a deployment is recorded.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelDescription } from '../../bench/model-fixtures.js';
import { runCli, tempDir } from '../support/cli.js';

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir('maas-preflight-');
});
afterEach(() => dir.cleanup());

describe('deploy preflight', () => {
  it('refuses an s3:// artifact on the local target with exit 2 and leaves no record', async () => {
    const cli = (...argv: string[]) => runCli(argv, { home: join(dir.path, 'home'), cwd: dir.path });
    writeFileSync(join(dir.path, 'm.yaml'), JSON.stringify(modelDescription({ name: 'remote', version: '1', artifactUri: 's3://bucket/model.onnx' })));
    expect((await cli('register', 'm.yaml')).code).toBe(0);
    const r = await cli('deploy', 'remote@1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the local target cannot serve remote@1: its artifact s3://bucket/model.onnx is not in the local store');
    expect(JSON.parse((await cli('ps', '-o', 'json')).stdout)).toEqual([]);
  });
});
