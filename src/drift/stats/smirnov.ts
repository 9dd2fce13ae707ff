// One-sided Kolmogorov-Smirnov (Smirnov) survival function P(D_n+ >= x), scipy.special.smirnov.
// Follows xsf/cephes/kolmogorov.h `_smirnov` (Birnbaum-Tingey / Dwass sums, same branch
// selection and early termination), but sums in scaled doubles with logarithms instead of
// double-double arithmetic: every summed term is positive, so the relative error stays near
// n * 1e-16 (about 1e-10 at the largest n that reaches the sum), far inside the 1e-6 we need.

const MINLOG = -745.1332191019412; // log(2^-1075)
const SMIRNOV_MAX_COMPUTE_N = 1000000;
const SM_UPPER_MAX_TERMS = 3;
const SM_UPPERSUM_MIN_N = 10;
const EPSILON = 2.220446049250313e-16;
const SCALE_UP = 2 ** 500;
const SCALE_DOWN = 2 ** -500;

/** Exact product a*b as hi + lo (Dekker; no FMA in JavaScript). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const split = 134217729; // 2^27 + 1
  const ah = a * split - (a * split - a);
  const al = a - ah;
  const bh = b * split - (b * split - b);
  const bl = b - bh;
  const err = ah * bh - p + ah * bl + al * bh + al * bl;
  return [p, err];
}

/** floor(n*x), the exact remainder alpha in [0, 1) and n*x as hi + lo, like xsf `modNX`. */
function modNX(n: number, x: number): { nxfl: number; alpha: number; hi: number; lo: number } {
  const [hi, lo] = twoProduct(n, x);
  let nxfl = Math.floor(hi);
  let alpha: number;
  if (nxfl === hi) {
    // hi is an integer: the remainder's sign comes from lo.
    const lf = Math.floor(lo);
    nxfl += lf;
    alpha = lo - lf;
  } else {
    alpha = hi - nxfl + lo;
  }
  if (alpha >= 1) {
    nxfl += 1;
    alpha = 0;
  }
  return { nxfl, alpha, hi, lo };
}

/** Binomial coefficient C(n, k) for the few-term upper sum (k close to n). */
function binomialNear(n: number, k: number): number {
  let c = 1;
  const r = Math.min(k, n - k);
  for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i;
  return c;
}

/** P(D_n+ >= x) for the one-sided statistic with n observations. */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const { nxfl, alpha, hi, lo } = modNX(n, x);
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  let n1mxceil = n - nxfl;
  // When n*x is an integer the last term belongs to neither sum.
  if (alpha === 0) {
    n1mxfl -= 1;
    n1mxceil += 1;
  }
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    // x <= 1/n: closed form cdf = x (1 + x)^(n-1).
    const cdf = x * Math.exp((n - 1) * Math.log1p(x));
    return clamp01(1 - cdf);
  }
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return clamp01(Math.exp(n * Math.log1p(-x)));
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    // Too many terms: the approximation p ~ exp(-(6nx+1)^2 / 18n).
    const logp = -Math.pow(6 * n * x + 1, 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  const nUpperTerms = n - n1mxceil + 1;
  const useUpperSum = (nUpperTerms <= 1 && x < 0.5) || (n >= SM_UPPERSUM_MIN_N && nUpperTerms <= SM_UPPER_MAX_TERMS && x <= 0.5 / Math.sqrt(n));
  if (useUpperSum) {
    // At most three alternating terms v = n, n-1, ...: small enough to sum directly.
    let sum = 0;
    for (let v = n; v >= n1mxceil; v--) {
      sum += binomialNear(n, v) * Math.pow(x + v / n, v - 1) * Math.pow(1 - x - v / n, n - v);
    }
    return clamp01(1 - x * sum);
  }
  return clamp01(x * lowerSum(n, x, n1mxfl + 1, hi, lo));
}

/**
 * Sum over v = 0 .. nTerms-1 of C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v), the terms in log
 * space and C(n, v) as a scaled mantissa, stopping once the rest cannot matter (as xsf does).
 */
function lowerSum(n: number, x: number, nTerms: number, nxHi: number, nxLo: number): number {
  let sum = Math.exp(n * Math.log1p(-x)) / x;
  let cman = n; // C(n, 1), as cman * 2^cexpt
  let cexpt = 0;
  const vmid = Math.floor(n / 2);
  for (let v = 1; v < nTerms; v++) {
    const up = (v + nxHi + nxLo) / n; // x + v/n
    const down = (n - v - nxHi - nxLo) / n; // 1 - x - v/n
    const logUp = up > 0.5 ? Math.log1p(-down) : Math.log(up);
    const logDown = up < 0.5 ? Math.log1p(-up) : Math.log(down);
    const logTerm = Math.log(cman) + cexpt * Math.LN2 + (v - 1) * logUp + (n - v) * logDown;
    const term = Math.exp(logTerm);
    if (Number.isFinite(term) && term !== 0) sum += term;
    if (term !== 0) {
      if (4 * (nTerms - v) * Math.abs(term) < EPSILON * sum && v !== nTerms - 1) break;
    } else if (v > vmid) {
      break;
    }
    cman = (cman * (n - v)) / (v + 1);
    if (cman > SCALE_UP) {
      cman *= SCALE_DOWN;
      cexpt += 500;
    } else if (cman < SCALE_DOWN) {
      cman *= SCALE_UP;
      cexpt -= 500;
    }
  }
  return sum;
}

function clamp01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}
