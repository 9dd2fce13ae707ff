// Long-running commands (`maas serve`, `maas server`, `maas worker`) run until SIGTERM or SIGINT,
// then shut down gracefully.

/** Resolves `stopped` on the first SIGTERM/SIGINT (after calling `onSignal`); `dispose` unsubscribes. */
export function waitForSignal(onSignal: (signal: string) => void): { stopped: Promise<void>; dispose: () => void } {
  let dispose = (): void => {};
  const stopped = new Promise<void>((resolve) => {
    const handler = (signal: NodeJS.Signals): void => {
      dispose();
      onSignal(signal);
      resolve();
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
    dispose = () => {
      process.removeListener('SIGTERM', handler);
      process.removeListener('SIGINT', handler);
    };
  });
  return { stopped, dispose };
}
