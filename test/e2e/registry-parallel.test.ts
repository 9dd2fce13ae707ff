// Parallel `maas register` processes on one fresh MAAS_HOME: nothing is lost, and exactly one of
// several conflicting registrations wins. Needs the built CLI (`npm run build`; `npm test` builds).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelDescription } from '../../bench/model-fixtures.js';
import { spawnCli, tempDir } from '../support/cli.js';
import { onnxFor } from '../support/onnx-models.js';

const PARALLEL = 8;

let dir: { path: string; cleanup: () => void };
let home: string;

beforeEach(() => {
  dir = tempDir('maas-parallel-');
  home = join(dir.path, 'home');
  // Every description below is a one-feature, two-label classifier.
  writeFileSync(join(dir.path, 'model.onnx'), onnxFor(modelDescription({ name: 'm', version: '1' })));
});

afterEach(() => dir.cleanup());

function write(name: string, description: string, version = '1'): string {
  const path = join(dir.path, `${name}-${description.length}.yaml`);
  writeFileSync(path, JSON.stringify(modelDescription({ name, version, description, metrics: { accuracy: 0.9 } })));
  return path;
}

describe('parallel registration', () => {
  it('stores every model when distinct models are registered at once on a fresh home', async () => {
    const files = Array.from({ length: PARALLEL }, (_, i) => write(`model-${i}`, `model number ${i}`));
    const results = await Promise.all(files.map((f) => spawnCli(['register', f], { home, cwd: dir.path })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const list = await spawnCli(['list', '-o', 'json'], { home });
    expect(list.code, list.stderr).toBe(0);
    const models = JSON.parse(list.stdout) as { name: string; latest: string; versions: number }[];
    expect(models.map((m) => m.name).sort()).toEqual(files.map((_f, i) => `model-${i}`).sort());
    expect(models.every((m) => m.latest === '1' && m.versions === 1)).toBe(true);
  });

  it('lets exactly one of several different contents for one name@version win', async () => {
    const files = Array.from({ length: PARALLEL }, (_, i) => write('har', `variant ${'x'.repeat(i)}`, '3'));
    const results = await Promise.all(files.map((f) => spawnCli(['register', f, '-o', 'json'], { home, cwd: dir.path })));
    const winners = results.filter((r) => r.code === 0);
    const losers = results.filter((r) => r.code !== 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(PARALLEL - 1);
    for (const r of losers) {
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain('har@3 is already registered with different content');
    }
    const winner = JSON.parse(winners[0]?.stdout ?? '[]') as { digest: string; status: string }[];
    expect(winner[0]?.status).toBe('created');

    const stored = await spawnCli(['describe', 'har@3', '-o', 'json'], { home });
    const record = JSON.parse(stored.stdout) as { specDigest: string; description: { metadata: { description: string } } };
    expect(record.specDigest).toBe(winner[0]?.digest);
    const winningFile = files[results.indexOf(winners[0]!)]!;
    const again = await spawnCli(['register', winningFile, '-o', 'json'], { home, cwd: dir.path });
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { status: string }[])[0]?.status).toBe('unchanged');
  });
});
