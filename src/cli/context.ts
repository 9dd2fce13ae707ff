// What every command handler receives: resolved global options, output style, MAAS_HOME, config,
// and lazily opened side-effect providers (registry, clock, spinner).
import type { Io } from './io.js';
import type { OutputFormat, Style } from './output.js';
import type { MaasHome } from '../core/home.js';
import type { MaasConfig } from '../core/config.js';
import type { Clock } from '../core/clock.js';
import type { Registry } from '../domain/model.js';

export interface GlobalOptions {
  output: OutputFormat;
  color: boolean;
  quiet: boolean;
  yes: boolean;
  home?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

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
  /** Opens (once) the registry configured for this MAAS_HOME. */
  registry(): Promise<Registry>;
  /** A spinner on stderr when interactive; otherwise a silent one. */
  spinner(text: string): Promise<Spinner>;
  /** A progress line on stderr for humans (suppressed by -q and machine formats). */
  info(message: string): void;
  /** Registers a cleanup that runs after the command, even on failure. */
  onClose(fn: () => void | Promise<void>): void;
  /** Resolves a path given on the command line against the caller's working directory. */
  resolvePath(p: string): string;
}
