// torch.optim.LBFGS: PyTorch's algorithm (minFunc's), step for step — the two-loop recursion
// over the last historySize pairs, an initial step of min(1, 1/|g|₁)·lr, and the optional
// strong-Wolfe line search with cubic interpolation. Parameters are viewed as one flat vector;
// the vector work (gather, axpy, dot products, the two-loop recursion) runs in wasm
// (assembly/ops/optim.ts), the scalar control flow here. The history lives in wasm memory.

import { Tensor, zeros, type DTypeName } from '../tensor.js';
import { keep, openScope, closeScope } from '../scope.js';
import { wasm, argsI32, views, F64, ARGS, requireInit } from '../runtime.js';
import { ValueError, ShapeError, DTypeError, DisposedError, formatShape } from '../errors.js';
import { Module, copyInto } from '../nn/module.js';
import type { Grads } from './optimizer.js';
import { NotAcceleratableError } from '../accelerate.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';
import { refusePromise } from '../autodiff.js';

/** Evaluates the objective at the current parameters: [loss, gradients] (as Optimizer.step takes them). */
export type Closure = () => readonly [Tensor | number, Grads];

const LBFGS_OPTIONS = options('optim.LBFGS', {
  /** learning rate (default 1) */
  lr: opt.any<number>(),
  /** iterations per step (default 20) */
  maxIter: opt.any<number>(),
  /** default floor(maxIter·5/4) */
  maxEval: opt.any<number>(),
  /** stop when the largest gradient element is at most this (default 1e-7) */
  toleranceGrad: opt.any<number>(),
  /** stop when the change of the loss or the parameters is below this (default 1e-9) */
  toleranceChange: opt.any<number>(),
  /** pairs kept for the inverse-Hessian estimate (default 100) */
  historySize: opt.any<number>(),
  /** null (fixed steps of lr) or 'strong_wolfe' */
  lineSearchFn: opt.any<'strong_wolfe' | null>(),
});
/** Options of optim.LBFGS: lr (1), maxIter (20), maxEval, toleranceGrad (1e-7), toleranceChange (1e-9), historySize (100), lineSearchFn (null or 'strong_wolfe'). */
export type LBFGSOptions = OptionsOf<typeof LBFGS_OPTIONS>;

/** The flat-vector toolkit over a fixed list of parameters. */
export class FlatParams {
  readonly numel: number;
  readonly dtype: DTypeName;
  constructor(readonly op: string, readonly source: Module | readonly Tensor[]) {
    const ps = this.params();
    if (ps.length === 0) throw new ValueError(`${op}: optimizer got an empty parameter list`);
    this.dtype = ps[0].dtype;
    for (const p of ps) {
      p.use(`${op} (params)`);
      if (p.dtype !== this.dtype || (p.dtype !== 'float32' && p.dtype !== 'float64')) throw new DTypeError(`${op}: parameters must all be float32 or all float64, got ${p.dtype} beside ${this.dtype}`);
    }
    this.numel = ps.reduce((n, p) => n + p.numel(), 0);
  }
  named(): [string, Tensor][] {
    return this.source instanceof Module ? this.source._ownNamedParameters() : (this.source as Tensor[]).map((t, i) => [String(i), t]);
  }
  params(): Tensor[] { return this.named().map(([, t]) => t); }
  ids(at = 0): number { return argsI32(this.params().map((p) => p.use(`${this.op} (params)`)), at); }
  vector(): Tensor { return keep(zeros([this.numel], { dtype: this.dtype })); }
  /** p += t·d */
  addTo(t: number, d: Tensor): void { const n = this.params().length; wasm.addFlat(this.ids(), n, d.id, t); }
  /** the parameters into x (0) or back from x (1) */
  copy(x: Tensor, mode: 0 | 1): void { const n = this.params().length; wasm.flattenInto(this.ids(), n, x.id, mode); }

  static dot(a: Tensor, b: Tensor): number { return wasm.flatDot(a.id, b.id); }
  dot(a: Tensor, b: Tensor): number { return wasm.flatDot(a.id, b.id); }
  /** y ← a·x + b·y */
  axpby(a: number, x: Tensor, b: number, y: Tensor): void { wasm.flatAxpby(a, x.id, b, y.id); }

  /** d ← −H·g by the two-loop recursion over the pairs (s_i, y_i) with ro_i = 1/(y_i·s_i) (one wasm call). */
  static direction(d: Tensor, g: Tensor, S: readonly Tensor[], Y: readonly Tensor[], ro: readonly number[], hDiag: number): void {
    const k = S.length;
    const hist = argsI32(S.flatMap((s, i) => [s.id, Y[i].id]), 0);
    views();
    const roAt = ARGS + 8 * 4096, alAt = roAt + 8 * Math.max(k, 1);
    if (alAt + 8 * k > ARGS + 65536) throw new ValueError(`L-BFGS: a history of ${k} pairs is too long (at most 2000)`);
    ro.forEach((r, i) => { F64[(roAt >>> 3) + i] = r; });
    wasm.lbfgsDirection(d.id, g.id, hist, roAt, k, hDiag, alAt);
  }

  /** Runs the closure in its own scope; writes the flat gradient into g; returns the loss. */
  evaluate(closure: Closure, g: Tensor): number {
    openScope(this.op);
    try {
      const out = closure();
      refusePromise(this.op, out, 'the closure');
      if (!Array.isArray(out) || out.length !== 2) throw new ValueError(`${this.op}: the closure must return [loss, gradients], got ${Array.isArray(out) ? `an array of ${(out as unknown[]).length}` : describeValue(out)}`);
      const [loss, grads] = out;
      const value = typeof loss === 'number' ? loss : loss instanceof Tensor ? Number(loss.item()) : NaN;
      if (typeof loss !== 'number' && !(loss instanceof Tensor)) throw new ValueError(`${this.op}: the closure's loss must be a Tensor or a number`);
      const named = this.named();
      const list = named.map(([name, p], i) => {
        let gi: Tensor | null | undefined;
        if (grads instanceof Map) gi = grads.get(p);
        else if (Array.isArray(grads)) gi = grads[i];
        else if (grads !== null && typeof grads === 'object') gi = (grads as Record<string, Tensor>)[name];
        else throw new ValueError(`${this.op}: the closure's gradients must be an array, an object by parameter name or a Map`);
        if (gi === null || gi === undefined) return zeros(p.dims, { dtype: p.dtype });
        if (!(gi instanceof Tensor)) throw new ValueError(`${this.op}: the gradient of '${name}' must be a Tensor`);
        gi.use(`${this.op} (gradient '${name}')`);
        if (formatShape(gi.dims) !== formatShape(p.dims) || gi.dtype !== p.dtype) {
          throw new ShapeError(`${this.op}: the gradient of '${name}' is ${gi.dtype} ${formatShape(gi.dims)}, the parameter ${p.dtype} ${formatShape(p.dims)}`);
        }
        return gi;
      });
      wasm.flattenInto(argsI32(list.map((t) => t.id)), list.length, g.id, 0);
      return value;
    } finally {
      closeScope([]);
    }
  }
}

const dot = (a: Tensor, b: Tensor): number => wasm.flatDot(a.id, b.id);
const absMax = (a: Tensor): number => wasm.flatAbsMax(a.id);
/** y ← a·x + b·y */
const axpby = (a: number, x: Tensor, b: number, y: Tensor): void => wasm.flatAxpby(a, x.id, b, y.id);

function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

/**
 * PyTorch's _strong_wolfe. obj(t, gOut) evaluates at x + t·d, writing the gradient into gOut.
 * Returns [f, g, t, evaluations]; `fresh` makes the flat vectors it needs (owned by the caller).
 */
function strongWolfe(obj: (t: number, g: Tensor) => number, fresh: () => Tensor, t: number, d: Tensor, f: number, g: Tensor, gtd: number,
  c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9, maxLs = 25): [number, Tensor, number, number] {
  const dNorm = absMax(d);
  let gNew = fresh();
  let fNew = obj(t, gNew);
  let evals = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0, fPrev = f, gPrev = g, gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [], bracketF: number[] = [], bracketG: Tensor[] = [], bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [t]; bracketF = [fNew]; bracketG = [gNew]; done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = tmp; fPrev = fNew; gPrev = gNew; gtdPrev = gtdNew;
    gNew = fresh();
    fNew = obj(t, gNew);
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
  }
  if (lsIter === maxLs) { bracket = [0, t]; bracketF = [f, fNew]; bracketG = [g, gNew]; }
  let insufProgress = false;
  let [low, high] = bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    const bMax = Math.max(...bracket), bMin = Math.min(...bracket);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }
    gNew = fresh();
    fNew = obj(t, gNew);
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[low]) {
      bracket[high] = t; bracketF[high] = fNew; bracketG[high] = gNew; bracketGtd[high] = gtdNew;
      [low, high] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        bracket[high] = bracket[low]; bracketF[high] = bracketF[low]; bracketG[high] = bracketG[low]; bracketGtd[high] = bracketGtd[low];
      }
      bracket[low] = t; bracketF[low] = fNew; bracketG[low] = gNew; bracketGtd[low] = gtdNew;
    }
  }
  return [bracketF[low], bracketG[low], bracket[low], evals];
}

interface History { s: Tensor; y: Tensor; ro: number }

/** LBFGS.stateDict(): PyTorch's names; old_dirs are the y vectors, old_stps the s vectors. */
export interface LBFGSStateDict {
  /** the state, under parameter index 0 as PyTorch keeps it */
  state: Record<number, {
    /** objective evaluations so far */
    func_evals: number;
    /** iterations so far */
    n_iter: number;
    /** the last step size */
    t: number;
    /** the initial inverse-Hessian scale */
    H_diag: number;
    /** the last loss */
    prev_loss: number;
    /** 1/(yᵀs) per history pair */
    ro: number[];
    /** the gradient differences y */
    old_dirs: Tensor[];
    /** the steps s */
    old_stps: Tensor[];
    /** the last search direction */
    d?: Tensor;
    /** the last flat gradient */
    prev_flat_grad?: Tensor;
  }>;
  /** the one group's options by PyTorch's names and its parameter indices */
  param_groups: Record<string, unknown>[];
}

/**
 * torch.optim.LBFGS: quasi-Newton steps from the last historySize (s, y) pairs, each step(closure)
 * running up to maxIter iterations, with fixed steps of lr or a strong-Wolfe line search. The
 * closure evaluates the objective and its gradients at the current parameters.
 * MATLAB: lbfgsupdate.
 */
export class LBFGS {
  /** the options in force, defaults filled in */
  readonly options: Required<Omit<LBFGSOptions, 'lineSearchFn'>> & {
    /** null (fixed steps of lr) or 'strong_wolfe' */
    lineSearchFn: 'strong_wolfe' | null;
  };
  private readonly flat: FlatParams;
  // PyTorch's state
  /** objective evaluations so far (PyTorch's func_evals) */
  funcEvals = 0;
  /** iterations so far, over all steps (PyTorch's n_iter) */
  nIter = 0;
  private d?: Tensor;
  private t = 0;
  private history: History[] = [];
  private hDiag = 1;
  private prevFlatGrad?: Tensor;
  private prevLoss = 0;
  private disposed = false;

  constructor(params: Module | readonly Tensor[], opts: LBFGSOptions = {}) {
    if (arguments.length > 2) checkArity('optim.LBFGS', arguments, 2, 'params, options?');
    requireInit('LBFGS');
    const options = LBFGS_OPTIONS.parse(opts);
    const maxIter = options.maxIter ?? 20;
    this.options = {
      lr: options.lr ?? 1, maxIter, maxEval: options.maxEval ?? Math.floor(maxIter * 5 / 4),
      toleranceGrad: options.toleranceGrad ?? 1e-7, toleranceChange: options.toleranceChange ?? 1e-9,
      historySize: options.historySize ?? 100, lineSearchFn: options.lineSearchFn ?? null,
    };
    const o = this.options;
    for (const k of ['maxIter', 'maxEval', 'historySize'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new ValueError(`LBFGS: ${k} must be an integer >= 1, got ${String(o[k])}`);
    }
    for (const k of ['lr', 'toleranceGrad', 'toleranceChange'] as const) {
      if (typeof o[k] !== 'number' || !(o[k] >= 0)) throw new ValueError(`LBFGS: ${k} must be a number >= 0, got ${String(o[k])}`);
    }
    if (o.lineSearchFn !== null && o.lineSearchFn !== 'strong_wolfe') throw new ValueError(`LBFGS: only 'strong_wolfe' is supported as lineSearchFn, got ${String(o.lineSearchFn)}`);
    if (!(params instanceof Module) && !(Array.isArray(params) && params.every((p) => p instanceof Tensor))) {
      throw new ValueError('LBFGS: params must be a Module or an array of tensors');
    }
    this.flat = new FlatParams('LBFGS', params);
  }

  /**
   * One optimisation step (up to maxIter iterations) of PyTorch's LBFGS.step(closure); returns the
   * loss at the starting point. The closure returns [loss, gradients] at the current parameters.
   */
  step(closure: Closure): number {
    if (this.disposed) throw new DisposedError('LBFGS.step: the optimizer was disposed (its history was freed); make a new optimizer');
    if (typeof closure !== 'function') throw new ValueError(`LBFGS.step: closure must be a function returning [loss, gradients], got ${describeValue(closure)}`);
    if (Object.prototype.toString.call(closure) === '[object AsyncFunction]') throw new ValueError('LBFGS.step: closure must be synchronous, got an async function');
    if (wasm.capturing()) {
      throw new NotAcceleratableError('LBFGS.step: L-BFGS cannot be accelerated: its iterations, line search and stopping tests read the loss and gradient values on the host, so a replay could not repeat them. Accelerate the closure instead (accelerate(() => valueAndGrad(loss)(params))) and call LBFGS.step outside');
    }
    const o = this.options, flat = this.flat;
    const made: Tensor[] = [];
    const fresh = (): Tensor => { const v = flat.vector(); made.push(v); return v; };
    try {
      let flatGrad = fresh();
      const origLoss = flat.evaluate(closure, flatGrad);
      let loss = origLoss;
      let currentEvals = 1;
      this.funcEvals++;
      if (absMax(flatGrad) <= o.toleranceGrad) return origLoss;
      let d = this.d, t = this.t;
      let nIter = 0;
      while (nIter < o.maxIter) {
        nIter++;
        this.nIter++;
        if (this.nIter === 1) {
          d = fresh();
          axpby(-1, flatGrad, 0, d);
          this.clearHistory();
          this.hDiag = 1;
        } else {
          const y = fresh(), s = fresh();
          axpby(1, flatGrad, 0, y);
          axpby(-1, this.prevFlatGrad!, 1, y);
          axpby(t, d!, 0, s);
          const ys = this.round(dot(y, s));
          if (ys > 1e-10) {
            if (this.history.length === o.historySize) { const old = this.history.shift()!; old.s.dispose(); old.y.dispose(); }
            made.splice(made.indexOf(y), 1);
            made.splice(made.indexOf(s), 1);
            this.history.push({ s, y, ro: this.round(1 / ys) });
            this.hDiag = this.round(ys / this.round(dot(y, y)));
          }
          d = fresh();
          this.direction(d, flatGrad);
        }
        if (!this.prevFlatGrad) { this.prevFlatGrad = fresh(); made.pop(); }
        axpby(1, flatGrad, 0, this.prevFlatGrad);
        this.prevLoss = loss;
        t = this.nIter === 1 ? Math.min(1, this.round(1 / wasm.flatAbsSum(flatGrad.id))) * o.lr : o.lr;
        const gtd = dot(flatGrad, d!);
        if (gtd > -o.toleranceChange) break;
        let lsEvals = 0;
        let optCond = false;
        if (o.lineSearchFn === 'strong_wolfe') {
          const x = fresh();
          flat.copy(x, 0);
          const obj = (step: number, g: Tensor): number => {
            flat.addTo(step, d!);
            const f = flat.evaluate(closure, g);
            flat.copy(x, 1);
            return f;
          };
          [loss, flatGrad, t, lsEvals] = strongWolfe(obj, fresh, t, d!, loss, flatGrad, gtd, 1e-4, 0.9, o.toleranceChange);
          flat.addTo(t, d!);
          optCond = absMax(flatGrad) <= o.toleranceGrad;
        } else {
          flat.addTo(t, d!);
          if (nIter !== o.maxIter) {
            flatGrad = fresh();
            loss = flat.evaluate(closure, flatGrad);
            optCond = absMax(flatGrad) <= o.toleranceGrad;
            lsEvals = 1;
          }
        }
        currentEvals += lsEvals;
        this.funcEvals += lsEvals;
        if (nIter === o.maxIter || currentEvals >= o.maxEval || optCond) break;
        if (absMax(d!) * Math.abs(t) <= o.toleranceChange) break;
        if (Math.abs(loss - this.prevLoss) < o.toleranceChange) break;
      }
      if (d && d !== this.d) { made.splice(made.indexOf(d), 1); this.d?.dispose(); this.d = d; }
      this.t = t;
      return origLoss;
    } finally {
      for (const v of made) v.dispose();
    }
  }

  private direction(d: Tensor, g: Tensor): void {
    const h = this.history;
    FlatParams.direction(d, g, h.map((p) => p.s), h.map((p) => p.y), h.map((p) => p.ro), this.hDiag);
  }

  /** A scalar as PyTorch keeps it: a 0-d tensor of the parameters' dtype. */
  private round(v: number): number { return this.flat.dtype === 'float32' ? Math.fround(v) : v; }

  private clearHistory(): void {
    for (const h of this.history) { h.s.dispose(); h.y.dispose(); }
    this.history = [];
  }

  /** @internal the optimizer's name in messages and saved files */
  get _name(): string { return 'LBFGS'; }

  /**
   * PyTorch's LBFGS.state_dict(): `{ state: { 0: { func_evals, n_iter, t, H_diag, prev_loss, ro,
   * d, prev_flat_grad, old_dirs, old_stps } }, param_groups: [{ lr, max_iter, max_eval,
   * tolerance_grad, tolerance_change, history_size, line_search_fn, params }] }` — the whole
   * history, as PyTorch keeps it on the first parameter: old_dirs are the gradient differences y,
   * old_stps the steps s (flat vectors), ro their 1/(y·s). The tensors are the live history, not
   * copies; d and prev_flat_grad are absent before the first step.
   */
  stateDict(): LBFGSStateDict {
    if (arguments.length > 0) checkArity('LBFGS.stateDict', arguments, 0, '');
    if (this.disposed) throw new DisposedError('LBFGS.stateDict: the optimizer was disposed (its history was freed); make a new optimizer');
    const o = this.options;
    const st: LBFGSStateDict['state'][0] = {
      func_evals: this.funcEvals, n_iter: this.nIter, t: this.t, H_diag: this.hDiag, prev_loss: this.prevLoss,
      ro: this.history.map((h) => h.ro), old_dirs: this.history.map((h) => h.y), old_stps: this.history.map((h) => h.s),
    };
    if (this.d) st.d = this.d;
    if (this.prevFlatGrad) st.prev_flat_grad = this.prevFlatGrad;
    return {
      state: { 0: st },
      param_groups: [{
        lr: o.lr, max_iter: o.maxIter, max_eval: o.maxEval, tolerance_grad: o.toleranceGrad, tolerance_change: o.toleranceChange,
        history_size: o.historySize, line_search_fn: o.lineSearchFn, params: this.flat.params().map((_, i) => i),
      }],
    };
  }

  /**
   * Restores a state dict from stateDict() (or io.load), copying its vectors, so the next step is
   * bit for bit the one the saved optimizer would have taken. Everything is checked first (the
   * options, every key, the vectors' length and dtype); a failed load changes nothing.
   */
  loadStateDict(sd: LBFGSStateDict): void {
    if (arguments.length > 1) checkArity('LBFGS.loadStateDict', arguments, 1, 'stateDict');
    requireInit('LBFGS.loadStateDict');
    const op = 'LBFGS.loadStateDict';
    if (this.disposed) throw new DisposedError(`${op}: the optimizer was disposed (its history was freed); make a new optimizer`);
    if (sd === null || typeof sd !== 'object' || sd.state === null || typeof sd.state !== 'object' || !Array.isArray(sd.param_groups)) {
      throw new ValueError(`${op}: expected { state, param_groups } as stateDict() returns, got ${describeValue(sd)}`);
    }
    const extra = Object.keys(sd).filter((k) => k !== 'state' && k !== 'param_groups');
    if (extra.length) throw new ValueError(`${op}: unknown key(s) ${extra.map((k) => `'${k}'`).join(', ')} (a state dict has 'state' and 'param_groups')`);
    if (sd.param_groups.length !== 1) throw new ValueError(`${op}: the state dict has ${sd.param_groups.length} parameter group(s); L-BFGS has 1`);
    const g = sd.param_groups[0] as Record<string, unknown>;
    const names: Record<string, keyof LBFGS['options']> = {
      lr: 'lr', max_iter: 'maxIter', max_eval: 'maxEval', tolerance_grad: 'toleranceGrad', tolerance_change: 'toleranceChange',
      history_size: 'historySize', line_search_fn: 'lineSearchFn',
    };
    const options: Record<string, unknown> = { ...this.options };
    for (const [k, v] of Object.entries(g)) {
      if (k === 'params') {
        const n = this.flat.params().length;
        if (!Array.isArray(v) || v.length !== n) throw new ValueError(`${op}: the state dict's group has ${Array.isArray(v) ? v.length : describeValue(v)} parameter(s), the optimizer ${n}`);
        continue;
      }
      const own = names[k] ?? (Object.values(names).includes(k as keyof LBFGS['options']) ? k as keyof LBFGS['options'] : undefined);
      if (own === undefined) throw new ValueError(`${op}: the parameter group has an unknown key '${k}' (L-BFGS's: ${Object.keys(names).join(', ')}, params)`);
      options[own] = v;
    }
    for (const k of ['maxIter', 'maxEval', 'historySize']) {
      if (!Number.isInteger(options[k]) || (options[k] as number) < 1) throw new ValueError(`${op}: ${k} must be an integer >= 1, got ${describeValue(options[k])}`);
    }
    for (const k of ['lr', 'toleranceGrad', 'toleranceChange']) {
      if (typeof options[k] !== 'number' || !((options[k] as number) >= 0)) throw new ValueError(`${op}: ${k} must be a number >= 0, got ${describeValue(options[k])}`);
    }
    if (options.lineSearchFn !== null && options.lineSearchFn !== 'strong_wolfe') throw new ValueError(`${op}: line_search_fn must be null or 'strong_wolfe', got ${describeValue(options.lineSearchFn)}`);
    const stateKeys = Object.keys(sd.state);
    if (stateKeys.some((k) => k !== '0')) throw new ValueError(`${op}: L-BFGS keeps its state under parameter 0, got state for ${stateKeys.filter((k) => k !== '0').map((k) => `'${k}'`).join(', ')}`);
    const s = (sd.state as Record<string, Record<string, unknown>>)[0];
    const vector = (what: string, t: unknown): Tensor => {
      if (!(t instanceof Tensor)) throw new ValueError(`${op}: '${what}' must be a Tensor, got ${describeValue(t)}`);
      t.use(`${op} ('${what}')`);
      if (t.rank !== 1 || t.dims[0] !== this.flat.numel) throw new ShapeError(`${op}: '${what}' has shape ${formatShape(t.dims)}, the parameters flattened [${this.flat.numel}]`);
      if (t.dtype !== this.flat.dtype) throw new DTypeError(`${op}: '${what}' is ${t.dtype}, the parameters ${this.flat.dtype}`);
      return t;
    };
    const number = (k: string, integer: boolean): number => {
      const v = s?.[k];
      if (typeof v !== 'number' || (integer && (!Number.isInteger(v) || v < 0))) throw new ValueError(`${op}: '${k}' must be ${integer ? 'an integer >= 0' : 'a number'}, got ${describeValue(v)}`);
      return v;
    };
    let restored: { funcEvals: number; nIter: number; t: number; hDiag: number; prevLoss: number; ro: number[]; dirs: Tensor[]; stps: Tensor[]; d?: Tensor; prev?: Tensor };
    if (s === undefined) {
      restored = { funcEvals: 0, nIter: 0, t: 0, hDiag: 1, prevLoss: 0, ro: [], dirs: [], stps: [] };
    } else {
      if (s === null || typeof s !== 'object') throw new ValueError(`${op}: the state must be an object, got ${describeValue(s)}`);
      const allowed = ['func_evals', 'n_iter', 't', 'H_diag', 'prev_loss', 'ro', 'd', 'prev_flat_grad', 'old_dirs', 'old_stps', 'al'];
      const unknown = Object.keys(s).filter((k) => !allowed.includes(k));
      if (unknown.length) throw new ValueError(`${op}: unknown state ${unknown.map((k) => `'${k}'`).join(', ')} (L-BFGS's: ${allowed.join(', ')})`);
      const dirs = s.old_dirs ?? [], stps = s.old_stps ?? [], ro = s.ro ?? [];
      if (!Array.isArray(dirs) || !Array.isArray(stps) || !Array.isArray(ro) || dirs.length !== stps.length || ro.length !== dirs.length) {
        throw new ValueError(`${op}: old_dirs, old_stps and ro must be arrays of one length`);
      }
      if (dirs.length > (options.historySize as number)) throw new ValueError(`${op}: the history has ${dirs.length} pairs, more than history_size ${String(options.historySize)}`);
      ro.forEach((r, k) => { if (typeof r !== 'number') throw new ValueError(`${op}: ro[${k}] must be a number, got ${describeValue(r)}`); });
      restored = {
        funcEvals: number('func_evals', true), nIter: number('n_iter', true), t: number('t', false), hDiag: number('H_diag', false),
        prevLoss: number('prev_loss', false), ro: ro as number[],
        dirs: dirs.map((t, k) => vector(`old_dirs.${k}`, t)), stps: stps.map((t, k) => vector(`old_stps.${k}`, t)),
        d: s.d === undefined || s.d === null ? undefined : vector('d', s.d),
        prev: s.prev_flat_grad === undefined || s.prev_flat_grad === null ? undefined : vector('prev_flat_grad', s.prev_flat_grad),
      };
    }
    // Checked: copy, then replace.
    const copy = (t: Tensor): Tensor => { const c = this.flat.vector(); copyInto(c, t); return c; };
    const history = restored.dirs.map((y, k) => ({ y: copy(y), s: copy(restored.stps[k]), ro: restored.ro[k] }));
    const d = restored.d && copy(restored.d), prev = restored.prev && copy(restored.prev);
    this.clearHistory();
    this.d?.dispose();
    this.prevFlatGrad?.dispose();
    Object.assign(this.options, options);
    this.history = history;
    this.d = d;
    this.prevFlatGrad = prev;
    this.funcEvals = restored.funcEvals;
    this.nIter = restored.nIter;
    this.t = restored.t;
    this.hDiag = restored.hDiag;
    this.prevLoss = restored.prevLoss;
  }

  /** Frees the history and the saved vectors; step() is a DisposedError afterwards. Disposing again is harmless. */
  dispose(): void {
    this.disposed = true;
    this.clearHistory();
    this.d?.dispose();
    this.prevFlatGrad?.dispose();
    this.d = this.prevFlatGrad = undefined;
  }

  /** dispose(), for `using opt = new LBFGS(…)`: the history is freed when the block ends. */
  [Symbol.dispose](): void { this.dispose(); }
}
