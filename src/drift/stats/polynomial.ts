// Polynomial and rational evaluation in Cephes' coefficient order (highest degree first), kept
// operation for operation so that the ported special functions round like SciPy's.

/** c[0]*x^N + ... + c[N]. */
export function polevl(x: number, c: readonly number[], degree: number): number {
  let ans = c[0]!;
  for (let i = 1; i <= degree; i++) ans = ans * x + c[i]!;
  return ans;
}

/** x^N + c[0]*x^(N-1) + ... + c[N-1] (leading coefficient 1 implied). */
export function p1evl(x: number, c: readonly number[], degree: number): number {
  let ans = x + c[0]!;
  for (let i = 1; i < degree; i++) ans = ans * x + c[i]!;
  return ans;
}

/** Ratio of two polynomials (coefficients highest degree first), Boost/xsf `ratevl`. */
export function ratevl(x: number, num: readonly number[], m: number, denom: readonly number[], n: number): number {
  const absx = Math.abs(x);
  let numAns: number;
  let denomAns: number;
  if (absx > 1) {
    // Evaluate in 1/x for large arguments so that the leading terms do not overflow.
    const y = 1 / x;
    numAns = num[m]!;
    for (let i = m - 1; i >= 0; i--) numAns = numAns * y + num[i]!;
    denomAns = denom[n]!;
    for (let i = n - 1; i >= 0; i--) denomAns = denomAns * y + denom[i]!;
    return (Math.pow(x, m - n) * numAns) / denomAns;
  }
  numAns = num[0]!;
  for (let i = 1; i <= m; i++) numAns = numAns * x + num[i]!;
  denomAns = denom[0]!;
  for (let i = 1; i <= n; i++) denomAns = denomAns * x + denom[i]!;
  return numAns / denomAns;
}
