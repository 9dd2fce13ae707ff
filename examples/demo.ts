// `npm run demo`: the whole local lifecycle on a fresh MAAS_HOME, printed as a user would see it:
// generate -> train -> validate -> register -> search -> deploy -> predict -> feedback -> drift ->
// retrain, compare, rollout, rollback -> status -> decommission (two consumers) -> purge; then a
// composition: three models trained on different people and devices behind one endpoint.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompositionStatsWire } from '../src/protocol/composition-stats.js';
import { readLabelledCsv } from './har/train.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'examples', 'out', 'demo');
const home = join(out, 'maas-home');
const bin = join(root, 'bin', 'maas.js');
const rel = (p: string) => relative(root, p);

const env: NodeJS.ProcessEnv = { ...process.env, MAAS_HOME: home, NO_COLOR: '1' };
delete env.FORCE_COLOR;

function banner(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

/** Exit code of the last command run. */
let lastExit = 0;

function run(display: string, command: string, args: string[], opts: { quiet?: boolean; allowFail?: boolean } = {}): string {
  process.stdout.write(`$ ${display}\n`);
  const r = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  lastExit = r.status ?? 1;
  if (!opts.quiet) {
    if (r.stdout) process.stdout.write(r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`);
    if (r.stderr) process.stdout.write(r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n`);
  }
  if (r.status !== 0 && !opts.allowFail) {
    if (opts.quiet) process.stdout.write(`${r.stdout}${r.stderr}`);
    throw new Error(`step failed (exit ${r.status ?? r.signal}): ${display}`);
  }
  return r.stdout;
}

function maas(args: string[], opts: { quiet?: boolean; allowFail?: boolean } = {}): string {
  return run(`maas ${args.join(' ')}`, process.execPath, [bin, ...args], opts);
}

function node(script: string, args: string[]): string {
  return run(`node ${script} ${args.join(' ')}`, process.execPath, [join(root, script), ...args]);
}

let deployment: string | undefined;
/** The composition applied by step 12, until it is deleted. */
let composition: string | undefined;

function main(): void {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const data = join(out, 'har');
  process.stdout.write(`maas demo (MAAS_HOME=${rel(home)})\n`);

  banner('1. generate a human-activity dataset and requests');
  node('dist/examples/har/generate.js', [
    '--out',
    rel(join(data, 'train.csv')),
    '--rows',
    '6000',
    '--seed',
    '1',
    '--requests',
    rel(join(data, 'requests.json')),
    '--request-rows',
    '20',
    '--request-labels',
    rel(join(data, 'requests.labels.json')),
  ]);

  banner('2. train a classifier and export it to ONNX with its description');
  node('dist/examples/har/train.js', ['--data', rel(join(data, 'train.csv')), '--out', rel(data), '--version', '1']);
  const description = rel(join(data, 'model.yaml'));

  banner('3. validate and register');
  maas(['validate', description]);
  maas(['register', description]);
  maas(['register', description]);
  maas(['list']);
  maas(['profile', 'show', 'har-classifier@1']);

  banner('4. find it by capability');
  maas(['search', '--kind', 'classification', '--feature', 'acc_x_mean:number', '--min', 'accuracy=0.85', '--max-cpu', '1', '--max-memory', '512Mi']);
  maas(['describe', 'har-classifier@1']);

  banner('5. deploy locally (two consumers share one deployment)');
  const deployed = JSON.parse(maas(['deploy', 'har-classifier@1', '--consumer', 'alice', '-o', 'json'], { quiet: true })) as {
    id: string;
    endpoint: string;
    state: string;
  };
  deployment = deployed.id;
  process.stdout.write(`deployment ${deployed.id} is ${deployed.state} at ${deployed.endpoint}\n`);
  maas(['deploy', 'har-classifier@1', '--consumer', 'bob']);

  banner('6. predict');
  const requests = JSON.parse(readFileSync(join(data, 'requests.json'), 'utf8')) as unknown[];
  const labels = JSON.parse(readFileSync(join(data, 'requests.labels.json'), 'utf8')) as string[];
  const firstFive = join(data, 'requests-5.json');
  writeFileSync(firstFive, JSON.stringify(requests.slice(0, 5)));
  maas(['predict', deployment, '--data', rel(firstFive)]);
  const ids = maas(['predict', deployment, '--data', rel(join(data, 'requests.json')), '-o', 'name'], { quiet: true })
    .trim()
    .split('\n');
  process.stdout.write(`(${ids.length} more predictions logged)\n`);

  banner('7. send ground truth back');
  const feedback = join(data, 'feedback.csv');
  maas(['feedback', deployment, '--id', ids[0] ?? '', '--label', labels[0] ?? 'walking']);
  writeFileSync(
    feedback,
    `id,label\n${ids
      .slice(1)
      .map((id, i) => `${id},${labels[i + 1] ?? ''}`)
      .join('\n')}\n`,
  );
  maas(['feedback', deployment, '--file', rel(feedback)]);

  banner('8. watch drift: batches against the stored profile, then the live window');
  const batch = (name: string, seed: number, extra: string[] = []): string => {
    const file = join(data, name);
    node('dist/examples/har/generate.js', ['--out', rel(file), '--rows', '1000', '--seed', String(seed), ...extra]);
    return rel(file);
  };
  const steady = batch('batch-steady.csv', 7);
  const shifted = batch('batch-shifted.csv', 8, ['--shift', '1']);
  maas(['drift', 'check', '--model', 'har-classifier@1', '--current', steady, '--fail-on-drift']);
  maas(['drift', 'check', '--model', 'har-classifier@1', '--current', shifted, '--fail-on-drift'], { allowFail: true });
  if (lastExit !== 3) throw new Error(`expected the shifted batch to fail the check with exit code 3, got ${lastExit}`);
  process.stdout.write('(exit code 3: drift found, so a CI step with --fail-on-drift stops here)\n');
  // Live: the server checks its own window. First traffic like the training data...
  const live = (name: string, seed: number, extra: string[]): void => {
    const requestsFile = join(data, `${name}.json`);
    const labelsFile = join(data, `${name}.labels.json`);
    node('dist/examples/har/generate.js', [
      '--requests',
      rel(requestsFile),
      '--request-rows',
      '600',
      '--request-labels',
      rel(labelsFile),
      '--seed',
      String(seed),
      ...extra,
    ]);
    const liveIds = maas(['predict', deployment!, '--data', rel(requestsFile), '-o', 'name'], { quiet: true })
      .trim()
      .split('\n');
    const truth = JSON.parse(readFileSync(labelsFile, 'utf8')) as string[];
    const file = join(data, `${name}.feedback.csv`);
    writeFileSync(file, `id,label\n${liveIds.map((id, i) => `${id},${truth[i] ?? ''}`).join('\n')}\n`);
    maas(['feedback', deployment!, '--file', rel(file)], { quiet: true });
    process.stdout.write(`(${liveIds.length} ${name} predictions with their ground truth sent)\n`);
  };
  live('steady', 11, []);
  maas(['drift', 'check', deployment]);
  // ...then a miscalibrated sensor and a changed concept (movements no longer mean what they did).
  live('changed', 12, ['--shift', '1', '--label-shift']);
  const report = join(out, 'drift.html');
  maas(['drift', 'check', deployment, '--report', rel(report)]);
  process.stdout.write(`open ${rel(report)} in a browser for the per-feature plots and the accuracy timeline\n`);

  banner('9. retrain on the feedback, compare with the serving version, roll out, roll back');
  // A fresh stream of the changed world, to measure accuracy before and after (never fed back).
  const evalRequests = join(data, 'eval.json');
  const evalLabels = join(data, 'eval.labels.json');
  node('dist/examples/har/generate.js', [
    '--requests',
    rel(evalRequests),
    '--request-rows',
    '500',
    '--request-labels',
    rel(evalLabels),
    '--seed',
    '13',
    '--shift',
    '1',
    '--label-shift',
  ]);
  const accuracy = (): number => {
    const answer = JSON.parse(maas(['predict', deployment!, '--data', rel(evalRequests), '-o', 'json'], { quiet: true })) as {
      outputs: { name: string; data: string[] }[];
    };
    const predicted = answer.outputs.find((o) => o.name === 'label')?.data ?? [];
    const truth = JSON.parse(readFileSync(evalLabels, 'utf8')) as string[];
    return predicted.filter((p, i) => p === truth[i]).length / Math.max(1, truth.length);
  };
  const before = accuracy();
  process.stdout.write(`accuracy of har-classifier@1 on 500 new rows of the changed stream: ${before.toFixed(3)}\n`);
  maas(['retrain', deployment, '--feedback']);
  const after = accuracy();
  process.stdout.write(`accuracy after the rollout on the same rows: ${after.toFixed(3)} (before ${before.toFixed(3)})\n`);
  if (!(after > before)) throw new Error(`retraining did not improve accuracy on the changed stream (${before.toFixed(3)} -> ${after.toFixed(3)})`);
  maas(['history', deployment]);
  maas(['rollback', deployment]);
  maas(['history', deployment]);

  banner('10. status');
  maas(['status', deployment]);
  maas(['ps']);

  banner('11. decommission: each consumer releases it; the last one caches it; purge destroys it');
  maas(['decommission', deployment, '--consumer', 'bob']);
  maas(['decommission', deployment, '--consumer', 'alice']);
  maas(['ps']);
  maas(['decommission', deployment, '--purge']);
  deployment = undefined;
  maas(['ps']);

  banner('12. compose: three classifiers trained on different people and devices behind one endpoint');
  const ensemble = join(out, 'har-ensemble');
  node('dist/examples/har-ensemble/build.js', ['--out', rel(ensemble), '--request-rows', '8', '--request-id', 'heldout']);
  maas(['register', ...['har-wrist', 'har-pocket', 'har-belt'].map((m) => rel(join(ensemble, m, 'model.yaml')))]);
  maas(['compose', 'apply', rel(join(ensemble, 'composition.yaml'))]);
  composition = 'har-ensemble';
  // The composition's name stands for its router: predictions are the members' mean probabilities.
  maas(['predict', composition, '--data', rel(join(ensemble, 'requests.json')), '--request-id', 'heldout']);
  // Their truth (feedback.csv holds it under the ids heldout:0 ... heldout:7): scored for the
  // composition and each member, and forwarded to the members under their own prediction ids.
  maas(['feedback', composition, '--file', rel(join(ensemble, 'feedback.csv'))]);
  // More of the held-out stream with its truth, so that the measurements mean something.
  const heldout = readLabelledCsv(readFileSync(join(ensemble, 'heldout.csv'), 'utf8'));
  const more = { from: 8, to: 408 };
  const moreFile = join(ensemble, 'more.json');
  writeFileSync(moreFile, JSON.stringify(heldout.X.slice(more.from, more.to).map((x) => Object.fromEntries(heldout.features.map((f, j) => [f, x[j]])))));
  const moreIds = maas(['predict', composition, '--data', rel(moreFile), '-o', 'name'], { quiet: true })
    .trim()
    .split('\n');
  const moreFeedback = join(ensemble, 'more.feedback.csv');
  writeFileSync(moreFeedback, `id,label\n${moreIds.map((id, i) => `${id},${heldout.y[more.from + i] ?? ''}`).join('\n')}\n`);
  maas(['feedback', composition, '--file', rel(moreFeedback)], { quiet: true });
  process.stdout.write(`(${moreIds.length} more held-out rows predicted through the composition and their truth sent)\n`);
  maas(['compose', 'status', composition]);
  const status = JSON.parse(maas(['compose', 'status', composition, '-o', 'json'], { quiet: true })) as {
    measurements: CompositionStatsWire | null;
  };
  const m = status.measurements;
  if (!m) throw new Error('the router answered no measurements');
  const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)} %`);
  process.stdout.write(
    `(-o json) composition accuracy ${pct(m.quality.accuracy)} on ${m.quality.labelled} labelled; ` +
      `members: ${m.members.map((x) => `${x.key} reliability ${pct(x.reliability)}, accuracy ${pct(x.quality.accuracy)}, agreement ${pct(x.agreement.rate)}`).join('; ')}\n`,
  );
  // A member that misses its deadline on a slow machine is left out of that answer; the composition still answers.
  const labelled = 8 + moreIds.length;
  if (m.quality.labelled !== labelled || m.members.some((x) => !x.reliability))
    throw new Error(`expected ${labelled} labelled predictions and answers from every member, got ${JSON.stringify(m)}`);
  maas(['compose', 'delete', composition, '--purge']);
  composition = undefined;
  maas(['compose', 'list']);
  maas(['ps']);
  process.stdout.write('\ndemo finished\n');
}

try {
  main();
} catch (e) {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
} finally {
  if (deployment) spawnSync(process.execPath, [bin, 'decommission', deployment, '--purge', '--force'], { env, stdio: 'ignore' });
  if (composition) spawnSync(process.execPath, [bin, 'compose', 'delete', composition, '--purge'], { env, stdio: 'ignore' });
}
