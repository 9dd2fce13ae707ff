// The drift tests by name: one list for the description schema, the CLI flags and the statistics.
export const DRIFT_TESTS = ['ks', 'wasserstein', 'chisquare', 'z', 'jensenshannon', 'psi', 'kl', 'hellinger'] as const;
export type DriftTestName = (typeof DRIFT_TESTS)[number];

/** Tests that need numbers (a distance on the value axis or an ordering). */
export const NUMERIC_ONLY_TESTS: readonly DriftTestName[] = ['ks', 'wasserstein'];

export const DETECTORS = ['ddm', 'eddm', 'adwin', 'page-hinkley'] as const;
