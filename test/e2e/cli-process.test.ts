// The built CLI as a real process: version, exit codes, and a reader that closes the pipe early.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, spawnCli, tempDir } from '../support/cli.js';

describe('the maas process', () => {
  it('prints its version and exits 0', async () => {
    const r = await spawnCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('exits 2 on a usage error and 4 on a missing deployment, without a stack trace', async () => {
    const home = tempDir();
    try {
      const usage = await spawnCli(['deploy'], { home: home.path });
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/missing required argument 'model'/);
      const missing = await spawnCli(['status', 'd-0123456789'], { home: home.path });
      expect(missing.code).toBe(4);
      expect(missing.stderr).not.toMatch(/\n\s+at /);
    } finally {
      home.cleanup();
    }
  });

  it('stops quietly when the reader closes the pipe early', async () => {
    const child = spawn(process.execPath, [BIN, 'completion', 'fish'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like a `| head` that has already exited: the pipe is closed before maas writes.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
  });
});
