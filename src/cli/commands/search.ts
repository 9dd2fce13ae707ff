// `maas search`: find registered models by what they can do, ranked, with the reasons each one
// matched and (with --explain) the near misses and what excluded them.
import type { Program, Run } from '../program.js';
import { collect } from '../flags.js';
import type { Style } from '../output.js';
import { MaasError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { cpuMillis, memoryBytes } from '../../domain/quantity.js';
import type { FeatureType, TaskKind } from '../../spec/schema.js';
// The light copy of the task list: the schema module would load the JSON Schema library at startup.
import { SEARCH_TASKS as TASK_KINDS } from '../../registry/search/tasks.js';
import { closest } from '../../spec/suggest.js';
import { isLowerBetter } from '../../registry/search/metric-direction.js';
import type { SearchHit, SearchRequest, SearchResult } from '../../domain/model.js';

interface SearchOptions {
  kind?: string;
  task?: string;
  feature?: string[];
  min?: string[];
  max?: string[];
  maxCpu?: string;
  maxMemory?: string;
  maxGpu?: string;
  maxLatency?: string;
  label?: string[];
  algorithm?: string;
  text?: string;
  allVersions?: boolean;
  limit?: string;
  explain?: boolean;
}

// No default value for repeatable flags keeps `(default: [])` out of the help text.

function usage(message: string, hint: string): MaasError {
  return new MaasError('USAGE', message, { hint });
}

function pairs(values: string[], flag: string, example: string): [string, string][] {
  return values.map((v) => {
    const at = v.indexOf('=');
    if (at <= 0) throw usage(`${flag} expects KEY=VALUE, got "${v}"`, `e.g. ${flag} ${example}`);
    return [v.slice(0, at).trim(), v.slice(at + 1).trim()];
  });
}

function number(text: string): number | undefined {
  const n = Number(text);
  return text.trim() === '' || !Number.isFinite(n) ? undefined : n;
}

/** Turns the flags into a SearchRequest; every bad value is a USAGE error that says what is expected. */
export function searchRequest(words: string[], options: SearchOptions): SearchRequest {
  const o = { ...options, feature: options.feature ?? [], min: options.min ?? [], label: options.label ?? [] };
  const request: SearchRequest = { latestOnly: o.allVersions !== true, explain: o.explain === true };
  if (o.kind !== undefined && o.task !== undefined && o.kind !== o.task)
    throw usage(`--kind ${o.kind} and --task ${o.task} disagree`, '--kind and --task are the same filter; give one');
  const task = o.task ?? o.kind;
  if (task !== undefined) {
    if (!(TASK_KINDS as readonly string[]).includes(task)) {
      const near = closest(task, TASK_KINDS);
      throw usage(`unknown task "${task}"${near ? ` (did you mean ${near}?)` : ''}`, `use one of: ${TASK_KINDS.join(', ')}`);
    }
    request.task = task as TaskKind;
  }
  if (o.feature.length) {
    request.features = o.feature.map((f) => {
      const colon = f.indexOf(':');
      const name = (colon === -1 ? f : f.slice(0, colon)).trim();
      if (!name) throw usage(`--feature expects NAME or NAME:TYPE, got "${f}"`, 'e.g. --feature acc_x_mean:number');
      return colon === -1 ? { name } : { name, type: f.slice(colon + 1).trim() as FeatureType };
    });
  }
  for (const [metric, value] of pairs(o.max ?? [], '--max', 'rmse=0.5')) {
    // A ceiling only makes sense for metrics that are better when lower.
    if (!isLowerBetter(metric)) throw usage(`--max ${metric}=${value}: ${metric} is better when higher`, `use --min ${metric}=${value} for a floor`);
    const n = number(value);
    if (n === undefined) throw usage(`--max ${metric}=${value}: "${value}" is not a number`, 'e.g. --max rmse=0.5');
    (request.minMetrics ??= {})[metric] = n;
  }
  if (o.min.length) {
    request.minMetrics ??= {};
    for (const [metric, value] of pairs(o.min, '--min', 'accuracy=0.9')) {
      const n = number(value);
      if (n === undefined) {
        throw usage(
          `--min ${metric}=${value}: "${value}" is not a number`,
          'e.g. --min accuracy=0.9; for error metrics (rmse, mae, loss, ...) the value is a ceiling',
        );
      }
      request.minMetrics[metric] = n;
    }
  }
  if (o.maxCpu !== undefined) {
    const m = cpuMillis(o.maxCpu);
    if (m === undefined) throw usage(`--max-cpu expects a CPU quantity, got "${o.maxCpu}"`, 'e.g. --max-cpu 500m or --max-cpu 2');
    request.maxCpuMillis = m;
  }
  if (o.maxMemory !== undefined) {
    const b = memoryBytes(o.maxMemory);
    if (b === undefined) throw usage(`--max-memory expects a memory quantity, got "${o.maxMemory}"`, 'e.g. --max-memory 512Mi, 1Gi or 2G');
    request.maxMemoryBytes = b;
  }
  if (o.maxGpu !== undefined) {
    const n = number(o.maxGpu);
    if (n === undefined || n < 0 || !Number.isInteger(n))
      throw usage(`--max-gpu expects a whole number, got "${o.maxGpu}"`, 'e.g. --max-gpu 0 for CPU-only models');
    request.maxGpu = n;
  }
  if (o.maxLatency !== undefined) {
    // A bare number is milliseconds (the unit of spec.qos.latencyMs); `250ms`, `1s` also work.
    const bare = number(o.maxLatency);
    let ms = bare;
    if (bare === undefined) {
      try {
        ms = /^\s*\d+(\.\d+)?\s*(ms|s|m)\s*$/.test(o.maxLatency) ? parseDuration(o.maxLatency.trim(), '--max-latency') : undefined;
      } catch {
        ms = undefined;
      }
    }
    if (ms === undefined || ms < 0)
      throw usage(`--max-latency expects milliseconds or a duration, got "${o.maxLatency}"`, 'e.g. --max-latency 50, 250ms or 1s');
    request.maxLatencyMs = ms;
  }
  if (o.label.length) request.labels = Object.fromEntries(pairs(o.label, '--label', 'team=vision'));
  if (o.algorithm !== undefined) request.algorithm = o.algorithm;
  const text = [o.text, ...words].filter((t): t is string => t !== undefined && t.trim() !== '').join(' ');
  if (text) request.text = text;
  if (o.limit !== undefined) {
    const n = number(o.limit);
    if (n === undefined || n < 1 || !Number.isInteger(n)) throw usage(`--limit expects a positive whole number, got "${o.limit}"`, 'e.g. --limit 50');
    request.limit = n;
  }
  return request;
}

function why(hit: SearchHit, full: boolean): string {
  if (full || hit.reasons.length <= 3) return hit.reasons.join('; ');
  return `${hit.reasons.slice(0, 3).join('; ')}; +${hit.reasons.length - 3} more`;
}

function nearMissText(result: SearchResult, style: Style): string {
  const misses = result.nearMisses;
  if (!misses) return '';
  if (misses.length === 0) return style.dim('no near misses: nothing in scope fails exactly one requirement');
  const width = Math.max(...misses.map((m) => m.name.length + m.version.length + 1));
  return [
    style.bold('Near misses (fail exactly one requirement):'),
    ...misses.map((m) => `  ${`${m.name}@${m.version}`.padEnd(width)}  ${style.red(m.failed.join('; '))}`),
  ].join('\n');
}

export function define(program: Program, run: Run): void {
  program
    .command('search')
    .argument('[query...]')
    .description('find registered models by task, features, metrics, resources, labels and free text, best first')
    .option('--task <task>', 'task kind (classification, regression, ...)')
    .option('--kind <task>', 'same as --task')
    .option('--feature <name[:type]>', 'required input feature, optionally with its type (repeatable)', collect)
    .option('--min <metric=value>', 'metric floor, e.g. accuracy=0.9; a ceiling for error metrics like rmse (repeatable)', collect)
    .option('--max <metric=value>', 'metric ceiling for error metrics, e.g. rmse=0.5 (repeatable)', collect)
    .option('--max-cpu <quantity>', 'serving CPU ceiling, e.g. 500m or 2')
    .option('--max-memory <quantity>', 'serving memory ceiling, e.g. 512Mi')
    .option('--max-gpu <n>', 'serving GPU ceiling')
    .option('--max-latency <ms>', 'advertised latency ceiling in milliseconds')
    .option('--label <key=value>', 'required label (repeatable)', collect)
    .option('--algorithm <name>', 'learning algorithm, e.g. RandomForest (any case)')
    .option('-t, --text <words>', 'free text over names, descriptions, algorithms, labels and feature names')
    .option('--all-versions', 'search every version, not only the latest of each model')
    .option('--limit <n>', 'most results to show (default 20)')
    .option('--explain', 'also show near misses and the requirement that excluded each')
    .action(
      run(async (ctx, words, opts) => {
        const request = searchRequest(words, opts);
        const api = await ctx.remote();
        const result = api ? await api.searchModels(request) : await (await import('../../app/search.js')).searchModels(await ctx.services(), request);
        const full = ctx.output === 'wide';
        const notes: string[] = [];
        for (const m of result.unknownMetrics ?? [])
          notes.push(`no registered model reports the metric "${m.name}"${m.suggestion === undefined ? '' : ` (did you mean ${m.suggestion}?)`}`);
        if (result.total > result.hits.length) notes.push(`showing ${result.hits.length} of ${result.total} matches; raise --limit to see more`);
        return {
          data: result,
          names: result.hits.map((h) => `${h.name}@${h.version}`),
          notes,
          table: {
            rows: result.hits,
            empty: `no model matches (${result.scanned} ${request.latestOnly === false ? 'version' : 'model'}${result.scanned === 1 ? '' : 's'} searched)${request.explain ? '' : '; --explain shows near misses'}`,
            columns: [
              { header: 'model', value: (h: SearchHit) => h.name },
              { header: 'version', value: (h: SearchHit) => h.version },
              { header: 'task', value: (h: SearchHit) => h.task },
              { header: 'algorithm', value: (h: SearchHit) => h.algorithm },
              { header: 'score', value: (h: SearchHit) => h.score.toFixed(3) },
              { header: 'why', value: (h: SearchHit) => why(h, full) },
              { header: 'registered', value: (h: SearchHit) => h.registeredAt, wide: true },
            ],
          },
          ...(result.nearMisses ? { text: (style: Style) => nearMissText(result, style) } : {}),
        };
      }),
    );
}
