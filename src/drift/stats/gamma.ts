// Log-gamma and the Lanczos pieces of the incomplete gamma function, ported from Cephes as
// shipped in SciPy (xsf/cephes/gamma.h, lanczos.h, unity.h) for positive arguments only: the
// drift tests only ever need gamma of a positive half-integer or integer.
import { p1evl, polevl, ratevl } from './polynomial.js';

const MACHEP = 1.1102230246251565e-16;
const LS2PI = 0.9189385332046728; // log(sqrt(2*pi))
const EULER = 0.5772156649015329;

const GAMMA_A = [0.0008116141674705085, -0.0005950619042843014, 0.0007936503404577169, -0.002777777777300997, 0.08333333333333319];
const GAMMA_B = [-1378.2515256912086, -38801.631513463784, -331612.9927388712, -1162370.974927623, -1721737.0082083966, -853555.6642457654];
const GAMMA_C = [-351.81570143652345, -17064.210665188115, -220528.59055385445, -1139334.4436798252, -2532523.0717758294, -2018891.4143353277];

/** log(Gamma(x)) for x > 0 (Cephes `lgam`). */
export function lgam(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (!Number.isFinite(x)) return x;
  if (x < 13) {
    // Shift into [2, 3) and use the rational approximation there.
    let z = 1;
    let p = 0;
    let u = x;
    while (u >= 3) {
      p -= 1;
      u = x + p;
      z *= u;
    }
    while (u < 2) {
      z /= u;
      p += 1;
      u = x + p;
    }
    if (u === 2) return Math.log(z);
    p -= 2;
    const y = x + p;
    return Math.log(z) + (y * polevl(y, GAMMA_B, 5)) / p1evl(y, GAMMA_C, 6);
  }
  const q = (x - 0.5) * Math.log(x) - x + LS2PI;
  if (x >= 1000) {
    if (x > 1e8) return q;
    const p = 1 / (x * x);
    return q + ((0.0007936507936507937 * p - 0.002777777777777778) * p + 0.08333333333333333) / x;
  }
  return q + polevl(1 / (x * x), GAMMA_A, 4) / x;
}

// zeta(n) for n = 2..41: the Taylor coefficients of lgam(1 + x) around 0.
const ZETA = [
  1.6449340668482266, 1.202056903159594, 1.0823232337111381, 1.0369277551433704, 1.0173430619844488, 1.008349277381923, 1.0040773561979446, 1.0020083928260826,
  1.0009945751278182, 1.0004941886041194, 1.0002460865533078, 1.0001227133475785, 1.0000612481350586, 1.0000305882363072, 1.0000152822594084,
  1.0000076371976376, 1.000003817293265, 1.0000019082127163, 1.0000009539620338, 1.0000004769329867, 1.0000002384505027, 1.000000119219926, 1.000000059608189,
  1.0000000298035034, 1.0000000149015549, 1.0000000074507118, 1.000000003725334, 1.0000000018626598, 1.0000000009313275, 1.0000000004656628, 1.000000000232831,
  1.0000000001164155, 1.0000000000582077, 1.0000000000291038, 1.000000000014552, 1.000000000007276, 1.000000000003638, 1.000000000001819, 1.0000000000009095,
  1.0000000000004547,
];

function lgam1pTaylor(x: number): number {
  if (x === 0) return 0;
  let res = -EULER * x;
  let xfac = -x;
  for (let n = 2; n < 42; n++) {
    xfac *= -x;
    const coeff = (ZETA[n - 2]! * xfac) / n;
    res += coeff;
    if (Math.abs(coeff) < MACHEP * Math.abs(res)) break;
  }
  return res;
}

/** log(Gamma(1 + x)), accurate near x = 0 and x = 1 (Cephes `lgam1p`). */
export function lgam1p(x: number): number {
  if (Math.abs(x) <= 0.5) return lgam1pTaylor(x);
  if (Math.abs(x - 1) < 0.5) return Math.log(x) + lgam1pTaylor(x - 1);
  return lgam(x + 1);
}

/** log(1 + x) - x without cancellation for small x (Cephes `log1pmx`). */
export function log1pmx(x: number): number {
  if (Math.abs(x) < 0.5) {
    let xfac = x;
    let res = 0;
    for (let n = 2; n < 500; n++) {
      xfac *= -x;
      const term = xfac / n;
      res += term;
      if (Math.abs(term) < MACHEP * Math.abs(res)) break;
    }
    return res;
  }
  return Math.log1p(x) - x;
}

export const LANCZOS_G = 6.02468004077673;

const LANCZOS_SUM_EXPG_SCALED_NUM = [
  0.006061842346248907, 0.5098416655656676, 19.519927882476175, 449.9445569063168, 6955.999602515376, 75999.29304014542, 601859.6171681099, 3481712.154980646,
  14605578.087685067, 43338889.32467614, 86363131.2881386, 103794043.11634454, 56906521.913471565,
];
const LANCZOS_SUM_EXPG_SCALED_DENOM = [1, 66, 1925, 32670, 357423, 2637558, 13339535, 45995730, 105258076, 150917976, 120543840, 39916800, 0];

/** Lanczos sum scaled by exp(g), Boost's 13-term approximation as used by Cephes `igam_fac`. */
export function lanczosSumExpgScaled(x: number): number {
  return ratevl(x, LANCZOS_SUM_EXPG_SCALED_NUM, 12, LANCZOS_SUM_EXPG_SCALED_DENOM, 12);
}
