// Evidently's default test choice (evidently/legacy/calculations/stattests/registry.py
// `_get_default_stattest`), with n = reference rows and distinct = nunique(concat(ref, cur)):
//   n <= 1000: numeric:     distinct <= 2 -> z, 3..5 -> chisquare, > 5 -> ks
//              categorical: distinct <= 2 -> z, > 2 -> chisquare
//   n > 1000:  numeric:     distinct <= 5 -> jensenshannon, > 5 -> wasserstein
//              categorical: jensenshannon
// (Evidently sends numeric columns with at most five values to jensenshannon, not wasserstein,
// on large references.)

export type DefaultChoice = 'ks' | 'wasserstein' | 'chisquare' | 'z' | 'jensenshannon';

export function chooseDefault(kind: 'numeric' | 'categorical', referenceRows: number, distinct: number): DefaultChoice {
  if (referenceRows <= 1000) {
    if (kind === 'numeric' && distinct > 5) return 'ks';
    return distinct > 2 ? 'chisquare' : 'z';
  }
  if (kind === 'numeric' && distinct > 5) return 'wasserstein';
  return 'jensenshannon';
}
