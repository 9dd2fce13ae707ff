// Every command, in help order: one file each. A module only declares flags; its work loads lazily.
import type { CommandModule } from '../program.js';
import * as init from './init.js';
import * as validate from './validate.js';
import * as explain from './explain.js';
import * as schema from './schema.js';
import * as register from './register.js';
import * as list from './list.js';
import * as get from './get.js';
import * as describe from './describe.js';
import * as versions from './versions.js';
import * as profile from './profile.js';
import * as search from './search.js';
import * as deleteCommand from './delete.js';
import * as deploy from './deploy.js';
import * as status from './status.js';
import * as ps from './ps.js';
import * as logs from './logs.js';
import * as predict from './predict.js';
import * as feedback from './feedback.js';
import * as drift from './drift.js';
import * as retrain from './retrain.js';
import * as retrainStep from './retrain-step.js';
import * as compare from './compare.js';
import * as compose from './compose.js';
import * as serve from './serve.js';
import * as restart from './restart.js';
import * as rollout from './rollout.js';
import * as rollback from './rollback.js';
import * as history from './history.js';
import * as decommission from './decommission.js';
import * as gc from './gc.js';
import * as token from './token.js';
import * as audit from './audit.js';
import * as server from './server.js';
import * as worker from './worker.js';
import * as login from './login.js';
import * as jobs from './jobs.js';
import * as config from './config.js';
import * as completion from './completion.js';
import * as complete from './complete.js';
import * as version from './version.js';

export const COMMANDS: CommandModule[] = [
  init,
  validate,
  explain,
  schema,
  register,
  list,
  get,
  describe,
  versions,
  profile,
  search,
  deleteCommand,
  deploy,
  status,
  ps,
  logs,
  predict,
  feedback,
  drift,
  retrain,
  retrainStep,
  compare,
  compose,
  serve,
  restart,
  rollout,
  rollback,
  history,
  decommission,
  gc,
  token,
  audit,
  server,
  worker,
  login,
  jobs,
  config,
  completion,
  complete,
  version,
];
