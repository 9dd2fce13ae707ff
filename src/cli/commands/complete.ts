// `maas __complete [--] WORD...` (hidden): what the scripts of `maas completion` call on each TAB.
// The last word is the one being completed. Prints its candidates, one a line, then a directive
// line `:N`. Walks the command tree itself, so the scripts stay small and never go stale. It never
// fails loudly: on any error it prints nothing and the shell falls back to file names.
import { existsSync } from 'node:fs';
import type { CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import type { Services } from '../../app/services.js';
import { CONFIG_KEYS } from '../../core/config.js';
import { TARGET_NAMES } from '../../targets/plugins.js';
import { OUTPUT_FORMATS } from '../output.js';
import type { Program, Run } from '../program.js';

/** The last line, `:N`: 0 offer the candidates (files when none), 4 complete files, 8 directories. */
export const DIRECTIVE = { candidates: 0, files: 4, dirs: 8 } as const;
type Directive = (typeof DIRECTIVE)[keyof typeof DIRECTIVE];

export interface Answer {
  candidates: string[];
  directive: Directive;
}

/** Where candidates come from: fixed words, the file system, or the registry. */
type Source = readonly string[] | 'files' | 'dirs' | 'models' | 'model-names' | 'deployments';

/** Option values that have no commander `choices`, by long flag. */
const OPTION_SOURCES: Record<string, Source> = { '--target': TARGET_NAMES, '--model': 'model-names' };

/** Positional arguments, by name. */
const ARGUMENT_SOURCES: Record<string, Source> = { files: 'files', model: 'models', name: 'model-names', id: 'deployments', key: CONFIG_KEYS };

/** `maas config set KEY VALUE`: the values a key takes. */
const CONFIG_VALUES: Record<string, Source> = { output: OUTPUT_FORMATS, target: TARGET_NAMES, 'kubernetes.kubeconfig': 'files' };

/** What is being completed, found by walking the words through the command tree. */
export interface Position {
  command: CommandUnknownOpts;
  /** The current word, without a `--flag=` it started with. */
  current: string;
  /** Put back before every candidate (`--target=` when the word was `--target=lo`). */
  prefix: string;
  /** Taken off every candidate: what bash split off the word and does not replace (`name@`). */
  strip: string;
  /** The option whose value is the current word. */
  value?: Option;
  /** An option with an optional value right before: the word may be its value or a positional. */
  optionalValue?: Option;
  /** Completing a flag name. */
  flag: boolean;
  positionals: string[];
  /** Values given for the program's own options (`--home`), which decide the registry to read. */
  globals: Record<string, string>;
}

function findOption(command: CommandUnknownOpts, flag: string): Option | undefined {
  for (let c: CommandUnknownOpts | null = command; c; c = c.parent) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
}

const isFlag = (w: string): boolean => w.startsWith('-') && w !== '-';

export function locate(program: CommandUnknownOpts, words: readonly string[]): Position {
  const before = words.slice(0, -1);
  let current = words.at(-1) ?? '';
  // bash splits words at `=` and `@` (`--target=lo` is `--target`, `=`, `lo`): join them back.
  const args: string[] = [];
  let split = '';
  for (let i = 0; i < before.length; i++) {
    const w = before[i] as string;
    const last = args.at(-1);
    if (last !== undefined && ((w === '=' && isFlag(last)) || w === '@')) {
      if (i + 1 < before.length) args[args.length - 1] = `${last}${w}${before[++i] as string}`;
      else split = w;
    } else args.push(w);
  }
  // Completing after a split `@`: bash replaces only the part after it.
  let strip = '';
  if (split === '@') {
    strip = `${args.pop() ?? ''}@`;
    current = strip + current;
  }

  let command = program;
  const positionals: string[] = [];
  const globals: Record<string, string> = {};
  const given = (o: Option, v: string): void => {
    if (program.options.includes(o)) globals[o.attributeName()] = v;
  };
  let literal = false;
  let expecting: Option | undefined;
  let optional: Option | undefined;
  for (const w of args) {
    if (expecting) {
      given(expecting, w);
      expecting = undefined;
      continue;
    }
    if (optional) {
      const o = optional;
      optional = undefined;
      // commander takes the next word as the value; `deploy --dry-run` only takes a valid one.
      if (o.argChoices ? o.argChoices.includes(w) : !isFlag(w)) {
        given(o, w);
        continue;
      }
    }
    if (!literal && w === '--') {
      literal = true;
    } else if (!literal && isFlag(w)) {
      const eq = w.startsWith('--') ? w.indexOf('=') : -1;
      const o = findOption(command, eq > 0 ? w.slice(0, eq) : w);
      if (o && eq > 0) given(o, w.slice(eq + 1));
      else if (o?.required) expecting = o;
      else if (o?.optional) optional = o;
    } else {
      const sub = positionals.length === 0 ? command.commands.find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
      if (sub) command = sub;
      else positionals.push(w);
    }
  }

  const at = { command, positionals, globals, prefix: '', strip, flag: false };
  if (split === '=') {
    const o = findOption(command, args.at(-1) ?? '');
    return o ? { ...at, current, value: o } : { ...at, current };
  }
  if (expecting) return { ...at, current, value: expecting };
  if (!literal && current.startsWith('--') && current.includes('=')) {
    const eq = current.indexOf('=');
    const o = findOption(command, current.slice(0, eq));
    if (o) return { ...at, current: current.slice(eq + 1), prefix: current.slice(0, eq + 1), value: o };
  }
  if (!literal && current.startsWith('-')) return { ...at, current, flag: true };
  return optional ? { ...at, current, optionalValue: optional } : { ...at, current };
}

function valueName(o: Option): string {
  return /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? '';
}

function optionSource(o: Option): Source | undefined {
  if (o.argChoices) return o.argChoices;
  // `profile set --target <column>` names a data column, not a deploy target.
  const known = o.long !== undefined && valueName(o) !== 'column' ? OPTION_SOURCES[o.long] : undefined;
  if (known) return known;
  const name = valueName(o);
  if (name === 'file' || name === 'path') return 'files';
  if (name === 'dir') return 'dirs';
  return undefined;
}

function argumentSource(at: Position): Source | undefined {
  const args = at.command.registeredArguments;
  const last = args.at(-1);
  const arg = args[at.positionals.length] ?? (last?.variadic ? last : undefined);
  if (!arg) return undefined;
  if (arg.argChoices) return arg.argChoices;
  if (arg.name() === 'value' && at.command.parent?.name() === 'config') return CONFIG_VALUES[at.positionals[0] ?? ''];
  return ARGUMENT_SOURCES[arg.name()];
}

function flags(command: CommandUnknownOpts): string[] {
  const help = command.createHelp();
  const out = new Set<string>();
  for (let c: CommandUnknownOpts | null = command; c; c = c.parent) {
    for (const o of help.visibleOptions(c)) for (const f of [o.long, o.short]) if (f) out.add(f);
  }
  return [...out];
}

async function modelRefs(services: Services, current: string, versions: boolean): Promise<string[]> {
  const { listModels, listVersions } = await import('../../app/models.js');
  const at = current.indexOf('@');
  if (at >= 0) {
    const name = current.slice(0, at);
    return versions ? (await listVersions(services, name)).map((v) => `${name}@${v.version}`) : [];
  }
  const names = (await listModels(services)).map((m) => m.name).filter((n) => n.startsWith(current));
  // One model left: its versions too, so the next TAB offers name@version.
  const [only] = names;
  if (!versions || names.length !== 1 || only === undefined) return names;
  return [...names, ...(await listVersions(services, only)).map((v) => `${only}@${v.version}`)];
}

async function fromSource(source: Source | undefined, current: string, services: () => Promise<Services | undefined>): Promise<Answer> {
  const words = async (): Promise<readonly string[]> => {
    if (source === undefined || source === 'files' || source === 'dirs') return [];
    if (typeof source !== 'string') return source;
    const s = await services();
    if (!s) return [];
    if (source === 'deployments') return (await s.deployments.listDeployments()).map((d) => d.id);
    return modelRefs(s, current, source === 'models');
  };
  const directive = source === 'files' ? DIRECTIVE.files : source === 'dirs' ? DIRECTIVE.dirs : DIRECTIVE.candidates;
  return { candidates: (await words()).filter((w) => w.startsWith(current)), directive };
}

/** The candidates at a position; the registry is opened only for model names and deployment IDs. */
export async function complete(at: Position, services: () => Promise<Services | undefined>): Promise<Answer> {
  const a = await candidates(at, services);
  return at.strip ? { ...a, candidates: a.candidates.map((c) => c.slice(at.strip.length)) } : a;
}

async function candidates(at: Position, services: () => Promise<Services | undefined>): Promise<Answer> {
  if (at.flag) return { candidates: flags(at.command).filter((f) => f.startsWith(at.current)), directive: DIRECTIVE.candidates };
  if (at.value) {
    const a = await fromSource(optionSource(at.value), at.current, services);
    return { ...a, candidates: a.candidates.map((c) => at.prefix + c) };
  }
  if (at.positionals.length === 0 && at.command.commands.length > 0) {
    const names = at.command
      .createHelp()
      .visibleCommands(at.command)
      .map((c) => c.name());
    return { candidates: names.filter((n) => n.startsWith(at.current)), directive: DIRECTIVE.candidates };
  }
  const a = await fromSource(argumentSource(at), at.current, services);
  if (!at.optionalValue) return a;
  const values = (at.optionalValue.argChoices ?? []).filter((c) => c.startsWith(at.current));
  return { ...a, candidates: [...values, ...a.candidates] };
}

export function format(a: Answer): string {
  return [...a.candidates, `:${a.directive}`].join('\n');
}

export function define(program: Program, run: Run): void {
  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .description('print completion candidates for the last word (used by the completion scripts)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (words, _opts, command) => {
      try {
        const at = locate(program, words);
        // The completed line's own `--home` decides which registry is read; the answer is always plain lines.
        for (const [key, value] of Object.entries(at.globals)) program.setOptionValue(key, value);
        program.setOptionValue('output', 'table');
        await run(async (ctx) => {
          // A home that does not exist yet has nothing to offer, and completing must not create it.
          const answer = await complete(at, async () => (existsSync(ctx.home.root) ? ctx.services() : undefined));
          return { data: answer, text: () => format(answer) };
        })(command);
      } catch {
        // Nothing printed: the shell offers file names instead.
      }
    });
}
