// Train and register: run a version's training program on assembled data (locally or as a
// Kubernetes Job), then register what it wrote into its output directory exactly as `maas
// register` does (schema, semantics, the artifact opened in its runtime), with the version's
// lineage, in one all-or-nothing step. A run that fails, or output that is not a valid
// description of name@requested-version with its artifact, registers nothing. (The artifact
// store is content-addressed: a blob stored before a refused registration is unreferenced and
// goes with the next `maas gc`; the registry itself never holds part of a version.) A version
// trained in the cluster (job.inCluster) trained on data that stayed on its node: its reference
// profile is the one the Job computed there (IN_CLUSTER_PROFILE_FILE beside the produced files), and
// the training data its description names is not read here.
import { join } from 'node:path';
import { isoNow } from '../core/clock.js';
import { MaasError } from '../core/errors.js';
import type { Problem } from '../domain/problem.js';
import type { LineageInput, ModelLineage, RetrainTrigger, TrainingIo, TrainingJob, TrainingOutcome } from '../domain/training.js';
import { IN_CLUSTER_PROFILE_FILE } from '../retrain/in-cluster.js';
import { register, type RegisteredVersion, type TrainedElsewhere } from './register.js';
import type { Services } from './services.js';

export interface TrainAndRegisterRequest {
  job: TrainingJob;
  trigger: RetrainTrigger;
  /** The data the run trained on (digests and row counts), as the caller assembled it. */
  inputs: LineageInput[];
  feedbackWindow?: { since?: string; until?: string };
  /** Inputs known only after the run (a Job that assembled the data itself); replaces inputs and window. */
  complete?: (training: TrainingOutcome) => { inputs: LineageInput[]; feedbackWindow?: { since?: string; until?: string } };
}

export interface TrainAndRegisterResult {
  registered: RegisteredVersion;
  training: TrainingOutcome;
  lineage: ModelLineage;
  /** Absolute path of the description the program wrote. */
  descriptionFile: string;
}

type TrainServices = Pick<Services, 'models' | 'artifacts' | 'datasets' | 'clock'> & Partial<Pick<Services, 'inspectArtifact' | 'training'>>;

function problemsOf(e: MaasError): Problem[] {
  const p = (e.details as { problems?: unknown } | undefined)?.problems;
  return Array.isArray(p) ? (p as Problem[]) : [];
}

/**
 * What an in-cluster run returned about its training data: the profile file of the out dir, parsed
 * (checked against the description by register), or no profile when the Job computed none.
 */
async function inClusterProfile(outDir: string): Promise<TrainedElsewhere> {
  const from = join(outDir, IN_CLUSTER_PROFILE_FILE);
  const { readProducedFile } = await import('../spec/produced.js');
  const text = await readProducedFile(outDir, IN_CLUSTER_PROFILE_FILE);
  if (text === undefined) return { from };
  try {
    return { profile: JSON.parse(text) as unknown, from };
  } catch (e) {
    throw new MaasError('VALIDATION', `the retraining Job returned a reference profile that is not JSON (${from}); nothing was registered`, { cause: e });
  }
}

export async function trainAndRegister(s: TrainServices, req: TrainAndRegisterRequest, io: TrainingIo): Promise<TrainAndRegisterResult> {
  const { job } = req;
  const { name, version: parentVersion } = job.description.metadata;
  if (!s.training) throw new MaasError('USAGE', 'training is not available in this invocation');
  const runner = await s.training.get(job.target);
  const training = await runner.train(job, io);

  const { findProducedDescription } = await import('../spec/produced.js');
  const file = await findProducedDescription(job.outDir);
  const descriptionFile = join(job.outDir, file);
  const known = req.complete ? req.complete(training) : { inputs: req.inputs, ...(req.feedbackWindow ? { feedbackWindow: req.feedbackWindow } : {}) };
  const lineage: ModelLineage = {
    parentVersion,
    trigger: req.trigger,
    inputs: known.inputs,
    ...(known.feedbackWindow ? { feedbackWindow: known.feedbackWindow } : {}),
    trainingSeconds: training.seconds,
    target: job.target,
    trainedAt: isoNow(s.clock),
  };
  // Not a description (findProducedDescription passes over JSON without kind: Model): read apart, registered with the version.
  const trainedElsewhere = job.inCluster ? await inClusterProfile(job.outDir) : undefined;
  let registered: RegisteredVersion[];
  try {
    registered = await register(s, {
      files: [file],
      cwd: job.outDir,
      lineage,
      ...(trainedElsewhere ? { trainedElsewhere } : {}),
      accept: (models) => {
        if (models.length !== 1) {
          throw new MaasError('VALIDATION', `${descriptionFile} holds ${models.length} model descriptions; the training program must write one`);
        }
        const m = models[0]!.description.metadata;
        if (m.name !== name || m.version !== job.version) {
          throw new MaasError('VALIDATION', `${descriptionFile} describes ${m.name}@${m.version}, but the run was to produce ${name}@${job.version}`, {
            hint: `the program must write metadata.name "${name}" and metadata.version from $VERSION ("${job.version}")`,
          });
        }
      },
    });
  } catch (e) {
    if (!(e instanceof MaasError)) throw e;
    const problems = problemsOf(e);
    const detail = problems.length > 0 ? `:\n${problems.map((p) => `  ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n')}` : `: ${e.message}`;
    throw new MaasError(e.code, `the training run produced no registrable model in ${descriptionFile}${detail}; nothing was registered`, {
      ...(e.hint ? { hint: e.hint } : {}),
      cause: e,
      details: { file: descriptionFile, ...(problems.length > 0 ? { problems } : {}), training },
    });
  }
  const outcome = registered[0]!;
  if (outcome.status === 'unchanged') {
    // Identical content was already registered: keep its lineage, if any, rather than rewrite it.
    const stored = await s.models.getLineage(name, job.version);
    return { registered: outcome, training, lineage: stored ?? lineage, descriptionFile };
  }
  return { registered: outcome, training, lineage, descriptionFile };
}
