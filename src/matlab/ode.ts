// dlode45: MATLAB's differentiable ODE solve (Deep Learning Toolbox, since R2021b), the operation
// of neural ODEs:
//
//   Y = dlode45(odefun, tspan, Y0, theta)
//   Y = dlode45(odefun, tspan, Y0, theta, Name=Value)   % DataFormat, RelativeTolerance,
//                                                        % AbsoluteTolerance, GradientMode
//
// integrates dy/dt = odefun(t, y, theta) from tspan(1) with y(tspan(1)) = Y0 and returns the
// solution at tspan(2:end). In wasmgrad: `dlode45(odefun, tspan, Y0, theta, options?)` with the
// options as an object (`{ GradientMode: 'adjoint' }`) or as MATLAB's name-value pairs after theta
// (`'GradientMode', 'adjoint'`), names matched case-insensitively as MATLAB does. The result is
// the state at tspan[1] (Y0's shape) when tspan has two times, else the states at tspan[1..]
// stacked along a new last axis (where MATLAB appends the 'T' dim of formatted data).
//
// The solver is ode45's: the Dormand–Prince 5(4) pair with FSAL, ode45's error norm and
// step-size control (MATLAB's ode45.m, followed line by line where marked "ode45"), in plain JS
// numbers on detached values, so no gradient flows through the controller (as in MATLAB):
// the step sizes are constants to the derivative.
//
//   GradientMode 'direct' (default): the steps are ordinary recorded ops; valueAndGrad, grad,
//     dlfeval/dlgradient and jvp differentiate through them (memory grows with the steps).
//   GradientMode 'adjoint': a customGrad function. Its forward pass solves without recording;
//     its VJP solves the augmented adjoint system [y, a, a_θ] backwards from tspan(end) to
//     tspan(1) with the same solver, a vector-Jacobian product of odefun at each stage, adding
//     the incoming cotangent at each output time: memory stays constant in the number of steps.
//     Only Y0 and the float tensors of theta get gradients (a differentiated tensor odefun
//     captures from outside is refused, not silently given none); first derivatives only.

import { Tensor, zeros } from '../tensor.js';
import { wasm, views, I32, recordWord, requireInit } from '../runtime.js';
import { openScope, closeScope, tidy, tensorsIn } from '../scope.js';
import { ValueError, ShapeError, DTypeError, NotDifferentiableError, formatShape } from '../errors.js';
import { options, opt, describeValue, isPlainObject, type OptionsOf } from '../options.js';
import { mapTensors, valueAndGrad } from '../autodiff.js';
import { customGrad } from '../custom.js';
import { Module } from '../nn/module.js';
import { add, mul, div, abs, maximum, neg } from '../ops/elementwise.js';
import { max, sum } from '../ops/reduce.js';
import { stack, select } from '../ops/shape.js';
import { T_SLOT, T_FLAGS, F_NEEDS_GRAD } from '../../assembly/core/abi.js';

const OP = 'dlode45';

/** dy/dt = odefun(t, y, theta): t a number, y shaped like Y0; returns a tensor shaped like Y0. */
export type OdeFunction<P = any> = (t: number, y: Tensor, theta: P) => Tensor;
/** The times: an array (or typed array, or 1-D tensor) of at least two, strictly monotonic. */
export type TimeSpan = readonly number[] | Float64Array | Float32Array | Tensor;

const DLODE45 = options('dlode45', {
  /** 'direct' (default): backpropagate through the solver's steps; 'adjoint': solve the adjoint ODE backwards (memory constant in the number of steps) */
  GradientMode: opt.oneOf('direct', 'adjoint'),
  /** relative error tolerance of each step (default 1e-3, as ode45) */
  RelativeTolerance: opt.number,
  /** absolute error tolerance of each step (default 1e-6, as ode45) */
  AbsoluteTolerance: opt.number,
  /** MATLAB's labels of Y0's dims ('CB', 'SSCB', …), one per dim, from S, C, B, U: checked, and otherwise a label (wasmgrad tensors carry no format) */
  DataFormat: opt.string,
});
/** Options of dlode45: GradientMode ('direct' default, 'adjoint'), RelativeTolerance (1e-3), AbsoluteTolerance (1e-6), DataFormat. */
export type Dlode45Options = OptionsOf<typeof DLODE45>;

interface Tolerances { rtol: number; atol: number }

// ————————————————————————————————————————————————————— Dormand–Prince 5(4), as ode45.m

// ode45: the nodes A, the stage weights B (row s: the weights of f1 … f(s+1) for stage s+2; the
// last row gives ynew, 5th order) and the error weights E (5th minus 4th order, f1 … f7).
const A = [1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const B = [
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];
// ode45's interpolant (ntrp45.m): y(t + s·h) = y + h·Σ_j f_j·(BI[j]·[s, s², s³, s⁴]).
const BI = [
  [1, -183 / 64, 37 / 12, -145 / 128],
  [0, 0, 0, 0],
  [0, 1500 / 371, -1000 / 159, 1000 / 371],
  [0, -125 / 32, 125 / 12, -375 / 64],
  [0, 9477 / 3392, -729 / 106, 25515 / 6784],
  [0, -11 / 7, 11 / 3, -55 / 28],
  [0, 3 / 2, -4, 5 / 2],
];
const POW = 1 / 5; // ode45: the error estimate is O(h^5)

/** The spacing of doubles at t (MATLAB's eps(t)). */
function epsOf(t: number): number {
  const a = Math.abs(t);
  if (a < 2.2250738585072014e-308) return 5e-324;
  return 2 ** (Math.floor(Math.log2(a)) - 52);
}

/** y + Σ_j c_j·f_j (zero weights skipped), for each component of a state. */
function combine(ys: readonly Tensor[], cs: readonly number[], fs: readonly (readonly Tensor[])[]): Tensor[] {
  return ys.map((y, m) => {
    let acc = y;
    for (let j = 0; j < cs.length; j++) if (cs[j] !== 0) acc = add(acc, mul(fs[j][m], cs[j]));
    return acc;
  });
}

/** Runs `fn` with tape recording paused: the controller's arithmetic is never differentiated. */
function detached<T>(fn: () => T): T {
  const was = wasm.setPaused(1);
  try {
    return fn();
  } finally {
    wasm.setPaused(was ? 1 : 0);
  }
}

/** max over components of ‖x ./ max(w, threshold)‖∞, read to a JS number (NaN if any NaN). */
function weightedMax(xs: readonly Tensor[], ws: readonly Tensor[], ws2: readonly Tensor[] | null, threshold: number): number {
  return detached(() => {
    let worst = 0;
    for (let m = 0; m < xs.length; m++) {
      const w = ws2 === null ? abs(ws[m]) : maximum(abs(ws[m]), abs(ws2[m]));
      const r = max(div(abs(xs[m]), maximum(w, threshold))).item() as number;
      if (Number.isNaN(r)) return NaN;
      if (r > worst) worst = r;
    }
    return worst;
  });
}

interface Problem {
  /** the derivative of each component of the state */
  F: (t: number, ys: Tensor[]) => Tensor[];
  t0: number;
  /** the times after t0, strictly monotonic away from it */
  ts: readonly number[];
  ys: Tensor[];
  tol: Tolerances;
  /**
   * false: ode45's output — step freely, fill each time in ts from the step's interpolant
   * (ntrp45), the last one exactly. true: step onto every time in ts (the adjoint pass, whose
   * state jumps there) and let onTime replace the state.
   */
  exact: boolean;
  onTime: (k: number, ys: Tensor[]) => Tensor[] | void;
}

/** The arena position of a live tensor (-1 when no scope owns it). */
function slotOf(t: Tensor): number {
  if (!t.isAlive) return -1;
  views();
  return I32[recordWord(t.id) + T_SLOT / 4];
}

/**
 * ode45's integration loop over a state of one or more tensors. Tensors made here are freed
 * as soon as the solution moves past them, so memory does not grow with the steps (in 'direct'
 * mode the tape keeps what it needs).
 */
function dopri(p: Problem): void {
  const { rtol, atol } = p.tol;
  const threshold = atol / rtol; // ode45
  const tfinal = p.ts[p.ts.length - 1];
  const tdir = Math.sign(tfinal - p.t0);
  const hmax = 0.1 * Math.abs(tfinal - p.t0); // ode45's default MaxStep
  // Tensors at arena positions from here on were made by this solve and may be freed by it;
  // anything older (Y0, theta, a tensor odefun returns from a closure) is never touched.
  const mark = wasm.arenaLength();
  const protect = new Set<Tensor>();
  const release = (old: readonly Tensor[], kept: readonly Tensor[]) => {
    const keep = new Set(kept);
    for (const t of old) if (!keep.has(t) && !protect.has(t) && slotOf(t) >= mark) t.dispose();
  };

  let t = p.t0;
  let ys = p.ys;
  let f1 = p.F(t, ys);
  // ode45's initial step: at most hmax and the first interval of tspan, then limited by the
  // slope, ‖f0 ./ max(|y|, threshold)‖∞ / (0.8·rtol^(1/5)).
  let hmin = 16 * epsOf(t);
  let absh = Math.min(hmax, Math.abs(p.ts[0] - p.t0));
  const rh = weightedMax(f1, ys, null, threshold) / (0.8 * rtol ** POW);
  if (Number.isNaN(rh)) throw notFinite(t);
  if (absh * rh > 1) absh = 1 / rh;
  absh = Math.max(absh, hmin);

  let next = 0; // the next time of ts to produce
  for (;;) {
    const tend = p.exact ? p.ts[next] : tfinal;
    hmin = 16 * epsOf(t);
    absh = Math.min(hmax, Math.max(hmin, absh));
    let h = tdir * absh;
    let done = false;
    // ode45: stretch the step if within 10% of the end.
    if (1.1 * absh >= Math.abs(tend - t)) {
      h = tend - t;
      absh = Math.abs(h);
      done = true;
    }
    let nofailed = true;
    let step: Step;
    for (;;) {
      const tnew = done ? tend : t + h * A[5];
      // The times of ts this step passes, filled from its interpolant ('exact': none).
      const passed: number[] = [];
      if (!p.exact) for (let k = next; k < p.ts.length && tdir * (tnew - p.ts[k]) >= 0; k++) passed.push(p.ts[k]);
      step = attempt(p, t, h, tnew, absh, ys, f1, threshold, passed);
      if (Number.isNaN(step.err)) throw notFinite(t);
      if (step.err <= rtol) break;
      // ode45: a failed step. Below the smallest step allowed, give up; else shrink, by the
      // error the first time (at most 10×), by half after that.
      if (absh <= hmin) {
        throw new ValueError(`${OP}: unable to meet integration tolerances without reducing the step size below ` +
          `the smallest value allowed (${hmin.toExponential(3)}) at time t = ${t} (RelativeTolerance ${rtol}, ` +
          `AbsoluteTolerance ${atol}); the problem may be stiff, or the solution may blow up`);
      }
      if (nofailed) {
        nofailed = false;
        absh = Math.max(hmin, absh * Math.max(0.1, 0.8 * (rtol / step.err) ** POW));
      } else {
        absh = Math.max(hmin, 0.5 * absh);
      }
      h = tdir * absh;
      done = false;
    }

    const { ynew, f7, outs, tnew } = step as Required<Step>;
    for (const out of outs) {
      for (const o of out) protect.add(o);
      p.onTime(next++, out);
    }
    let ys2 = ynew;
    let f2: Tensor[] | null = f7;
    let finished = done;
    if (p.exact && done) {
      const replaced = p.onTime(next++, ynew);
      if (replaced) { ys2 = replaced; f2 = null; } else for (const o of ynew) protect.add(o);
      finished = next === p.ts.length;
    }
    if (finished) { release([...ys, ...f1], [...ys2, ...(f2 ?? [])]); return; }
    // ode45: after a step without failures, aim for an error of 0.8·rtol next, growing at most 5×.
    if (nofailed) {
      const temp = 1.25 * (step.err / rtol) ** POW;
      absh = temp > 0.2 ? absh / temp : 5 * absh;
    }
    f2 ??= p.F(tnew, ys2); // the state jumped: FSAL's f7 is stale
    release([...ys, ...f1], [...ys2, ...f2]);
    t = tnew;
    ys = ys2;
    f1 = f2;
  }
}

interface Step { err: number; tnew: number; ynew?: Tensor[]; f7?: Tensor[]; outs?: Tensor[][] }

/** One Dormand–Prince step from (t, ys) of size h; its tensors freed unless it is accepted. */
function attempt(p: Problem, t: number, h: number, tnew: number, absh: number, ys: Tensor[], f1: Tensor[],
  threshold: number, passed: readonly number[]): Step {
  return tidy(() => {
    const fs: Tensor[][] = [f1];
    for (let s = 0; s < 5; s++) fs.push(p.F(t + h * A[s], combine(ys, B[s].map((c) => h * c), fs)));
    const ynew = combine(ys, B[5].map((c) => h * c), fs);
    const f7 = p.F(tnew, ynew);
    fs.push(f7);
    // ode45's error: absh·‖(f·E) ./ max(max(|y|, |ynew|), threshold)‖∞, on detached values.
    const err = absh * detached(() => {
      const errs = ys.map((_, m) => {
        let e = mul(fs[0][m], E[0]);
        for (let j = 1; j < 7; j++) if (E[j] !== 0) e = add(e, mul(fs[j][m], E[j]));
        return e;
      });
      return weightedMax(errs, ys, ynew, threshold);
    });
    if (!(err <= p.tol.rtol)) return { err, tnew };
    const hp = tnew - t; // ode45: "purify" h
    const outs = passed.map((tout) => {
      if (tout === tnew) return ynew;
      const s = (tout - t) / hp;
      return combine(ys, BI.map((b) => hp * s * (b[0] + s * (b[1] + s * (b[2] + s * b[3])))), fs);
    });
    return { err, tnew, ynew, f7, outs };
  });
}

function notFinite(t: number): ValueError {
  return new ValueError(`${OP}: the solution is not finite at t = ${t}: odefun returned NaN or Inf, or the solution overflowed`);
}

// ————————————————————————————————————————————————————— arguments

function checkOdefun(f: unknown): asserts f is OdeFunction {
  if (typeof f !== 'function') {
    const hint = f instanceof Module ? '; for a network, pass (t, y, theta) => net.call(y)' : '';
    throw new ValueError(`${OP}: odefun must be a function (t, y, theta) => dy/dt, got ${describeValue(f)}${hint}`);
  }
  const name = (f as { constructor?: { name?: unknown } }).constructor?.name;
  if (name === 'AsyncFunction' || name === 'AsyncGeneratorFunction') {
    throw new ValueError(`${OP}: odefun must be synchronous, got an async function`);
  }
}

function showTimes(ts: readonly number[]): string {
  return ts.length <= 8 ? `[${ts.join(', ')}]` : `[${ts.slice(0, 8).join(', ')}, … (${ts.length} times)]`;
}

function readTspan(tspan: unknown): number[] {
  let ts: number[];
  if (tspan instanceof Tensor) {
    tspan.use(`${OP} (tspan)`);
    if (tspan.rank > 1) throw new ShapeError(`${OP}: tspan must be a vector of times, got a tensor of shape ${formatShape(tspan.dims)}`);
    ts = Array.from(tspan.data() as ArrayLike<number>, Number);
  } else if (Array.isArray(tspan) || tspan instanceof Float64Array || tspan instanceof Float32Array) {
    ts = Array.from(tspan as ArrayLike<unknown>) as number[];
  } else {
    throw new ValueError(`${OP}: tspan must be an array of at least two times [t0, t1, …] (or a 1-D Tensor), got ${describeValue(tspan)}`);
  }
  ts.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${OP}: tspan[${i}] must be a finite number, got ${describeValue(v)}`);
  });
  if (ts.length < 2) throw new ValueError(`${OP}: tspan must have at least two times [t0, t1, …], got ${showTimes(ts)}`);
  const dir = Math.sign(ts[1] - ts[0]);
  for (let i = 1; i < ts.length; i++) {
    if (dir === 0 || Math.sign(ts[i] - ts[i - 1]) !== dir) {
      throw new ValueError(`${OP}: tspan must be strictly increasing or strictly decreasing, got ${showTimes(ts)}: ` +
        `tspan[${i}] = ${ts[i]} after tspan[${i - 1}] = ${ts[i - 1]}`);
    }
  }
  return ts;
}

function checkY0(Y0: unknown): asserts Y0 is Tensor {
  if (!(Y0 instanceof Tensor)) throw new ValueError(`${OP}: Y0 must be a float32 or float64 Tensor (the initial state), got ${describeValue(Y0)}`);
  Y0.use(`${OP} (Y0)`);
  if (Y0.dtype !== 'float32' && Y0.dtype !== 'float64') {
    throw new DTypeError(`${OP}: Y0 must be float32 or float64, got a ${Y0.dtype} tensor of shape ${formatShape(Y0.dims)}`);
  }
  if (Y0.numel() === 0) throw new ShapeError(`${OP}: Y0 has no elements (shape ${formatShape(Y0.dims)})`);
}

const isFloatTensor = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';

function hasModule(v: unknown, seen = new Set<unknown>()): boolean {
  if (v instanceof Module) return true;
  if (v === null || typeof v !== 'object' || seen.has(v)) return false;
  seen.add(v);
  if (Array.isArray(v)) return v.some((x) => hasModule(x, seen));
  return isPlainObject(v) && Object.values(v).some((x) => hasModule(x, seen));
}

function checkTheta(theta: unknown): void {
  if (typeof theta === 'string') {
    throw new ValueError(`${OP}: theta is missing: the 4th argument is the string ${JSON.stringify(theta)}; ` +
      `call dlode45(odefun, tspan, Y0, theta, 'Name', value) (theta may be null or {})`);
  }
  if (isPlainObject(theta) && tensorsIn(theta).length === 0) {
    const keys = Object.keys(theta);
    if (keys.length > 0 && keys.every((k) => DLODE45.keys.some((o) => o.toLowerCase() === k.toLowerCase()))) {
      throw new ValueError(`${OP}: theta is missing: the 4th argument {${keys.join(', ')}} holds options; ` +
        'call dlode45(odefun, tspan, Y0, theta, options) (theta may be null or {})');
    }
  }
  for (const t of tensorsIn(theta)) t.use(`${OP} (theta)`);
}

interface Parsed { mode: 'direct' | 'adjoint'; tol: Tolerances; format?: string }

/** The options: one object, or MATLAB's name-value pairs; names case-insensitive, as MATLAB. */
function parseOptions(rest: unknown[], Y0: Tensor): Parsed {
  while (rest.length > 0 && rest[rest.length - 1] === undefined) rest = rest.slice(0, -1);
  let raw: unknown;
  if (rest.length === 1 && typeof rest[0] !== 'string') {
    raw = rest[0];
  } else if (rest.length > 0) {
    if (rest.length % 2 !== 0) {
      throw new ValueError(`${OP}: name-value arguments come in pairs; '${String(rest[rest.length - 1])}' has no value`);
    }
    const pairs: Record<string, unknown> = {};
    for (let i = 0; i < rest.length; i += 2) {
      const name = rest[i];
      if (typeof name !== 'string') {
        throw new ValueError(`${OP}: expected an option name at argument ${i + 5}, got ${describeValue(name)} ` +
          '(options are one object or name-value pairs after theta)');
      }
      pairs[name] = rest[i + 1];
    }
    raw = pairs;
  }
  if (isPlainObject(raw)) {
    const canonical: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      const key = DLODE45.keys.find((o) => o.toLowerCase() === k.toLowerCase()) ?? k;
      if (Object.prototype.hasOwnProperty.call(canonical, key)) throw new ValueError(`${OP}: option '${key}' is given twice`);
      canonical[key] = key === 'GradientMode' && typeof v === 'string' ? v.toLowerCase() : v;
    }
    raw = canonical;
  }
  const o = DLODE45.parse(raw);
  const positive = (name: string, v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!(v > 0) || !Number.isFinite(v)) throw new ValueError(`${OP}: option '${name}' must be a positive finite number, got ${v}`);
    return v;
  };
  let rtol = positive('RelativeTolerance', o.RelativeTolerance, 1e-3);
  const atol = positive('AbsoluteTolerance', o.AbsoluteTolerance, 1e-6);
  // ode45 raises a RelTol below 100·eps of the data type to that (with a warning).
  const floor = 100 * (Y0.dtype === 'float32' ? 2 ** -23 : 2 ** -52);
  if (rtol < floor) rtol = floor;
  let format: string | undefined;
  if (o.DataFormat !== undefined) {
    format = o.DataFormat.toUpperCase();
    if (!/^[SCBTU]*$/.test(format)) {
      throw new ValueError(`${OP}: DataFormat '${o.DataFormat}' may only hold the labels S, C, B, T, U`);
    }
    if (format.includes('T')) {
      throw new ValueError(`${OP}: DataFormat '${o.DataFormat}' has a 'T' dim; Y0 is the state at one time and has none ` +
        '(the output gains its time dim last)');
    }
    if (format.length !== Y0.rank) {
      throw new ShapeError(`${OP}: DataFormat '${o.DataFormat}' labels ${format.length} dim(s) but Y0 has ${Y0.rank} (shape ${formatShape(Y0.dims)})`);
    }
  }
  return { mode: o.GradientMode ?? 'direct', tol: { rtol, atol }, format };
}

/** odefun(t, y, theta), checked to be a tensor shaped like Y0. */
function evalOde(odefun: OdeFunction, t: number, y: Tensor, theta: unknown, dims: readonly number[], dtype: string): Tensor {
  const f = odefun(t, y, theta);
  if (f !== null && typeof f === 'object' && typeof (f as { then?: unknown }).then === 'function') {
    (f as unknown as Promise<unknown>).then(undefined, () => {});
    throw new ValueError(`${OP}: odefun returned a Promise; it must be synchronous`);
  }
  if (!(f instanceof Tensor)) {
    throw new ValueError(`${OP}: odefun must return a Tensor shaped like Y0 (${formatShape(dims)}), got ${describeValue(f)} at t = ${t}`);
  }
  f.use(`${OP} (odefun's output)`);
  if (f.rank !== dims.length || f.dims.some((d, k) => d !== dims[k])) {
    throw new ShapeError(`${OP}: odefun(t, y, theta) returned shape ${formatShape(f.dims)} at t = ${t}, but Y0 has shape ` +
      `${formatShape(dims)}; dy/dt must have Y0's shape`);
  }
  if (f.dtype !== dtype) {
    throw new DTypeError(`${OP}: odefun(t, y, theta) returned a ${f.dtype} tensor at t = ${t}, but Y0 is ${dtype}; cast with .to('${dtype}')`);
  }
  return f;
}

// ————————————————————————————————————————————————————— the solve

/**
 * dlode45(odefun, tspan, Y0, theta, options?): the solution of dy/dt = odefun(t, y, theta),
 * y(tspan[0]) = Y0, at tspan[1], or, for more than two times, at tspan[1…] stacked along a new
 * last axis (MATLAB's appended 'T' dim). odefun is called with t as a number, y shaped like Y0
 * and theta as given (a tensor, an array or a plain object of tensors, or null). Options (an
 * object, or MATLAB's name-value pairs after theta; names case-insensitive): GradientMode
 * 'direct' (default) or 'adjoint', RelativeTolerance (1e-3), AbsoluteTolerance (1e-6),
 * DataFormat (checked labels of Y0's dims). tspan may decrease (integrating backwards).
 */
export function dlode45<P = any>(odefun: OdeFunction<P>, tspan: TimeSpan, Y0: Tensor, theta?: P, ...opts: unknown[]): Tensor {
  requireInit(OP);
  checkOdefun(odefun);
  const times = readTspan(tspan);
  checkY0(Y0);
  checkTheta(theta);
  const o = parseOptions(opts, Y0);
  if (times.length > 2 && Y0.rank === 8) {
    throw new ShapeError(`${OP}: Y0 of rank 8 (shape ${formatShape(Y0.dims)}) cannot gain the time axis that ${times.length - 1} output times need; 8 dims is the most wasmgrad supports`);
  }
  const problem: Solve = { odefun: odefun as OdeFunction, times, theta, tol: o.tol, dims: Y0.dims, dtype: Y0.dtype };
  if (o.mode === 'adjoint') return adjointSolve(problem, Y0);
  return solve(problem, Y0, theta);
}

interface Solve {
  odefun: OdeFunction;
  times: number[];
  theta: unknown;
  tol: Tolerances;
  dims: readonly number[];
  dtype: string;
}

/** The forward solve (recorded when something it reads is differentiated: 'direct' mode). */
function solve(s: Solve, Y0: Tensor, theta: unknown): Tensor {
  openScope(OP);
  let result: Tensor | undefined;
  try {
    const outs: Tensor[] = [];
    dopri({
      F: (t, [y]) => [evalOde(s.odefun, t, y, theta, s.dims, s.dtype)],
      t0: s.times[0], ts: s.times.slice(1), ys: [Y0], tol: s.tol, exact: false,
      onTime: (k, [y]) => { outs[k] = y; },
    });
    result = outs.length === 1 ? outs[0] : stack(outs, s.dims.length);
    return result;
  } finally {
    closeScope(result ? [result] : []);
  }
}

// ————————————————————————————————————————————————————— GradientMode 'adjoint'

/** A solve whose output may still be differentiated: what its VJP needs, by output tensor. */
interface Context extends Solve { id: number; gen: number }
const contexts = new Map<string, Context>();
let pending: Solve | undefined;
let adjointFn: ((...xs: Tensor[]) => Tensor) | undefined;

const keyOf = (id: number, gen: number) => `${id}:${gen}`;

function isLive(id: number, gen: number): boolean {
  try {
    return new Tensor(id).gen === gen;
  } catch {
    return false;
  }
}

/** theta with its float tensors replaced, in mapTensors' order, by `leaves`. */
function withLeaves(theta: unknown, leaves: readonly Tensor[]): unknown {
  let i = 0;
  return mapTensors(theta, (t) => (isFloatTensor(t) ? leaves[i++] : t));
}

function adjointSolve(s: Solve, Y0: Tensor): Tensor {
  if (hasModule(s.theta)) {
    throw new ValueError(`${OP}: with GradientMode 'adjoint', theta must hold tensors (a tensor, an array or a plain ` +
      "object of them), not a Module: pass the network's parameters as an object, or use GradientMode 'direct'");
  }
  // A context lives while its output does (the tape record of a custom function names it).
  for (const [key, c] of contexts) if (!isLive(c.id, c.gen)) contexts.delete(key);
  const leaves: Tensor[] = [];
  mapTensors(s.theta, (t) => { if (isFloatTensor(t)) leaves.push(t); });
  // A gradient is being taken: one recorded evaluation of odefun shows whether it reads a
  // differentiated tensor that is not an input of the custom function (the check repeats on
  // the first stage of the adjoint pass). Forward mode has no use for it: the custom function
  // refuses tangents.
  if (wasm.recordingNow() && wasm.forwardDepthNow() === 0) {
    openScope(OP);
    const mark = wasm.tapeLength();
    try {
      evalOde(s.odefun, s.times[0], Y0, s.theta, s.dims, s.dtype);
      refuseCaptured(mark, [Y0, ...leaves]);
    } finally {
      wasm.tapeDiscard(mark);
      closeScope([]);
    }
  }
  adjointFn ??= customGrad(adjointForward, adjointVjp, { name: OP, jvp: adjointJvp });
  pending = s;
  let out: Tensor;
  try {
    out = adjointFn(Y0, ...leaves);
  } finally {
    pending = undefined;
  }
  contexts.set(keyOf(out.id, out.gen), { ...s, id: out.id, gen: out.gen });
  return out;
}

/** The custom function's forward pass (recording paused by customGrad). */
function adjointForward(y0: Tensor, ...leaves: Tensor[]): Tensor {
  const s = pending!;
  return solve(s, y0, withLeaves(s.theta, leaves));
}

function adjointJvp(): Tensor {
  throw new NotDifferentiableError(`${OP}: forward mode (jvp) through GradientMode 'adjoint' is not supported; use GradientMode 'direct'`);
}

/**
 * The VJP: the adjoint a(t) = ∂L/∂y(t) and a_θ(t) = ∫_t^{t_end} aᵀ ∂f/∂θ solve, backwards from
 * t_end with y(t_end) = the output, a(t_end) = its cotangent, a_θ = 0,
 *   dy/dt = f,   da/dt = −aᵀ ∂f/∂y,   da_θ/dt = −aᵀ ∂f/∂θ,
 * and at each earlier output time t_i, y is reset to the forward solution there (no drift) and
 * a gains the cotangent of that output. At tspan[0], a is ∂L/∂Y0 and a_θ is ∂L/∂θ.
 */
function adjointVjp(g: Tensor, out: Tensor, ...inputs: Tensor[]): Tensor[] {
  const s = contexts.get(keyOf(out.id, out.gen));
  if (s === undefined) throw new NotDifferentiableError(`${OP}: the adjoint solve of this output is gone (the output was freed)`);
  if (wasm.recordingNow() || wasm.forwardDepthNow() > 0) {
    throw new NotDifferentiableError(`${OP}: GradientMode 'adjoint' gives first derivatives only; use GradientMode 'direct' for higher derivatives`);
  }
  const [, ...leaves] = inputs;
  const n = s.times.length;
  const axis = s.dims.length;
  const at = (x: Tensor, i: number) => (n === 2 ? x : select(x, axis, i - 1)); // output i ↔ tspan[i]
  openScope(OP);
  let result: Tensor[] = [];
  try {
    let checked = false;
    // −aᵀ·∂f/∂(y, θ) at (t, y): the gradient of ⟨−a, f(t, y, θ)⟩, and f itself. The level's
    // records are dropped when it is done (a first-order sweep never walks them), so the
    // backward pass keeps nothing per step.
    const stage = (t: number, y: Tensor, a: Tensor): Tensor[] => {
      const minusA = neg(a);
      const mark = wasm.tapeLength();
      try {
        const argnums = [0, ...leaves.map((_, k) => k + 1)];
        const [[, fy], grads] = valueAndGrad((yc: Tensor, ...ls: Tensor[]) => {
          const from = wasm.tapeLength();
          const fy = evalOde(s.odefun, t, yc, withLeaves(s.theta, ls), s.dims, s.dtype);
          if (!checked) { checked = true; refuseCaptured(from, [yc, ...ls]); }
          return [sum(mul(fy, minusA)), fy];
        }, { argnums, hasAux: true })(y, ...leaves) as [[Tensor, Tensor], Tensor[]];
        return [fy, ...grads];
      } finally {
        wasm.tapeDiscard(mark);
      }
    };
    const start = [at(out, n - 1), at(g, n - 1), ...leaves.map((l) => zeros(l.dims, { dtype: l.dtype }))];
    dopri({
      F: (t, [y, a]) => stage(t, y, a),
      t0: s.times[n - 1], ts: s.times.slice(0, n - 1).reverse(), ys: start, tol: s.tol, exact: true,
      onTime: (k, ys) => {
        const i = n - 2 - k; // the index in tspan of the time reached
        if (i === 0) { result = ys.slice(1); return; }
        return [at(out, i), add(ys[1], at(g, i)), ...ys.slice(2)];
      },
    });
    return result;
  } finally {
    closeScope(result);
  }
}

/**
 * Refuses an odefun that reads a differentiated tensor other than y and theta's (one it
 * captured): the adjoint pass could not give it its gradient.
 */
function refuseCaptured(from: number, own: readonly Tensor[]): void {
  const mine = new Set(own.map((t) => t.id));
  const made = new Set<number>();
  views();
  for (let r = from, end = wasm.tapeLength(); r < end; r++) {
    for (let k = 0, n = wasm.tapeRecordNumInputs(r); k < n; k++) {
      const id = wasm.tapeRecordInput(r, k);
      if (!made.has(id) && !mine.has(id) && (I32[recordWord(id) + T_FLAGS / 4] & F_NEEDS_GRAD) !== 0) {
        const t = new Tensor(id);
        throw new NotDifferentiableError(`${OP}: odefun reads a differentiated tensor of shape ${formatShape(t.dims)} that is ` +
          "not in theta; with GradientMode 'adjoint' only Y0 and theta's tensors get gradients: pass it in theta, or " +
          "use GradientMode 'direct'");
      }
    }
    made.add(wasm.tapeRecordOut(r));
  }
}
