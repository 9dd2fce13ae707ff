// URI schemes a description may use, and `file:` URIs to absolute paths. Relative file URIs
// resolve from the directory of the description, so a model and its description travel together.
import { isAbsolute, resolve } from 'node:path';

export const ARTIFACT_SCHEMES = ['file', 'http', 'https', 's3', 'gs', 'oci'] as const;
export const DATA_SCHEMES = ['file', 'http', 'https', 's3', 'gs'] as const;
export const REPOSITORY_SCHEMES = ['https', 'http', 'ssh', 'git', 'git+ssh', 'git+https', 'file'] as const;

/** Lower-case scheme of a URI (`s3` for `S3://b/k`), or undefined when there is none. */
export function uriScheme(uri: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  // `C:\models\m.onnx` is a Windows path, not a URI with scheme `c`.
  if (!m || m[1]!.length === 1) return undefined;
  return m[1]!.toLowerCase();
}

/**
 * Absolute path named by a `file:` URI, or undefined if the URI is not a usable file URI.
 * Accepted: `file:///abs/m.onnx`, `file://localhost/abs/m.onnx`, `file://./m.onnx`,
 * `file:m.onnx`, `file:./dir/m.onnx`, `file:/abs/m.onnx`; percent escapes are decoded.
 */
export function resolveFileUri(uri: string, baseDir: string): string | undefined {
  if (uriScheme(uri) !== 'file') return undefined;
  let rest = uri.slice('file:'.length);
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    if (rest.toLowerCase().startsWith('localhost/')) rest = rest.slice('localhost'.length);
    // Anything else after `//` that is not `/` is read as a relative path (`file://./m.onnx`).
  }
  let path = rest;
  try {
    path = decodeURIComponent(rest);
  } catch {
    // A stray `%` is more likely part of a file name than a broken escape.
  }
  if (path === '' || path.includes('\0')) return undefined;
  return isAbsolute(path) ? resolve(path) : resolve(baseDir, path);
}

/** `user@host:path` (scp-like git remote), which has no scheme but is a valid repository. */
export function isScpLikeRemote(s: string): boolean {
  return /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/.test(s);
}
