// Where a deployment's model server answers, as targets report it and clients use it.

/** How to reach a deployment's model server over HTTP. */
export interface HttpEndpoint {
  baseUrl: string;
  headers?: Record<string, string>;
  /** Extra axios options (TLS agent for a cluster's API server proxy). */
  httpsAgent?: unknown;
}
