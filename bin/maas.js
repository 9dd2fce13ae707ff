#!/usr/bin/env node
// The only place that sets the process exit code.
import { main } from '../dist/src/cli/main.js';

// A reader that stops early (`maas ps | head -1`) closes the pipe: stop quietly, as other CLIs do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
// The command has finished and cleaned up; a connection abandoned after a timeout (a hung server)
// must not keep the process alive. Normally the event loop is already empty and this never fires.
setTimeout(() => process.exit(), 2000).unref();
