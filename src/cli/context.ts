// What every command handler receives: resolved global options, output style, MAAS_HOME, config,
// the clock, and the application services, opened lazily on first use.
import type { Clock } from '../core/clock.js';
import type { MaasConfig } from '../core/config.js';
import type { MaasHome } from '../core/home.js';
import type { Services } from '../app/services.js';
import type { ServiceOverrides } from '../app/composition-root.js';
import type { ControlPlaneApi } from '../app/control-plane-api.js';
import type { ServerLogin } from './login-file.js';
import type { GlobalOptions } from './globals.js';
import type { Io } from './io.js';
import type { OutputFormat, Style } from './output.js';

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface Context {
  io: Io;
  globals: GlobalOptions;
  output: OutputFormat;
  style: Style;
  home: MaasHome;
  config: MaasConfig;
  clock: Clock;
  /** True when prompts and spinners may be shown: a TTY, not CI, human output. */
  interactive: boolean;
  /** The application services for this MAAS_HOME (stores, targets, queue), opened once. */
  /**
   * The application services for this MAAS_HOME. Against a server (`remote()`), commands that
   * have no remote form refuse here; `local` is for commands that always act on this machine.
   */
  services(options?: { queue?: ServiceOverrides['queue']; local?: boolean }): Promise<Services>;
  /** The maas server this invocation works against (MAAS_SERVER/MAAS_TOKEN or `maas login`), else undefined. */
  remote(): Promise<ControlPlaneApi | undefined>;
  /** Where the server is, without connecting: set when the CLI works against a server. */
  server: ServerLogin | undefined;
  /** A spinner on stderr when interactive; otherwise a silent one. */
  spinner(text: string): Promise<Spinner>;
  /** A progress line on stderr for humans (suppressed by -q and machine formats). */
  info(message: string): void;
  /** Progress of a long operation: the spinner's text on a terminal, else an info line. */
  progress(spinner: Spinner): (message: string) => void;
  /** Asks a yes/no question on a terminal; true without asking under --yes, CI or no terminal. */
  confirm(question: string): Promise<boolean>;
  /** What to tell the user if they interrupt the command now (e.g. the ID of what goes on). */
  onInterrupt(note: () => string | undefined): void;
  /** Registers a cleanup that runs after the command, even on failure. */
  onClose(fn: () => void | Promise<void>): void;
  /** Resolves a path given on the command line against the caller's working directory. */
  resolvePath(p: string): string;
  /** The consumer this invocation acts for: the flag, the config's `consumer`, or user@host. */
  consumer(flag: string | undefined): string;
}
