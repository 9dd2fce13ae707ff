// Every command group, in help order. Each module only declares flags; its work is loaded lazily.
import type { CommandModule } from '../program.js';
import * as validate from './validate.js';
import * as explain from './explain.js';
import * as schema from './schema.js';
import * as init from './init.js';
import * as config from './config.js';
import * as completion from './completion.js';
import * as deploy from './deploy.js';
import * as deployments from './deployments.js';
import * as predict from './predict.js';
import * as serve from './serve.js';
import * as decommission from './decommission.js';
import * as register from './register.js';
import * as list from './list.js';
import * as get from './get.js';
import * as versions from './versions.js';
import * as search from './search.js';
import * as deleteCommand from './delete.js';

export const COMMANDS: CommandModule[] = [
  // maas:commands (one line per command group)
  init,
  validate,
  explain,
  schema,
  register,
  list,
  get,
  versions,
  search,
  deleteCommand,
  deploy,
  deployments,
  predict,
  serve,
  decommission,
  config,
  completion,
];
