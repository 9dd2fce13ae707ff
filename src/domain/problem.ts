// A located problem in a description (a validation error): where it is and what to do about it.

export interface Problem {
  file: string;
  line: number;
  column: number;
  /** JSON-pointer-like field path, e.g. `spec.features[2].type`. */
  path: string;
  message: string;
  hint?: string;
}
