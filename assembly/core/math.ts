// Scalar special functions computed in wasm (never by the host's Math), so every engine gives
// the same bits. exp/log/sin/... come from AssemblyScript's own NativeMath (a wasm port of a
// correctly-rounded-to-~1ulp libm); erf is wasmgrad's own (see build/gen-erf.py).

import { ERF_TAYLOR, ERF_MACLAURIN, ERF_DEGREE, ERF_MACLAURIN_TERMS } from "./erf-table";

/** erf in double precision, within 2 ulp (checked against 60-digit values in test/). */
export function erf64(x: f64): f64 {
  const a = abs(x);
  let r: f64;
  if (!(a < 6.0)) {
    r = a != a ? a : 1.0; // NaN stays NaN; erf(±6 and beyond) rounds to ±1
  } else if (a < 0.5) {
    const z = a * a;
    let s = unchecked(ERF_MACLAURIN[ERF_MACLAURIN_TERMS - 1]);
    for (let i = ERF_MACLAURIN_TERMS - 2; i >= 0; i--) s = s * z + unchecked(ERF_MACLAURIN[i]);
    r = a * s;
  } else {
    const i = <i32>((a - 0.5) * 2.0);
    const t = a - (0.75 + 0.5 * <f64>i);
    const base = i * (ERF_DEGREE + 1);
    let s = unchecked(ERF_TAYLOR[base + ERF_DEGREE]);
    for (let k = ERF_DEGREE - 1; k >= 0; k--) s = s * t + unchecked(ERF_TAYLOR[base + k]);
    r = s;
  }
  return copysign<f64>(r, x); // odd, including erf(-0) = -0
}

// @ts-ignore: generic over f32 / f64, resolved at compile time
@inline export function erfT<T>(x: T): T { return <T>erf64(<f64>x); }

/**
 * log(eˣ + eʸ) as PyTorch computes it: equal arguments (infinities included) give x + log 2; else
 * the larger plus log1p of the exponential of minus the gap, which never overflows.
 */
/** atan2(y, x) by AssemblyScript's own (musl's) arctangent, computed in wasm: the same bits everywhere. */
@inline export function atan2T<T>(y: T, x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.atan2(<f32>y, <f32>x);
  return <T>Math.atan2(<f64>y, <f64>x);
}

@inline export function logaddexpT<T>(x: T, y: T): T {
  if (x == y) return x + <T>0.6931471805599453;
  const m = max<T>(x, y);
  return m + log1pT<T>(expT<T>(-abs<T>(x - y)));
}

@inline export function expT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>expF32(<f32>x); // the lane arithmetic of the SIMD kernels
  return <T>Math.exp(<f64>x);
}
@inline export function logT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.log(<f32>x);
  return <T>Math.log(<f64>x);
}
@inline export function log1pT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.log1p(<f32>x);
  return <T>Math.log1p(<f64>x);
}
@inline export function expm1T<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.expm1(<f32>x);
  return <T>Math.expm1(<f64>x);
}
@inline export function sinT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.sin(<f32>x);
  return <T>Math.sin(<f64>x);
}
@inline export function cosT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.cos(<f32>x);
  return <T>Math.cos(<f64>x);
}
@inline export function tanT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.tan(<f32>x);
  return <T>Math.tan(<f64>x);
}
@inline export function tanhT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.tanh(<f32>x);
  return <T>Math.tanh(<f64>x);
}
/** C's (and PyTorch's) pow: AssemblyScript's follows JS, which gives NaN for pow(1, NaN) and pow(±1, ±Inf). */
@inline export function powT<T>(x: T, y: T): T {
  if (x == <T>1 || (x == <T>-1 && abs<T>(y) == <T>Infinity)) return <T>1;
  if (sizeof<T>() == 4) return <T>Mathf.pow(<f32>x, <f32>y);
  return <T>Math.pow(<f64>x, <f64>y);
}
/** PyTorch's sigmoid: 1 / (1 + exp(-x)). */
@inline export function sigmoidT<T>(x: T): T { return <T>1 / (<T>1 + expT<T>(-x)); }
/** PyTorch's softplus with beta = 1, threshold = 20. */
@inline export function softplusT<T>(x: T): T { return x > <T>20 ? x : log1pT<T>(expT<T>(x)); }
/** PyTorch's sign: (0 < x) - (x < 0); NaN gives 0. */
@inline export function signT<T>(x: T): T { return <T>(<i32>(x > <T>0) - <i32>(x < <T>0)); }

// exp on four float32 lanes, for the kernels that spend their time in exp (exp, sigmoid,
// softmax). Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2, a degree-7 Taylor polynomial in
// float32 (truncation below 1e-8 relative), and 2^k applied as two exact power-of-two scalings
// so that results near overflow and in the subnormal range round once. IEEE operations only (no
// FMA), so every engine gives the same bits; checked against float64 exp in test/.
const EXP_LOG2E: f32 = 1.44269504088896341;
const EXP_LN2_HI: f32 = 0.693145751953125; // few mantissa bits: k·LN2_HI is exact
const EXP_LN2_LO: f32 = 1.42860676533018704e-6;

@inline function pow2i(k: v128): v128 {
  return i32x4.shl(i32x4.add(k, i32x4.splat(127)), 23); // 2^k for k in [-126, 127]
}

export function expF32x4(x: v128): v128 {
  // pmax/pmin (a plain compare-and-select each) keep NaN: pmax(NaN, b) and pmin(NaN, b) are NaN.
  const c = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-104)), f32x4.splat(89));
  const kf = f32x4.nearest(f32x4.mul(c, f32x4.splat(EXP_LOG2E)));
  const r = f32x4.sub(f32x4.sub(c, f32x4.mul(kf, f32x4.splat(EXP_LN2_HI))), f32x4.mul(kf, f32x4.splat(EXP_LN2_LO)));
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 720.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const k = i32x4.trunc_sat_f32x4_s(kf); // in [-150, 129]
  const k1 = i32x4.shr_s(k, 1);
  return f32x4.mul(f32x4.mul(p, pow2i(k1)), pow2i(i32x4.sub(k, k1)));
}

/** Scalar float32 exp with exactly the lane arithmetic of expF32x4 (for tails). */
export function expF32(x: f32): f32 {
  return f32x4.extract_lane(expF32x4(f32x4.splat(x)), 0);
}

// exp of x ≤ 0 on four float32 lanes, for the row kernels of softmax, logSoftmax and their
// gradients (assembly/ops/activation.ts), whose arguments are x − max or log-probabilities. It
// is cheaper than expF32x4 and within 2.21 ulp of the exact value (every 16th float32 of
// [−104, 0] against float64 exp), subnormal results included: a degree-5 minimax polynomial
// (relative error 8.7e-8 on |r| ≤ ln2/2, fitted in float64 and rounded), the rounding of x·log2e
// to an integer k by adding 1.5·2²³ + 191 (so that the low bits of the sum are the biased
// exponent of 2^(k+64), shifted into place), and the result built as 2⁶⁴·eˣ, which is a normal
// number for every x ≥ −130 (the clamp: below it, and for −∞, eˣ rounds to 0). Multiplied by
// 2⁻⁶⁴ it is exact while eˣ is normal and rounded once below 2⁻¹²⁶, so subnormal results are kept
// as PyTorch keeps them; softmax folds the 2⁻⁶⁴ into its reciprocal of the sum instead.
// Arguments above 0 are taken as 0 (a log-probability rounded up). IEEE operations only (no
// FMA): the same bits on every engine. The constants sit in memory as splatted vectors: a loop
// reads them as memory operands, which V8 compiles better than materialised v128 constants or
// a dozen live registers.
export const EXP_NP = memory.data<f32>([
  1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341, // log2 e
  12583103.0, 12583103.0, 12583103.0, 12583103.0, // 1.5·2²³ + 127 + 64
  0.693145751953125, 0.693145751953125, 0.693145751953125, 0.693145751953125, // ln 2, high part
  1.42860676533018704e-6, 1.42860676533018704e-6, 1.42860676533018704e-6, 1.42860676533018704e-6, // low part
  0.008290552534162998, 0.008290552534162998, 0.008290552534162998, 0.008290552534162998, // c5
  0.041900429874658585, 0.041900429874658585, 0.041900429874658585, 0.041900429874658585, // c4
  0.1666765958070755, 0.1666765958070755, 0.1666765958070755, 0.1666765958070755, // c3
  0.499991238117218, 0.499991238117218, 0.499991238117218, 0.499991238117218, // c2
  0.9999997019767761, 0.9999997019767761, 0.9999997019767761, 0.9999997019767761, // c1
  -130.0, -130.0, -130.0, -130.0, // the clamp: 2^(k+64) ≥ 2⁻¹²⁴ is normal for x ≥ −130
  5.421010862427522e-20, 5.421010862427522e-20, 5.421010862427522e-20, 5.421010862427522e-20, // 2⁻⁶⁴
]);

/** 2⁻⁶⁴ on four lanes: scales scaledExpNonPositiveF32x4 back to eˣ. */
@inline export function twoToMinus64F32x4(): v128 { return v128.load(EXP_NP, 160); }

/** eˣ for x ≤ 0 (see EXP_NP). */
@inline export function expNonPositiveF32x4(x: v128): v128 {
  return f32x4.mul(scaledExpNonPositiveF32x4(f32x4.pmin(x, f32x4.splat(0))), twoToMinus64F32x4()); // NaN stays NaN
}

/**
 * 2⁶⁴·eˣ for arguments the caller knows are ≤ 0 or NaN (x − max), without the clamp at 0:
 * e^r·2^(k+64) = 2^(k+64) + (r·2^(k+64))·p(r), p(r) = c1 + c2·r + … + c5·r⁴, normal for every
 * x ≤ 0. The row loops call it four times per iteration (four independent chains keep the
 * multipliers busy: one chain per iteration runs ~1.4× slower).
 */
@inline export function scaledExpNonPositiveF32x4(x0: v128): v128 {
  const x = f32x4.pmax(x0, v128.load(EXP_NP, 144)); // NaN stays NaN
  const t = f32x4.add(f32x4.mul(x, v128.load(EXP_NP)), v128.load(EXP_NP, 16));
  const k = f32x4.sub(t, v128.load(EXP_NP, 16));
  const scale = i32x4.shl(t, 23); // 2^(k+64): the biased exponent k + 64 + 127 sits in t's low bits
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(k, v128.load(EXP_NP, 32))), f32x4.mul(k, v128.load(EXP_NP, 48)));
  let p = f32x4.add(f32x4.mul(v128.load(EXP_NP, 64), r), v128.load(EXP_NP, 80));
  p = f32x4.add(f32x4.mul(p, r), v128.load(EXP_NP, 96));
  p = f32x4.add(f32x4.mul(p, r), v128.load(EXP_NP, 112));
  p = f32x4.add(f32x4.mul(p, r), v128.load(EXP_NP, 128));
  return f32x4.add(f32x4.mul(f32x4.mul(r, scale), p), scale);
}

/** Scalar float32 eˣ for x ≤ 0 with exactly the lane arithmetic of expNonPositiveF32x4 (tails). */
export function expNonPositiveF32(x: f32): f32 {
  return f32x4.extract_lane(expNonPositiveF32x4(f32x4.splat(x)), 0);
}

// 1 + erf(z) on four float32 lanes, for the float32 GELU (assembly/ops/activation.ts), where
// erf64 per element was the cost of a transformer's MLP. |z| ≤ 0.921875: 1 + z·P(z²), P of
// degree 5 in z²; beyond: erfc(|z|) = exp(−z²)·R(|z| − 2.5), R of degree 9, fitted (float64 least
// squares on Chebyshev nodes, weighted to the absolute error of erfc, then rounded), giving
// 1 + erf = erfc(−z) for z < 0 without cancellation and 2 − erfc(z) above; beyond |z| = 4,
// erfc is taken as 0. Within 2e-7 of 1 + erf absolutely, and relatively while 1 + erf ≥ 1e-4
// (PyTorch's float kernel, 1 + erf(z) in float, loses all relative accuracy there). IEEE
// operations only: the same bits on every engine.
export const ERF_F32 = memory.data<f32>([
  1.1283791065216064, 1.1283791065216064, 1.1283791065216064, 1.1283791065216064, // P0
  -0.3761253356933594, -0.3761253356933594, -0.3761253356933594, -0.3761253356933594,
  0.11282140016555786, 0.11282140016555786, 0.11282140016555786, 0.11282140016555786,
  -0.026776401326060295, -0.026776401326060295, -0.026776401326060295, -0.026776401326060295,
  0.005005624610930681, 0.005005624610930681, 0.005005624610930681, 0.005005624610930681,
  -0.0006047151400707662, -0.0006047151400707662, -0.0006047151400707662, -0.0006047151400707662, // P5
  0.2108062505722046, 0.2108062505722046, 0.2108062505722046, 0.2108062505722046, // R0 (offset 96)
  -0.07435097545385361, -0.07435097545385361, -0.07435097545385361, -0.07435097545385361,
  0.02492574043571949, 0.02492574043571949, 0.02492574043571949, 0.02492574043571949,
  -0.007992739789187908, -0.007992739789187908, -0.007992739789187908, -0.007992739789187908,
  0.0025543568190187216, 0.0025543568190187216, 0.0025543568190187216, 0.0025543568190187216,
  -0.0006180860800668597, -0.0006180860800668597, -0.0006180860800668597, -0.0006180860800668597,
  0.00021164349163882434, 0.00021164349163882434, 0.00021164349163882434, 0.00021164349163882434,
  -0.00017281532927881926, -0.00017281532927881926, -0.00017281532927881926, -0.00017281532927881926,
  -7.946206460474059e-05, -7.946206460474059e-05, -7.946206460474059e-05, -7.946206460474059e-05,
  -3.2267958886222914e-05, -3.2267958886222914e-05, -3.2267958886222914e-05, -3.2267958886222914e-05, // R9
]);

/** 1 + erf(z) on four float32 lanes (see ERF_F32); NaN stays NaN, ±inf give 2 and 0. */
@inline export function onePlusErfF32x4(z: v128): v128 {
  const a = f32x4.abs(z), z2 = f32x4.mul(z, z);
  let p = v128.load(ERF_F32, 80);
  p = f32x4.add(f32x4.mul(p, z2), v128.load(ERF_F32, 64));
  p = f32x4.add(f32x4.mul(p, z2), v128.load(ERF_F32, 48));
  p = f32x4.add(f32x4.mul(p, z2), v128.load(ERF_F32, 32));
  p = f32x4.add(f32x4.mul(p, z2), v128.load(ERF_F32, 16));
  p = f32x4.add(f32x4.mul(p, z2), v128.load(ERF_F32));
  const inner = f32x4.add(f32x4.splat(1), f32x4.mul(z, p));
  const t = f32x4.sub(f32x4.pmin(a, f32x4.splat(4)), f32x4.splat(2.5));
  let r = v128.load(ERF_F32, 240);
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 224));
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 208));
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 192));
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 176));
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 160));
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 144));
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 128));
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 112));
  r = f32x4.add(f32x4.mul(r, t), v128.load(ERF_F32, 96));
  const tail = v128.andnot(f32x4.mul(expNonPositiveF32x4(f32x4.neg(z2)), r), f32x4.gt(a, f32x4.splat(4)));
  const outer = v128.bitselect(tail, f32x4.sub(f32x4.splat(2), tail), f32x4.lt(z, f32x4.splat(0)));
  return v128.bitselect(inner, outer, f32x4.le(a, f32x4.splat(0.921875)));
}
