// A serving runtime turns a feature matrix into predictions. ONNX is the first; others plug in here.

export interface Prediction {
  /** Classification: predicted label per row (from the description's outputs.labels). */
  labels?: string[] | undefined;
  /** Classification: class probabilities per row, `[N][C]`, columns in outputs.labels order. */
  probabilities?: number[][] | undefined;
  /** Regression: predicted value per row. */
  values?: number[] | undefined;
}

export interface RuntimeInfo {
  /** e.g. `onnxruntime 1.23.2`. */
  name: string;
  inputs: { name: string; shape: (number | string)[]; type: string }[];
  outputs: { name: string; shape: (number | string)[]; type: string }[];
}

export interface Runtime {
  readonly info: RuntimeInfo;
  /** `matrix` is row-major `[rows, features]` float32, in the description's feature order. */
  predict(matrix: Float32Array, rows: number): Promise<Prediction>;
  close(): Promise<void>;
}
