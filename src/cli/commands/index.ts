// Every command group, in help order. Each module only declares flags; its work is loaded lazily.
import type { CommandModule } from '../program.js';
import * as config from './config.js';
import * as completion from './completion.js';

export const COMMANDS: CommandModule[] = [
  // maas:commands (one line per command group)
  config,
  completion,
];
