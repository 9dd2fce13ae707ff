// Scratch directories for work that needs files on disk (a retraining run's data and output):
// a port, so use cases create and remove them without touching the filesystem themselves.

export interface WorkDir {
  /** Absolute path of the directory. */
  readonly path: string;
  /** Writes `text` to `name` inside the directory; returns the file's absolute path. */
  write(name: string, text: string): Promise<string>;
  /** Removes the directory and everything in it. */
  dispose(): Promise<void>;
}

export interface Workspace {
  /** A new, empty, private directory (its name starts with `prefix`). */
  create(prefix: string): Promise<WorkDir>;
}
