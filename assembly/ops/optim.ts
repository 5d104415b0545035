// Optimizer updates: fused in-place kernels over all parameters of a step, never recorded on the
// tape. One call of optimStep walks a list of (param, grad, state…) records and applies
// PyTorch's single-tensor update of torch.optim.SGD / Adam / AdamW / RMSprop / Adagrad (as of
// torch 1.13, whose fixtures the tests hold; 2.x moved exp_avg to lerp_, a rounding-level
// difference), with the same operation order — addcmul/addcdiv as self + (value·t1)·t2 and
// self + (value·t1)/t2 — (and rounding to the parameter's dtype after each PyTorch op), so float32
// results agree with PyTorch to a few ulp and float64 ones almost exactly.
//
// Also here: the global gradient norm and in-place scaling / clamping of gradients (clipping),
// the flat-vector kernels of L-BFGS (gather, axpy, dot, the two-loop recursion), and a raw data
// copy for loading state.

import { DType, Op } from "../core/vocabulary";
import {
  OPTIM_RECORD_WORDS, OPTIM_HYPER_WORDS, H_LR, H_WD, H_MOMENTUM, H_DAMPENING, H_NESTEROV, H_MAXIMIZE, H_BETA1, H_BETA2,
  H_EPS, H_AMSGRAD, H_ALPHA, H_CENTERED, H_LR_DECAY,
} from "../core/abi";
import { dtypeOf, dataOf, numelOf, isLive, capturingNow, setCaptureMode, fail } from "../core/tensor";
import { progBegin, progInput, progAttr, E_GUARD } from "../engine/accelerate";

// kinds
const SGD = 0;
const ADAM = 1;
const ADAMW = 2;
const RMSPROP = 3;
const ADAGRAD = 4;
// MATLAB's adamupdate / sgdmupdate / rmspropupdate (their own formulas: ε outside the bias
// correction, velocity = momentum·vel − lr·g, no bias correction in RMSProp)
const MATLAB_ADAM = 5;
const MATLAB_SGDM = 6;
const MATLAB_RMSPROP = 7;

// Hyperparameters: f64s at `hyper`, by index.

// A record per parameter: i32 ids (0 = none), the step count after this step, its group, and
// (if not 0) an int32 rank-0 step counter the kernel advances and reads instead of R_STEP —
// so a replayed update counts its steps in wasm exactly as eager steps do.
const R_PARAM = 0;
const R_GRAD = 1;
const R_S0 = 2;
const R_S1 = 3;
const R_S2 = 4;
const R_STEP = 5;
const R_GROUP = 6; // which block of hyperparameters (param group)
const R_COUNTER = 7;
const R_WORDS = OPTIM_RECORD_WORDS;
const STATE_IDS = 6; // param, grad, state0..2, counter: the ids a program record names per parameter
const H_WORDS = OPTIM_HYPER_WORDS; // f64s per param group

@inline function h(hyper: usize, k: i32): f64 { return load<f64>(hyper + (<usize>k << 3)); }
@inline function field(list: usize, i: i32, k: i32): i32 { return load<i32>(list + (<usize>(i * R_WORDS + k) << 2)); }

/**
 * g ← ±grad (+ wd·p). Writes the effective gradient into `work` (a scratch run of n elements)
 * so the update kernels below read one gradient, as PyTorch's `grad = grad.add(param, alpha=wd)`.
 */
function effectiveGrad<T>(pg: usize, pp: usize, work: usize, n: i32, wd: T, maximize: bool): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const vwd = v128.splat<T>(wd);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = <usize>i * size;
    let g = v128.load(pg + o);
    if (maximize) g = v128.neg<T>(g);
    if (wd != 0) g = v128.add<T>(g, v128.mul<T>(vwd, v128.load(pp + o)));
    v128.store(work + o, g);
  }
  for (; i < n; i++) {
    const o = <usize>i * size;
    let g = load<T>(pg + o);
    if (maximize) g = -g;
    if (wd != 0) g = g + wd * load<T>(pp + o);
    store<T>(work + o, g);
  }
}

// Scratch for the effective gradient, in chunks so no allocation is needed.
const CHUNK = 4096;
const WORK = memory.data(CHUNK * 8, 16);

function sgdRun<T>(pp: usize, pb: usize, n: i32, hyper: usize, first: bool): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const lr = <T>h(hyper, H_LR), momentum = <T>h(hyper, H_MOMENTUM);
  const damp = <T>(1.0 - h(hyper, H_DAMPENING));
  const nesterov = h(hyper, H_NESTEROV) != 0;
  const vlr = v128.splat<T>(-lr), vm = v128.splat<T>(momentum), vd = v128.splat<T>(damp);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = <usize>i * size;
    let g = v128.load(WORK + o);
    if (pb != 0) {
      let b = first ? g : v128.add<T>(v128.mul<T>(v128.load(pb + o), vm), v128.mul<T>(g, vd));
      v128.store(pb + o, b);
      g = nesterov ? v128.add<T>(g, v128.mul<T>(b, vm)) : b;
    }
    v128.store(pp + o, v128.add<T>(v128.load(pp + o), v128.mul<T>(g, vlr)));
  }
  for (; i < n; i++) {
    const o = <usize>i * size;
    let g = load<T>(WORK + o);
    if (pb != 0) {
      const b: T = first ? g : load<T>(pb + o) * momentum + g * damp;
      store<T>(pb + o, b);
      g = nesterov ? g + b * momentum : b;
    }
    store<T>(pp + o, load<T>(pp + o) + g * -lr);
  }
}

function adamRun<T>(pp: usize, pm: usize, pv: usize, pmax: usize, n: i32, hyper: usize, step: i32): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const lr = h(hyper, H_LR), beta1 = h(hyper, H_BETA1), beta2 = h(hyper, H_BETA2);
  const bc1 = 1.0 - Math.pow(beta1, <f64>step);
  const bc2Sqrt = Math.sqrt(1.0 - Math.pow(beta2, <f64>step));
  const stepSize = <T>(lr / bc1);
  const b1 = <T>beta1, w1 = <T>(1.0 - beta1), b2 = <T>beta2, w2 = <T>(1.0 - beta2);
  const eps = <T>h(hyper, H_EPS), bcs = <T>bc2Sqrt;
  const vb1 = v128.splat<T>(b1), vw1 = v128.splat<T>(w1), vb2 = v128.splat<T>(b2), vw2 = v128.splat<T>(w2), veps = v128.splat<T>(eps);
  const vbcs = v128.splat<T>(bcs), vstep = v128.splat<T>(-stepSize);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = <usize>i * size;
    const g = v128.load(WORK + o);
    const m = v128.add<T>(v128.mul<T>(v128.load(pm + o), vb1), v128.mul<T>(vw1, g));
    v128.store(pm + o, m);
    let v = v128.add<T>(v128.mul<T>(v128.load(pv + o), vb2), v128.mul<T>(v128.mul<T>(vw2, g), g));
    v128.store(pv + o, v);
    if (pmax != 0) {
      v = v128.max<T>(v128.load(pmax + o), v);
      v128.store(pmax + o, v);
    }
    const denom = v128.add<T>(v128.div<T>(v128.sqrt<T>(v), vbcs), veps);
    v128.store(pp + o, v128.add<T>(v128.load(pp + o), v128.div<T>(v128.mul<T>(vstep, m), denom)));
  }
  for (; i < n; i++) {
    const o = <usize>i * size;
    const g = load<T>(WORK + o);
    const m: T = load<T>(pm + o) * b1 + w1 * g;
    store<T>(pm + o, m);
    let v: T = load<T>(pv + o) * b2 + w2 * g * g;
    store<T>(pv + o, v);
    if (pmax != 0) {
      v = max<T>(load<T>(pmax + o), v);
      store<T>(pmax + o, v);
    }
    const denom: T = sqrt<T>(v) / bcs + eps;
    store<T>(pp + o, load<T>(pp + o) + -stepSize * m / denom);
  }
}

function rmspropRun<T>(pp: usize, psq: usize, pbuf: usize, pavg: usize, n: i32, hyper: usize): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const lr = <T>h(hyper, H_LR), alpha = <T>h(hyper, H_ALPHA), w = <T>(1.0 - h(hyper, H_ALPHA));
  const eps = <T>h(hyper, H_EPS), momentum = <T>h(hyper, H_MOMENTUM);
  const va = v128.splat<T>(alpha), vw = v128.splat<T>(w), veps = v128.splat<T>(eps);
  const vm = v128.splat<T>(momentum), vlr = v128.splat<T>(-lr);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = <usize>i * size;
    const g = v128.load(WORK + o);
    const sq = v128.add<T>(v128.mul<T>(v128.load(psq + o), va), v128.mul<T>(v128.mul<T>(vw, g), g));
    v128.store(psq + o, sq);
    let avg: v128;
    if (pavg != 0) {
      const ga = v128.add<T>(v128.mul<T>(v128.load(pavg + o), va), v128.mul<T>(vw, g));
      v128.store(pavg + o, ga);
      avg = v128.sqrt<T>(v128.sub<T>(sq, v128.mul<T>(ga, ga)));
    } else {
      avg = v128.sqrt<T>(sq);
    }
    avg = v128.add<T>(avg, veps);
    if (pbuf != 0) {
      const b = v128.add<T>(v128.mul<T>(v128.load(pbuf + o), vm), v128.div<T>(g, avg));
      v128.store(pbuf + o, b);
      v128.store(pp + o, v128.add<T>(v128.load(pp + o), v128.mul<T>(b, vlr)));
    } else {
      v128.store(pp + o, v128.add<T>(v128.load(pp + o), v128.div<T>(v128.mul<T>(vlr, g), avg)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i * size;
    const g = load<T>(WORK + o);
    const sq: T = load<T>(psq + o) * alpha + w * g * g;
    store<T>(psq + o, sq);
    let avg: T;
    if (pavg != 0) {
      const ga: T = load<T>(pavg + o) * alpha + w * g;
      store<T>(pavg + o, ga);
      avg = sqrt<T>(sq - ga * ga);
    } else {
      avg = sqrt<T>(sq);
    }
    avg = avg + eps;
    if (pbuf != 0) {
      const b: T = load<T>(pbuf + o) * momentum + g / avg;
      store<T>(pbuf + o, b);
      store<T>(pp + o, load<T>(pp + o) + b * -lr);
    } else {
      store<T>(pp + o, load<T>(pp + o) + -lr * g / avg);
    }
  }
}

function adagradRun<T>(pp: usize, psum: usize, n: i32, hyper: usize, step: i32): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const clr = <T>(h(hyper, H_LR) / (1.0 + <f64>(step - 1) * h(hyper, H_LR_DECAY)));
  const eps = <T>h(hyper, H_EPS);
  const veps = v128.splat<T>(eps), vclr = v128.splat<T>(-clr);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = <usize>i * size;
    const g = v128.load(WORK + o);
    const s = v128.add<T>(v128.load(psum + o), v128.mul<T>(g, g));
    v128.store(psum + o, s);
    const std = v128.add<T>(v128.sqrt<T>(s), veps);
    v128.store(pp + o, v128.add<T>(v128.load(pp + o), v128.div<T>(v128.mul<T>(vclr, g), std)));
  }
  for (; i < n; i++) {
    const o = <usize>i * size;
    const g = load<T>(WORK + o);
    const s: T = load<T>(psum + o) + g * g;
    store<T>(psum + o, s);
    store<T>(pp + o, load<T>(pp + o) + -clr * g / (sqrt<T>(s) + eps));
  }
}

function matlabRun<T>(kind: i32, pp: usize, p0: usize, p1: usize, n: i32, hyper: usize, step: i32): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const lr = h(hyper, H_LR), b1 = h(hyper, H_BETA1), b2 = h(hyper, H_BETA2);
  const eps = <T>h(hyper, H_EPS), m = <T>h(hyper, H_MOMENTUM);
  // adam: the effective rate lr·√(1 − β2^t)/(1 − β1^t)
  const rate = <T>(kind == MATLAB_ADAM ? lr * Math.sqrt(1.0 - Math.pow(b2, <f64>step)) / (1.0 - Math.pow(b1, <f64>step)) : lr);
  const tb1 = <T>b1, tw1 = <T>(1.0 - b1), tb2 = <T>b2, tw2 = <T>(1.0 - b2);
  const vrate = v128.splat<T>(rate), veps = v128.splat<T>(eps), vm = v128.splat<T>(m);
  const vb1 = v128.splat<T>(tb1), vw1 = v128.splat<T>(tw1), vb2 = v128.splat<T>(tb2), vw2 = v128.splat<T>(tw2);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = <usize>i * size;
    const g = v128.load(WORK + o);
    let step: v128;
    if (kind == MATLAB_SGDM) {
      step = v128.sub<T>(v128.mul<T>(vm, v128.load(p0 + o)), v128.mul<T>(vrate, g));
      v128.store(p0 + o, step);
    } else {
      const v = v128.add<T>(v128.mul<T>(vb2, v128.load(p1 + o)), v128.mul<T>(vw2, v128.mul<T>(g, g)));
      v128.store(p1 + o, v);
      let num = g;
      if (kind == MATLAB_ADAM) {
        num = v128.add<T>(v128.mul<T>(vb1, v128.load(p0 + o)), v128.mul<T>(vw1, g));
        v128.store(p0 + o, num);
      }
      step = v128.neg<T>(v128.mul<T>(vrate, v128.div<T>(num, v128.add<T>(v128.sqrt<T>(v), veps))));
    }
    v128.store(pp + o, v128.add<T>(v128.load(pp + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i * size;
    const g = load<T>(WORK + o);
    let step: T;
    if (kind == MATLAB_SGDM) {
      step = m * load<T>(p0 + o) - rate * g;
      store<T>(p0 + o, step);
    } else {
      const v: T = tb2 * load<T>(p1 + o) + tw2 * (g * g);
      store<T>(p1 + o, v);
      let num = g;
      if (kind == MATLAB_ADAM) {
        num = tb1 * load<T>(p0 + o) + tw1 * g;
        store<T>(p0 + o, num);
      }
      step = -(rate * (num / (sqrt<T>(v) + eps)));
    }
    store<T>(pp + o, load<T>(pp + o) + step);
  }
}

@inline function at(id: i32, off: usize): usize { return id == 0 ? 0 : dataOf(id) + off; }

function stepTensor<T>(kind: i32, list: usize, i: i32, hyper: usize): void {
  const size = <usize>sizeof<T>();
  const p = field(list, i, R_PARAM), g = field(list, i, R_GRAD);
  const s0 = field(list, i, R_S0), s1 = field(list, i, R_S1), s2 = field(list, i, R_S2);
  const counter = field(list, i, R_COUNTER);
  let step = field(list, i, R_STEP);
  if (counter != 0) {
    step = load<i32>(dataOf(counter)) + 1;
    store<i32>(dataOf(counter), step);
  }
  const n = numelOf(p);
  const maximize = h(hyper, H_MAXIMIZE) != 0;
  let wd = h(hyper, H_WD);
  if (kind == ADAMW) {
    // param.mul_(1 − lr·wd) before the Adam update; the gradient gets no decay term.
    const f = <T>(1.0 - h(hyper, H_LR) * wd);
    const pp = dataOf(p);
    for (let k = 0; k < n; k++) store<T>(pp + <usize>k * size, load<T>(pp + <usize>k * size) * f);
    wd = 0;
  }
  for (let start = 0; start < n; start += CHUNK) {
    const len = min(CHUNK, n - start);
    const off = <usize>start * size;
    effectiveGrad<T>(dataOf(g) + off, dataOf(p) + off, WORK, len, <T>wd, maximize);
    const pp = dataOf(p) + off;
    if (kind == SGD) sgdRun<T>(pp, at(s0, off), len, hyper, step == 1);
    else if (kind == ADAM || kind == ADAMW) adamRun<T>(pp, at(s0, off), at(s1, off), at(s2, off), len, hyper, step);
    else if (kind == RMSPROP) rmspropRun<T>(pp, at(s0, off), at(s1, off), at(s2, off), len, hyper);
    else if (kind == ADAGRAD) adagradRun<T>(pp, at(s0, off), len, hyper, step);
    else matlabRun<T>(kind, pp, at(s0, off), at(s1, off), len, hyper, step);
  }
}

/**
 * One optimizer step over `n` parameters, updating them and their state in place. `list` holds
 * n records of 8 i32s (param, grad, state0, state1, state2, step, group, counter); `hyper` the
 * groups' hyperparameters, 16 f64s per group, or (hyperId != 0) the data of the float64 tensor
 * hyperId — which a replay reads afresh, so a learning-rate schedule the host writes into it
 * between replays takes effect. The host has checked shapes and dtypes. Returns 0.
 */
export function optimStep(kind: i32, n: i32, list: usize, hyper: usize, hyperId: i32): i32 {
  if (n > 0 && capturingNow()) captureOptimStep(kind, n, list, hyper, hyperId);
  return applyOptimStep(kind, n, list, hyperId != 0 ? dataOf(hyperId) : hyper);
}

function applyOptimStep(kind: i32, n: i32, list: usize, hyper: usize): i32 {
  for (let i = 0; i < n; i++) {
    const hp = hyper + <usize>(field(list, i, R_GROUP) * H_WORDS) * 8;
    if (dtypeOf(field(list, i, R_PARAM)) == DType.float32) stepTensor<f32>(kind, list, i, hp);
    else stepTensor<f64>(kind, list, i, hp);
  }
  return 0;
}

/**
 * The program record of an update: inputs are the STATE_IDS ids of each parameter, then the
 * hyperparameter tensor (or 0); attributes kind, n, each parameter's literal step and group, then
 * (without a hyperparameter tensor) the groups' hyperparameters as captured.
 */
function captureOptimStep(kind: i32, n: i32, list: usize, hyper: usize, hyperId: i32): void {
  if (!progBegin(Op.optimStep, field(list, 0, R_PARAM))) return;
  let groups = 0;
  for (let i = 0; i < n; i++) {
    progInput(field(list, i, R_PARAM)); progInput(field(list, i, R_GRAD));
    progInput(field(list, i, R_S0)); progInput(field(list, i, R_S1)); progInput(field(list, i, R_S2));
    progInput(field(list, i, R_COUNTER));
    groups = max(groups, field(list, i, R_GROUP) + 1);
  }
  progInput(hyperId);
  progAttr(<f64>kind); progAttr(<f64>n);
  for (let i = 0; i < n; i++) { progAttr(<f64>field(list, i, R_STEP)); progAttr(<f64>field(list, i, R_GROUP)); }
  if (hyperId == 0) for (let k = 0; k < groups * H_WORDS; k++) progAttr(h(hyper, k));
}

const MAX_RECORDS = 2048;
const REPLAY_LIST = memory.data(MAX_RECORDS * R_WORDS * 4, 16);

/**
 * Replays an update record: `ids` points at its inputs, `attrs` at its attributes. The step
 * counters advance as in eager steps; hyperparameters come from the live tensor if there is one.
 */
export function replayOptimStep(ids: usize, attrs: usize): void {
  const kind = <i32>load<f64>(attrs), n = <i32>load<f64>(attrs, 8);
  for (let i = 0; i < n; i++) {
    const r = REPLAY_LIST + (<usize>(i * R_WORDS) << 2), src = ids + (<usize>(i * STATE_IDS) << 2);
    store<i32>(r, load<i32>(src), R_PARAM * 4); store<i32>(r, load<i32>(src, 4), R_GRAD * 4);
    store<i32>(r, load<i32>(src, 8), R_S0 * 4); store<i32>(r, load<i32>(src, 12), R_S1 * 4);
    store<i32>(r, load<i32>(src, 16), R_S2 * 4); store<i32>(r, load<i32>(src, 20), R_COUNTER * 4);
    store<i32>(r, <i32>load<f64>(attrs + (<usize>(2 + 2 * i) << 3)), R_STEP * 4);
    store<i32>(r, <i32>load<f64>(attrs + (<usize>(3 + 2 * i) << 3)), R_GROUP * 4);
  }
  const hyperId = load<i32>(ids + (<usize>(n * STATE_IDS) << 2));
  const hyper = hyperId != 0 ? dataOf(hyperId) : attrs + (<usize>(2 + 2 * n) << 3);
  for (let i = 0; i < n; i++) {
    if (!hasStateFor(kind, REPLAY_LIST, i, hyper + <usize>(field(REPLAY_LIST, i, R_GROUP) * H_WORDS) * 8)) {
      fail(E_GUARD, Op.optimStep); // the host captures again: the eager step makes the state
      return;
    }
  }
  applyOptimStep(kind, n, REPLAY_LIST, hyper);
}

/**
 * Whether parameter i has every state tensor its live hyperparameters use. An option that adds
 * state (SGD or RMSprop momentum from 0, amsgrad, centered) may be set after a capture; the
 * captured record then has no tensor for it.
 */
function hasStateFor(kind: i32, list: usize, i: i32, hp: usize): bool {
  const s0 = field(list, i, R_S0) != 0, s1 = field(list, i, R_S1) != 0, s2 = field(list, i, R_S2) != 0;
  if (kind == SGD) return s0 || h(hp, H_MOMENTUM) == 0;
  if (kind == ADAM || kind == ADAMW) return s0 && s1 && (s2 || h(hp, H_AMSGRAD) == 0);
  if (kind == RMSPROP) return s0 && (s1 || h(hp, H_MOMENTUM) <= 0) && (s2 || h(hp, H_CENTERED) == 0);
  return true;
}

/** Turns capturing off (returning whether it was on): optimizer state made inside f is the optimizer's, not the program's. */
export function capturePause(): bool { const was = capturingNow(); setCaptureMode(false); return was; }
export function captureResume(was: bool): void { if (was) setCaptureMode(true); }
/** Whether accelerate is capturing a program (L-BFGS refuses: its control flow reads the loss). */
export function capturing(): bool { return capturingNow(); }

// ————————————————————————————————————————————————————————— clipping

function sumSquares<T>(p: usize, n: i32): f64 {
  let acc: f64 = 0;
  for (let i = 0; i < n; i++) { const v = <f64>load<T>(p + (<usize>i << (sizeof<T>() == 4 ? 2 : 3))); acc += v * v; }
  return acc;
}
function maxAbs<T>(p: usize, n: i32): f64 {
  let m: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = abs<f64>(<f64>load<T>(p + (<usize>i << (sizeof<T>() == 4 ? 2 : 3))));
    if (v > m || v != v) m = v;
  }
  return m;
}

/**
 * torch.nn.utils.clip_grad_norm_'s total norm: the 2-norm (or max-norm, `inf` != 0) of the
 * per-tensor norms of the `n` tensors whose ids are at `ids`. Each tensor's norm is rounded to
 * its dtype, as PyTorch's stack of per-tensor norms.
 */
export function gradNorm(ids: usize, n: i32, inf: i32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    const f32 = dtypeOf(id) == DType.float32;
    let norm: f64;
    if (inf != 0) norm = f32 ? maxAbs<f32>(dataOf(id), numelOf(id)) : maxAbs<f64>(dataOf(id), numelOf(id));
    else norm = Math.sqrt(f32 ? sumSquares<f32>(dataOf(id), numelOf(id)) : sumSquares<f64>(dataOf(id), numelOf(id)));
    if (f32) norm = <f64><f32>norm;
    if (inf != 0) { if (norm > total || norm != norm) total = norm; } else total += norm * norm;
  }
  return inf != 0 ? total : Math.sqrt(total);
}

/** Multiplies each of the n tensors at `ids` by s in place (s rounded to each dtype). */
export function scaleInPlace(ids: usize, n: i32, s: f64): void {
  for (let i = 0; i < n; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    const p = dataOf(id), m = numelOf(id);
    if (dtypeOf(id) == DType.float32) { const f = <f32>s; for (let k = 0; k < m; k++) store<f32>(p + (<usize>k << 2), load<f32>(p + (<usize>k << 2)) * f); }
    else for (let k = 0; k < m; k++) store<f64>(p + (<usize>k << 3), load<f64>(p + (<usize>k << 3)) * s);
  }
}

/** Clamps each of the n tensors at `ids` to [lo, hi] in place (NaN stays NaN). */
export function clampInPlace(ids: usize, n: i32, lo: f64, hi: f64): void {
  for (let i = 0; i < n; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    const p = dataOf(id), m = numelOf(id);
    if (dtypeOf(id) == DType.float32) {
      const a = <f32>lo, b = <f32>hi;
      for (let k = 0; k < m; k++) { const v = load<f32>(p + (<usize>k << 2)); store<f32>(p + (<usize>k << 2), v < a ? a : v > b ? b : v); }
    } else {
      for (let k = 0; k < m; k++) { const v = load<f64>(p + (<usize>k << 3)); store<f64>(p + (<usize>k << 3), v < lo ? lo : v > hi ? hi : v); }
    }
  }
}

// ————————————————————————————————————————————————————————— flat vectors (L-BFGS) and copies

/** Copies the data of the n tensors at `ids`, one after another, into flat (mode 0), or back (mode 1). */
export function flatten(ids: usize, n: i32, flat: i32, mode: i32): void {
  const size = <usize>(dtypeOf(flat) == DType.float32 ? 4 : 8);
  let off = dataOf(flat);
  for (let i = 0; i < n; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    const bytes = <usize>numelOf(id) * size;
    if (mode == 0) memory.copy(off, dataOf(id), bytes); else memory.copy(dataOf(id), off, bytes);
    off += bytes;
  }
}

/** p_i += t·d[segment i] for the n tensors at `ids` (PyTorch's p.add_(d, alpha=t)). */
export function addFlat(ids: usize, n: i32, d: i32, t: f64): void {
  let off: usize = 0;
  const pd = dataOf(d);
  for (let i = 0; i < n; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    const p = dataOf(id), m = numelOf(id);
    if (dtypeOf(id) == DType.float32) {
      const f = <f32>t;
      for (let k = 0; k < m; k++) { const o = <usize>k << 2; store<f32>(p + o, load<f32>(p + o) + f * load<f32>(pd + (off << 2) + o)); }
    } else {
      for (let k = 0; k < m; k++) { const o = <usize>k << 3; store<f64>(p + o, load<f64>(p + o) + t * load<f64>(pd + (off << 3) + o)); }
    }
    off += <usize>m;
  }
}

/** The dot product of two flat tensors, accumulated in their dtype in index order. */
export function flatDot(a: i32, b: i32): f64 {
  const n = numelOf(a), pa = dataOf(a), pb = dataOf(b);
  if (dtypeOf(a) == DType.float32) {
    let s: f32 = 0;
    for (let i = 0; i < n; i++) s += load<f32>(pa + (<usize>i << 2)) * load<f32>(pb + (<usize>i << 2));
    return s;
  }
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += load<f64>(pa + (<usize>i << 3)) * load<f64>(pb + (<usize>i << 3));
  return s;
}

/** y = a·x + b·y for flat tensors (scalars rounded to the dtype). */
export function flatAxpby(a: f64, x: i32, b: f64, y: i32): void {
  const n = numelOf(x), px = dataOf(x), py = dataOf(y);
  if (dtypeOf(x) == DType.float32) {
    const fa = <f32>a, fb = <f32>b;
    for (let i = 0; i < n; i++) { const o = <usize>i << 2; store<f32>(py + o, fa * load<f32>(px + o) + fb * load<f32>(py + o)); }
  } else {
    for (let i = 0; i < n; i++) { const o = <usize>i << 3; store<f64>(py + o, a * load<f64>(px + o) + b * load<f64>(py + o)); }
  }
}

/**
 * L-BFGS two-loop recursion (torch.optim.LBFGS): d ← −H·g from the k pairs (s_i = old_stps,
 * y_i = old_dirs, ro_i = 1/(y_i·s_i)) whose ids and ro are at `hist` (k records of i32 s, i32 y)
 * and `ro` (k f64s), with the initial inverse Hessian diagonal hDiag. `al` is scratch for k f64s.
 */
export function lbfgsDirection(d: i32, g: i32, hist: usize, ro: usize, k: i32, hDiag: f64, al: usize): void {
  // q = −g, kept in d
  flatAxpby(-1.0, g, 0.0, d);
  for (let i = k - 1; i >= 0; i--) {
    const s = load<i32>(hist + (<usize>(2 * i) << 2)), y = load<i32>(hist + (<usize>(2 * i + 1) << 2));
    const a = roundTo(d, flatDot(s, d) * load<f64>(ro + (<usize>i << 3)));
    store<f64>(al + (<usize>i << 3), a);
    flatAxpby(-a, y, 1.0, d);
  }
  // r = q·H_diag
  flatAxpby(0.0, d, hDiag, d);
  for (let i = 0; i < k; i++) {
    const s = load<i32>(hist + (<usize>(2 * i) << 2)), y = load<i32>(hist + (<usize>(2 * i + 1) << 2));
    const beI = roundTo(d, flatDot(y, d) * load<f64>(ro + (<usize>i << 3)));
    flatAxpby(load<f64>(al + (<usize>i << 3)) - beI, s, 1.0, d);
  }
}

/** A scalar computed from tensors of t's dtype, rounded as PyTorch's 0-d tensor of that dtype. */
@inline function roundTo(t: i32, v: f64): f64 { return dtypeOf(t) == DType.float32 ? <f64><f32>v : v; }

/** Copies src's data into dst (same numel and dtype, checked by the host); not recorded. */
export function copyData(dst: i32, src: i32): void {
  if (!isLive(dst) || !isLive(src)) return;
  memory.copy(dataOf(dst), dataOf(src), <usize>numelOf(src) * (dtypeOf(src) == DType.float64 ? 8 : dtypeOf(src) == DType.bool ? 1 : 4));
}

/** cos in wasm (learning-rate schedules): the same bits on every engine, unlike the host's Math.cos. */
export function scalarCos(x: f64): f64 { return Math.cos(x); }

/** max |x_i| (NaN if any is NaN) and Σ|x_i| of a flat tensor, each accumulated in its dtype. */
export function flatAbsMax(x: i32): f64 {
  return dtypeOf(x) == DType.float32 ? maxAbs<f32>(dataOf(x), numelOf(x)) : maxAbs<f64>(dataOf(x), numelOf(x));
}
export function flatAbsSum(x: i32): f64 {
  const n = numelOf(x), p = dataOf(x);
  if (dtypeOf(x) == DType.float32) {
    let s: f32 = 0;
    for (let i = 0; i < n; i++) s += abs<f32>(load<f32>(p + (<usize>i << 2)));
    return s;
  }
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += abs<f64>(load<f64>(p + (<usize>i << 3)));
  return s;
}
