// The numeric cores of the spectral decompositions (svd, eigh, pinv in assembly/ops/linalg.ts), on
// one matrix at a time in f64 scratch, whatever the tensor's dtype:
//
// - one-sided Jacobi (Hestenes) for the SVD: the columns of the taller orientation of A are rotated
//   in pairs until every pair is orthogonal; their norms are the singular values;
// - cyclic Jacobi for the symmetric eigenproblem: plane rotations zero the off-diagonal entries.
//
// Both sweep the pairs (p, q), p < q, in row-cyclic order and stop after the first sweep that makes
// no rotation (at most MAX_SWEEPS), with a fixed rule for when a pair needs one; they use only +,
// −, ×, ÷ and sqrt (IEEE, correctly rounded in wasm) and SIMD without relaxed lanes, so the bits
// are the same on every engine. No host Math anywhere.

/** The rotation loops stop here at the latest (Jacobi converges quadratically: a few sweeps do). */
export const MAX_SWEEPS = 64;
const EPS: f64 = 2.220446049250313e-16; // 2⁻⁵²

@inline function ld(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
@inline function st(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }
@inline function row(p: usize, r: i32, len: i32): usize { return p + ((<usize>r * <usize>len) << 3); }

/** Σ a[i]·b[i]: two lanes of partial sums, then lane 0 + lane 1, then the odd tail. */
export function dot64(a: usize, b: usize, n: i32): f64 {
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    acc = f64x2.add(acc, f64x2.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (i < n) s += ld(a, i) * ld(b, i);
  return s;
}

/** (a, b) ← (c·a − s·b, s·a + c·b), elementwise over n. */
function rotate(a: usize, b: usize, c: f64, s: f64, n: i32): void {
  const vc = f64x2.splat(c), vs = f64x2.splat(s);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const x = v128.load(a + o), y = v128.load(b + o);
    v128.store(a + o, f64x2.sub(f64x2.mul(vc, x), f64x2.mul(vs, y)));
    v128.store(b + o, f64x2.add(f64x2.mul(vs, x), f64x2.mul(vc, y)));
  }
  if (i < n) {
    const x = ld(a, i), y = ld(b, i);
    st(a, i, c * x - s * y);
    st(b, i, s * x + c * y);
  }
}

/**
 * t = tan of the Jacobi angle for cot 2θ = zeta: the root of t² + 2·zeta·t − 1 = 0 of smaller
 * magnitude, sign(zeta)/(|zeta| + √(1 + zeta²)) (sign(0) = +1), or 1/(2·zeta) where zeta² would overflow.
 */
@inline function jacobiTangent(zeta: f64): f64 {
  const z = abs(zeta);
  if (z > 1e150) return 0.5 / zeta;
  const t = 1 / (z + sqrt(1 + zeta * zeta));
  return zeta < 0 ? -t : t;
}

/** 2^k for k in [−1022, 1023], exactly. */
@inline function pow2(k: i32): f64 { return reinterpret<f64>(<u64>(k + 1023) << 52); }

/** x·2^k, exactly while the result is normal (two steps: 2^k alone may not be representable). */
export function scaleBy(x: f64, k: i32): f64 {
  const h = k >> 1;
  return x * pow2(h) * pow2(k - h);
}

/**
 * The power of two e to divide the n values at p by so that the largest magnitude lies near 1, or
 * 0 when it already lies within 2^±400 (squares and products then neither overflow nor underflow
 * in f64, and no value is touched). NaN when a value is not finite.
 */
export function balancingExponent(p: usize, n: i32): f64 {
  let big: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = abs(ld(p, i));
    if (!(v <= 1.7976931348623157e308)) return NaN; // inf or NaN
    if (v > big) big = v;
  }
  if (big == 0 || (big < 2.5822498780869086e120 && big > 3.872591914849318e-121)) return 0; // 2^±400
  return <f64>(<i32>((reinterpret<u64>(big) >> 52) & 0x7ff) - 1023);
}

/** Multiplies the n values at p by 2^k. */
export function scaleAll(p: usize, n: i32, k: i32): void {
  if (k == 0) return;
  for (let i = 0; i < n; i++) st(p, i, scaleBy(ld(p, i), k));
}

// ————————————————————————————————————————————————————————— one-sided Jacobi (SVD)

/**
 * Rotates the k rows of W (each of length len) in pairs until every pair (p, q) is orthogonal to
 * |w_p·w_q| <= len·ε·‖w_p‖·‖w_q‖; each rotation is applied to the rows of J (k×k) too when J is
 * not 0. The rotation of a pair is the one that makes it exactly orthogonal (Hestenes): with
 * α = ‖w_p‖², β = ‖w_q‖², γ = w_p·w_q, ζ = (β − α)/(2γ), t = jacobiTangent(ζ), c = 1/√(1 + t²),
 * s = c·t, (w_p, w_q) ← (c·w_p − s·w_q, s·w_p + c·w_q).
 */
export function jacobiOrthogonalize(W: usize, k: i32, len: i32, J: usize): void {
  const tol = <f64>max(len, 1) * EPS;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) {
      const wp = row(W, p, len);
      for (let q = p + 1; q < k; q++) {
        const wq = row(W, q, len);
        const alpha = dot64(wp, wp, len), beta = dot64(wq, wq, len), gamma = dot64(wp, wq, len);
        if (!(abs(gamma) > tol * sqrt(alpha) * sqrt(beta))) continue;
        const t = jacobiTangent((beta - alpha) / (2 * gamma));
        const c = 1 / sqrt(1 + t * t), s = c * t;
        rotate(wp, wq, c, s, len);
        if (J != 0) rotate(row(J, p, k), row(J, q, k), c, s, k);
        rotated = true;
      }
    }
    if (!rotated) break;
  }
}

// ————————————————————————————————————————————————————————— cyclic Jacobi (symmetric eigenproblem)

/**
 * Diagonalises the symmetric n×n matrix A (full storage, row-major) in place by plane rotations
 * JᵀAJ that zero a_pq, for every pair with |a_pq| > ε·√|a_pp|·√|a_qq|: θ = (a_qq − a_pp)/(2·a_pq),
 * t = jacobiTangent(θ), c = 1/√(1 + t²), s = c·t; rows p and q are rotated, the columns copied
 * from them (so A stays exactly symmetric), and a_pp −= t·a_pq, a_qq += t·a_pq, a_pq = 0. The
 * rotations are applied to the rows of V (n×n, rows = the eigenvectors) when V is not 0.
 */
export function jacobiEigen(A: usize, n: i32, V: usize): void {
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      const ap = row(A, p, n);
      for (let q = p + 1; q < n; q++) {
        const aq = row(A, q, n);
        const apq = ld(ap, q), app = ld(ap, p), aqq = ld(aq, q);
        if (!(abs(apq) > EPS * sqrt(abs(app)) * sqrt(abs(aqq)))) continue;
        const t = jacobiTangent((aqq - app) / (2 * apq));
        const c = 1 / sqrt(1 + t * t), s = c * t;
        rotate(ap, aq, c, s, n);
        st(ap, p, app - t * apq);
        st(aq, q, aqq + t * apq);
        st(ap, q, 0);
        st(aq, p, 0);
        for (let r = 0; r < n; r++) {
          if (r == p || r == q) continue;
          st(row(A, r, n), p, ld(ap, r));
          st(row(A, r, n), q, ld(aq, r));
        }
        if (V != 0) rotate(row(V, p, n), row(V, q, n), c, s, n);
        rotated = true;
      }
    }
    if (!rotated) break;
  }
}

// ————————————————————————————————————————————————————————— order, bases, signs

/** ord[0..k) = the indices of v[0..k) by value, descending or ascending; equal values keep their order. */
export function sortOrder(v: usize, k: i32, ord: usize, descending: bool): void {
  for (let i = 0; i < k; i++) store<i32>(ord + (<usize>i << 2), i);
  for (let i = 1; i < k; i++) {
    const cur = load<i32>(ord + (<usize>i << 2));
    const x = ld(v, cur);
    let j = i;
    while (j > 0) {
      const prev = load<i32>(ord + (<usize>(j - 1) << 2));
      const y = ld(v, prev);
      if (descending ? !(y < x) : !(y > x)) break;
      store<i32>(ord + (<usize>j << 2), prev);
      j--;
    }
    store<i32>(ord + (<usize>j << 2), cur);
  }
}

/**
 * Makes rows [0, total) of X (each of length len) an orthonormal set, given that the rows whose
 * byte in `have` is 1 already are: every other row becomes, in index order, the standard basis
 * vector e_i least covered by the rows so far (the smallest Σ x_r[i]², the first such i) with its
 * projections on them removed twice, normalised. lev holds len f64s of scratch.
 */
export function completeBasis(X: usize, total: i32, len: i32, have: usize, lev: usize): void {
  for (let i = 0; i < len; i++) st(lev, i, 0);
  for (let r = 0; r < total; r++) {
    if (load<u8>(have + <usize>r) == 0) continue;
    const x = row(X, r, len);
    for (let i = 0; i < len; i++) { const v = ld(x, i); st(lev, i, ld(lev, i) + v * v); }
  }
  for (let r = 0; r < total; r++) {
    if (load<u8>(have + <usize>r) != 0) continue;
    let pick = 0;
    for (let i = 1; i < len; i++) if (ld(lev, i) < ld(lev, pick)) pick = i;
    const x = row(X, r, len);
    for (let i = 0; i < len; i++) st(x, i, i == pick ? 1 : 0);
    for (let pass = 0; pass < 2; pass++) {
      for (let o = 0; o < total; o++) {
        if (load<u8>(have + <usize>o) == 0) continue;
        const y = row(X, o, len);
        const c = dot64(y, x, len);
        for (let i = 0; i < len; i++) st(x, i, ld(x, i) - c * ld(y, i));
      }
    }
    const norm = sqrt(dot64(x, x, len));
    for (let i = 0; i < len; i++) { const v = ld(x, i) / norm; st(x, i, v); st(lev, i, ld(lev, i) + v * v); }
    store<u8>(have + <usize>r, 1);
  }
}

/** Whether the entry of largest magnitude of x (the first such) is negative. */
export function leadsNegative(x: usize, len: i32): bool {
  let pick = 0;
  let best: f64 = -1;
  for (let i = 0; i < len; i++) { const v = abs(ld(x, i)); if (v > best) { best = v; pick = i; } }
  return len > 0 && ld(x, pick) < 0;
}

/** x ← 0 − x over len values (0 − x, not −x: a zero stays +0). */
export function negate(x: usize, len: i32): void {
  for (let i = 0; i < len; i++) st(x, i, 0 - ld(x, i));
}
