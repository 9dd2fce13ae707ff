import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'vitest';
import { tempDir } from '../support/cli.js';
import { startKubeEnv, trainExampleModel } from '../support/kube-target.js';

it('probe', async () => {
  const work = tempDir('probe-');
  const model = trainExampleModel(join(work.path, 'model'));
  const e = await startKubeEnv(model, { namespaces: ['ml'] });
  const r = await e.maas(['deploy', 'har-classifier@1', '--target', 'kubernetes', '-n', 'ml', '--dry-run', '-o', 'yaml']);
  console.log(r.code, r.stderr, r.stdout.slice(0, 300));
  const out = await new Promise<string>((res) => {
    const c = spawn('kubectl', ['apply', '--server-side', '--field-manager=kubectl-test', '--validate=false', '-f', '-'], { env: { ...process.env, KUBECONFIG: e.kubeconfig } });
    let o = '';
    c.stdout.on('data', (d) => (o += d));
    c.stderr.on('data', (d) => (o += d));
    c.on('close', (code) => res(`${code} ${o}`));
    c.stdin.end(r.stdout);
  });
  console.log(out);
  for (const q of e.fake.requests) console.log(q.method, q.path, q.query, q.status, q.contentType);
  await e.close();
});
