// Builds the commander program, wires global options, runs the chosen command and renders it.
import { Command, CommanderError, Option } from 'commander';
import { Chalk } from 'chalk';
import { resolve } from 'node:path';
import type { Io } from './io.js';
import { OUTPUT_FORMATS, isMachineFormat, renderResult, type CommandResult, type OutputFormat } from './output.js';
import type { Context, GlobalOptions, Spinner } from './context.js';
import { MaasError, toMaasError, EXIT } from '../core/errors.js';
import { resolveHome } from '../core/home.js';
import { loadConfig, type MaasConfig } from '../core/config.js';
import { systemClock } from '../core/clock.js';
import { packageVersion } from './main.js';
import type { Registry } from '../domain/model.js';
import { COMMANDS } from './commands/index.js';
import type { Problem } from '../domain/problem.js';
import { formatProblem } from './problem-view.js';

export type Handler<A extends unknown[]> = (ctx: Context, ...args: A) => Promise<CommandResult>;

/** Wraps a handler as a commander action; `A` is the positional arguments plus the options object. */
export type Run = <A extends unknown[]>(handler: Handler<A>) => (...args: unknown[]) => Promise<void>;

type AnyHandler = (ctx: Context, ...args: unknown[]) => Promise<CommandResult>;

export interface CommandModule {
  define(program: Command, run: Run): void;
}

interface Pending {
  result?: CommandResult;
  ctx?: Context;
}

function wantsColor(io: Io, globals: { color?: boolean; output?: string }): boolean {
  if (globals.color === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR && io.env.FORCE_COLOR !== '0') return true;
  if (globals.output && isMachineFormat(globals.output as OutputFormat)) return false;
  return io.stdout.isTTY === true;
}

function isOutputFormat(v: string | undefined): v is OutputFormat {
  return v !== undefined && (OUTPUT_FORMATS as readonly string[]).includes(v);
}

/** `repairing`: the config commands still run with a broken config value, so it can be fixed. */
async function makeContext(io: Io, raw: Record<string, unknown>, closers: (() => void | Promise<void>)[], repairing = false): Promise<Context> {
  const home = resolveHome(io.env, io.cwd, raw.home as string | undefined);
  const config: MaasConfig = await loadConfig(home.configFile);
  const fromConfig = repairing && !isOutputFormat(config.output) ? undefined : config.output;
  const outputRaw = (raw.output as string | undefined) ?? io.env.MAAS_OUTPUT ?? fromConfig ?? 'table';
  if (!isOutputFormat(outputRaw)) {
    const where = raw.output !== undefined ? '-o' : io.env.MAAS_OUTPUT !== undefined ? 'MAAS_OUTPUT' : `"output" in ${home.configFile}`;
    throw new MaasError('USAGE', `unknown output format "${outputRaw}" (from ${where})`, {
      hint: `use one of: ${OUTPUT_FORMATS.join(', ')}${where.startsWith('"output"') ? '; fix it with `maas config set output table`' : ''}`,
    });
  }
  const output = outputRaw;
  const globals: GlobalOptions = {
    output,
    color: wantsColor(io, { color: raw.color as boolean | undefined, output }),
    quiet: raw.quiet === true,
    yes: raw.yes === true,
    home: raw.home as string | undefined,
    kubeconfig: (raw.kubeconfig as string | undefined) ?? config.kubernetes?.kubeconfig,
    context: (raw.context as string | undefined) ?? config.kubernetes?.context,
    namespace: (raw.namespace as string | undefined) ?? config.kubernetes?.namespace,
  };
  const style = new Chalk({ level: globals.color ? 1 : 0 });
  const ci = io.env.CI !== undefined && io.env.CI !== '' && io.env.CI !== 'false';
  const interactive = io.stderr.isTTY === true && io.stdin.isTTY === true && !ci && !isMachineFormat(output);
  let registry: Promise<Registry> | undefined;
  const ctx: Context = {
    io,
    globals,
    output,
    style,
    home,
    config,
    clock: systemClock,
    interactive,
    registry() {
      registry ??= import('../registry/open.js').then(async ({ openRegistry }) => {
        const r = await openRegistry(home);
        closers.push(() => r.close());
        return r;
      });
      return registry;
    },
    async spinner(text: string): Promise<Spinner> {
      if (!interactive || globals.quiet) {
        return { update() {}, succeed() {}, fail() {}, stop() {} };
      }
      const { default: ora } = await import('ora');
      const s = ora({ text, stream: io.stderr as NodeJS.WritableStream, color: 'cyan' }).start();
      closers.push(() => {
        if (s.isSpinning) s.stop();
      });
      return {
        update: (t) => {
          s.text = t;
        },
        succeed: (t) => void s.succeed(t),
        fail: (t) => void s.fail(t),
        stop: () => void s.stop(),
      };
    },
    info(message: string) {
      if (!globals.quiet && !isMachineFormat(output)) io.stderr.write(`${message}\n`);
    },
    onClose(fn) {
      closers.push(fn);
    },
    resolvePath(p: string) {
      return resolve(io.cwd, p);
    },
  };
  return ctx;
}

export function buildProgram(io: Io, pending: Pending, closers: (() => void | Promise<void>)[]): Command {
  const program = new Command('maas');
  program
    .description('Describe, register, find, deploy, serve and keep ML models healthy.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS as unknown as string[]))
    .option('--no-color', 'disable colours (also NO_COLOR)')
    .option('-q, --quiet', 'print only results, no progress')
    .option('-y, --yes', 'answer yes to prompts; never prompt')
    .option('--home <dir>', 'maas home directory (default $MAAS_HOME or ~/.maas)')
    .option('--kubeconfig <file>', 'kubeconfig file (Kubernetes target)')
    .option('--context <name>', 'kubeconfig context (Kubernetes target)')
    .option('-n, --namespace <name>', 'Kubernetes namespace')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: () => {
        // Rendered by our own error handler so every error looks the same.
      },
    });

  const run: Run = (typed) => async (...args: unknown[]) => {
    const handler = typed as unknown as AnyHandler;
    const command = args[args.length - 1] as Command;
    const ctx = await makeContext(io, command.optsWithGlobals(), closers, command.parent?.name() === 'config');
    pending.ctx = ctx;
    // Commander passes (positionals..., options, command); handlers get (ctx, positionals..., options).
    pending.result = await handler(ctx, ...args.slice(0, -1));
  };
  for (const mod of COMMANDS) mod.define(program, run);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

function printError(io: Io, err: MaasError, raw: string[], colorOk: boolean): void {
  const machine = raw.some((a, i) => (a === '-o' || a === '--output') && (raw[i + 1] === 'json' || raw[i + 1] === 'yaml')) || raw.includes('--output=json') || raw.includes('-ojson');
  if (machine) {
    io.stderr.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
    return;
  }
  const style = new Chalk({ level: colorOk ? 1 : 0 });
  io.stderr.write(`${style.red('error:')} ${err.message}\n`);
  const details = err.details as { problems?: unknown } | undefined;
  if (Array.isArray(details?.problems)) {
    for (const p of details.problems as Problem[]) io.stderr.write(formatProblem(p, style));
  }
  if (err.hint) io.stderr.write(`${style.dim('hint:')} ${err.hint}\n`);
  if (io.env.MAAS_DEBUG && err.cause instanceof Error && err.cause.stack) io.stderr.write(`${style.dim(err.cause.stack)}\n`);
}

function commanderToMaas(e: CommanderError): MaasError | 'done' {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 'done';
  if (e.code === 'commander.executeSubCommandAsync') return 'done';
  const message = e.message.replace(/^error:\s*/, '');
  return new MaasError('USAGE', message, { hint: 'see `maas --help` or `maas <command> --help`' });
}

export async function runProgram(argv: string[], io: Io): Promise<number> {
  const pending: Pending = {};
  const closers: (() => void | Promise<void>)[] = [];
  const colorOk = wantsColor(io, { color: !argv.includes('--no-color') });
  try {
    const program = buildProgram(io, pending, closers);
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.USAGE;
    }
    await program.parseAsync(argv, { from: 'user' });
    const ctx = pending.ctx;
    const result = pending.result;
    if (!ctx || !result) return EXIT.OK;
    await renderResult(result, ctx.output, io.stdout, io.stderr, ctx.style);
    return result.exitCode ?? EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      const m = commanderToMaas(e);
      if (m === 'done') return EXIT.OK;
      printError(io, m, argv, colorOk);
      return m.exitCode;
    }
    const err = toMaasError(e);
    printError(io, err, argv, colorOk);
    return err.exitCode;
  } finally {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch {
        // Cleanup must not mask the command's own outcome.
      }
    }
  }
}
