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

@inline export function expT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.exp(<f32>x);
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
