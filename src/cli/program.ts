// Builds the commander program, wires global options, runs the chosen command and renders it.
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { Chalk } from 'chalk';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { loadConfig, type MaasConfig } from '../core/config.js';
import { EXIT, MaasError, toMaasError } from '../core/errors.js';
import { resolveHome } from '../core/home.js';
import type { ServiceOverrides } from '../app/composition-root.js';
import type { Services } from '../app/services.js';
import type { Problem } from '../domain/problem.js';
import { COMMANDS } from './commands/index.js';
import type { Context, Spinner } from './context.js';
import { resolveGlobals, scanGlobalFlags, type GlobalFlags, type GlobalOptions } from './globals.js';
import type { Io } from './io.js';
import { packageVersion } from './main.js';
import { OUTPUT_FORMATS, isMachineFormat, renderResult, type CommandResult } from './output.js';
import { formatProblem } from './problem-view.js';
import { readLogin } from './login-file.js';
import type { ControlPlaneApi } from '../app/control-plane-api.js';

export interface MainDeps {
  clock?: Clock;
  services?: ServiceOverrides;
  /** Answers yes/no questions on a terminal (tests script it); inquirer by default. */
  confirm?: (question: string) => Promise<boolean>;
  /** Ctrl-C: subscribe, get an unsubscribe back. The real process passes SIGINT; tests a trigger. */
  interrupts?: (handler: () => void) => () => void;
}

/** Wraps a handler as a commander action: `A` is the positional arguments plus the options object. */
export type Run = <A extends unknown[]>(handler: (ctx: Context, ...args: A) => Promise<CommandResult>) => (...args: [...A, unknown]) => Promise<void>;

/** The program as command modules see it (global options typed). */
export type Program = ReturnType<typeof baseProgram>;

export interface CommandModule {
  define(program: Program, run: Run): void;
}

interface Pending {
  result?: CommandResult;
  /** The command being run (`drift check`), for messages. */
  command?: string;
  ctx?: Context;
  /** Spinners to stop and notes to print when the user interrupts. */
  spinners: Set<{ stop(): void }>;
  interruptNotes: (() => string | undefined)[];
}

type Closer = () => void | Promise<void>;

function defaultConsumer(io: Io): string {
  let user = io.env.USER ?? io.env.LOGNAME ?? '';
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}

/** `repairing`: the config commands still run with a broken config value, so it can be fixed. */
async function makeContext(io: Io, deps: MainDeps, flags: GlobalFlags, closers: Closer[], repairing: boolean, pending: Pending): Promise<Context> {
  const home = resolveHome(io.env, io.cwd, flags.home);
  const config: MaasConfig = await loadConfig(home.configFile);
  const globals: GlobalOptions = resolveGlobals(flags, io, config, { strict: true, configFile: home.configFile, repairing });
  const { output } = globals;
  const style = new Chalk({ level: globals.color ? 1 : 0 });
  const ci = io.env.CI !== undefined && io.env.CI !== '' && io.env.CI !== 'false';
  const interactive = io.stderr.isTTY === true && io.stdin.isTTY === true && !ci && !isMachineFormat(output);
  const clock = deps.clock ?? systemClock;
  let services: Promise<Services> | undefined;
  const server = await readLogin(home, io.env);
  let remote: Promise<ControlPlaneApi> | undefined;
  const ctx: Context = {
    io,
    globals,
    output,
    style,
    home,
    config,
    clock,
    interactive,
    server,
    remote() {
      if (!server) return Promise.resolve(undefined);
      remote ??= import('../client/control-plane-client.js').then(({ ControlPlaneClient }) =>
        ControlPlaneClient.create(server.url, server.token, { userAgent: `maas/${packageVersion()}` }),
      );
      return remote;
    },
    services(options) {
      if (server && options?.local !== true) {
        const command = pending.command ?? 'this command';
        return Promise.reject(
          new MaasError('USAGE', `\`maas ${command}\` works on a local MAAS_HOME only, and this invocation works against the server ${server.url}`, {
            hint: server.from === 'env' ? 'unset MAAS_SERVER to use the local home' : '`maas logout` to use the local home again',
          }),
        );
      }
      // The first call decides: a long-running command (`maas server`) passes its durable queue.
      const overrides = options?.queue ? { ...deps.services, queue: options.queue } : deps.services;
      services ??= import('../app/composition-root.js').then(async ({ buildServices }) => {
        const s = await buildServices({
          home,
          config,
          env: io.env,
          cwd: io.cwd,
          clock,
          cluster: {
            ...(globals.kubeconfig !== undefined ? { kubeconfig: globals.kubeconfig } : {}),
            ...(globals.context !== undefined ? { context: globals.context } : {}),
            ...(globals.namespace !== undefined ? { namespace: globals.namespace } : {}),
          },
          version: packageVersion(),
          ...(overrides ? { overrides } : {}),
          onJobFailure: (kind, e) => io.stderr.write(`${kind} job failed: ${e instanceof Error ? e.message : String(e)}\n`),
        });
        closers.push(() => s.close());
        return s;
      });
      return services;
    },
    async spinner(text: string): Promise<Spinner> {
      if (!interactive || globals.quiet) return { update() {}, succeed() {}, fail() {}, stop() {} };
      const { default: ora } = await import('ora');
      const s = ora({ text, stream: io.stderr as NodeJS.WritableStream, color: 'cyan' }).start();
      const stop = { stop: () => void (s.isSpinning && s.stop()) };
      pending.spinners.add(stop);
      closers.push(() => stop.stop());
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
    progress(spinner: Spinner) {
      return (m: string) => (interactive ? spinner.update(m) : ctx.info(m));
    },
    onClose(fn) {
      closers.push(fn);
    },
    async confirm(question: string) {
      // Only a person at a terminal is asked; --yes, CI and scripts go ahead.
      if (globals.yes || (!interactive && !deps.confirm)) return true;
      if (deps.confirm) return deps.confirm(question);
      const { default: inquirer } = await import('inquirer');
      const prompt = inquirer.createPromptModule({ input: io.stdin, output: io.stderr as unknown as NodeJS.WritableStream });
      try {
        const answer = (await prompt([{ type: 'confirm', name: 'ok', message: question, default: false }] as never)) as { ok: unknown };
        return answer.ok === true;
      } catch (e) {
        if (e instanceof Error && e.name === 'ExitPromptError') return false;
        throw e;
      }
    },
    onInterrupt(note) {
      pending.interruptNotes.push(note);
    },
    resolvePath(p: string) {
      return resolve(io.cwd, p);
    },
    consumer(flag: string | undefined) {
      return flag ?? config.consumer ?? defaultConsumer(io);
    },
  };
  return ctx;
}

function baseProgram(io: Io) {
  return (
    new Command('maas')
      .description('Describe, register, find, deploy, serve and keep ML models healthy.')
      .version(packageVersion(), '-V, --version', 'print the version')
      .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS))
      .option('--no-color', 'disable colours (also NO_COLOR)')
      .option('-q, --quiet', 'print only results, no progress')
      .option('-y, --yes', 'answer yes to prompts; never prompt')
      .option('--home <dir>', 'maas home directory (default $MAAS_HOME or ~/.maas)')
      .option('--kubeconfig <file>', 'kubeconfig file (Kubernetes target)')
      .option('--context <name>', 'kubeconfig context (Kubernetes target)')
      .option('-n, --namespace <name>', 'Kubernetes namespace')
      .showSuggestionAfterError(true)
      // Every command's --help lists the global flags too (-o, --home, -n...).
      .configureHelp({ showGlobalOptions: true })
      .exitOverride()
      .configureOutput({
        writeOut: (s) => void io.stdout.write(s),
        writeErr: (s) => void io.stderr.write(s),
        outputError: () => {
          // Rendered by our own error handler so every error looks the same.
        },
      })
  );
}

export function buildProgram(io: Io, deps: MainDeps, pending: Pending, closers: Closer[]): Program {
  const program = baseProgram(io);
  const run: Run =
    (handler) =>
    async (...args) => {
      const command = args[args.length - 1] as Command;
      const flags = command.optsWithGlobals() as GlobalFlags;
      pending.command = command.parent && command.parent.parent ? `${command.parent.name()} ${command.name()}` : command.name();
      const ctx = await makeContext(io, deps, flags, closers, command.parent?.name() === 'config', pending);
      pending.ctx = ctx;
      // Commander passes (positionals..., options, command); handlers get (ctx, positionals..., options).
      pending.result = await (handler as (ctx: Context, ...rest: unknown[]) => Promise<CommandResult>)(ctx, ...args.slice(0, -1));
    };
  for (const mod of COMMANDS) mod.define(program, run);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

/** How an error is shown: JSON on stderr for machine formats, else message, problems and hint. */
async function printError(io: Io, err: MaasError, argv: string[], ctx: Context | undefined): Promise<void> {
  const globals = ctx?.globals ?? (await fallbackGlobals(io, argv));
  if (isMachineFormat(globals.output)) {
    io.stderr.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
    return;
  }
  const style = new Chalk({ level: globals.color ? 1 : 0 });
  io.stderr.write(`${style.red('error:')} ${err.message}\n`);
  const details = err.details as { problems?: unknown } | undefined;
  if (Array.isArray(details?.problems)) {
    for (const p of details.problems as Problem[]) io.stderr.write(formatProblem(p, style));
  }
  if (err.hint) io.stderr.write(`${style.dim('hint:')} ${err.hint}\n`);
  if (io.env.MAAS_DEBUG && err.cause instanceof Error && err.cause.stack) io.stderr.write(`${style.dim(err.cause.stack)}\n`);
}

/** The globals when no command context exists (the parser or the config failed first). */
async function fallbackGlobals(io: Io, argv: string[]): Promise<GlobalOptions> {
  const flags = scanGlobalFlags(argv);
  let config: MaasConfig = {};
  try {
    config = await loadConfig(resolveHome(io.env, io.cwd, flags.home).configFile);
  } catch {
    // A broken config is what is being reported; flags and environment still apply.
  }
  return resolveGlobals(flags, io, config, { strict: false });
}

function commanderToMaas(e: CommanderError): MaasError | 'done' {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 'done';
  if (e.code === 'commander.executeSubCommandAsync') return 'done';
  const message = e.message.replace(/^error:\s*/, '');
  return new MaasError('USAGE', message, { hint: 'see `maas --help` or `maas <command> --help`' });
}

/**
 * `--dry-run` takes an optional value (client|server), which would otherwise swallow the next
 * word: `maas deploy --dry-run har@1` means a client dry run of har@1.
 */
export function normaliseArgv(argv: string[]): string[] {
  const deploy = argv.indexOf('deploy');
  return argv.map((a, i) => (deploy >= 0 && i > deploy && a === '--dry-run' && !['client', 'server'].includes(argv[i + 1] ?? '') ? '--dry-run=client' : a));
}

export async function runProgram(argv: string[], io: Io, deps: MainDeps = {}): Promise<number> {
  const pending: Pending = { spinners: new Set(), interruptNotes: [] };
  const closers: Closer[] = [];
  let unsubscribe = (): void => {};
  const interrupted = new Promise<'interrupted'>((resolve) => {
    if (deps.interrupts) unsubscribe = deps.interrupts(() => resolve('interrupted'));
  });
  try {
    try {
      const program = buildProgram(io, deps, pending, closers);
      if (argv.length === 0) {
        program.outputHelp();
        return EXIT.USAGE;
      }
      const outcome = await Promise.race([program.parseAsync(normaliseArgv(argv), { from: 'user' }), interrupted]);
      if (outcome === 'interrupted') {
        // What was started keeps going (a detached server, a queued launch); say what and where.
        for (const s of pending.spinners) s.stop();
        const notes = pending.interruptNotes.map((n) => n()).filter((n): n is string => n !== undefined);
        io.stderr.write(`interrupted${notes.length ? `; ${notes.join('; ')}` : ''}\n`);
        closers.length = 0;
        return EXIT.INTERRUPTED;
      }
      const { ctx, result } = pending;
      if (!ctx || !result) return EXIT.OK;
      await renderResult(result, ctx.output, io.stdout, io.stderr, ctx.style, { quiet: ctx.globals.quiet });
      return result.exitCode ?? EXIT.OK;
    } finally {
      unsubscribe();
      // Queued work (an --async deploy's launch) finishes before the stores close.
      for (const close of closers.splice(0).reverse()) {
        try {
          await close();
        } catch {
          // Cleanup must not mask the command's own outcome.
        }
      }
    }
  } catch (e) {
    if (e instanceof CommanderError) {
      const m = commanderToMaas(e);
      if (m === 'done') return EXIT.OK;
      await printError(io, m, argv, pending.ctx);
      return m.exitCode;
    }
    const err = toMaasError(e);
    await printError(io, err, argv, pending.ctx);
    return err.exitCode;
  }
}
