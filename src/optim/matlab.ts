// MATLAB Deep Learning Toolbox's update functions, as thin wrappers with its argument order,
// defaults and return values:
//   [net, averageGrad, averageSqGrad] = adamupdate(net, grad, averageGrad, averageSqGrad, iteration, learnRate, gradDecay, sqGradDecay, epsilon)
//   [net, vel] = sgdmupdate(net, grad, vel, learnRate, momentum)
//   [net, averageSqGrad] = rmspropupdate(net, grad, averageSqGrad, learnRate, sqGradDecay, epsilon)
//   [net, solverState] = lbfgsupdate(net, lossFcn, solverState, options)
// `net` is a Module (its parameters by name) or a tensor / array / object of tensors; `grad` has
// the same structure (as valueAndGrad returns it). State starts as [] (or null) and comes back
// as tensors of the parameters' structure. Updates are in place — the returned net and state are
// the same handles — so a training loop holds a constant set of tensors.

import { Tensor, zeros } from '../tensor.js';
import { keep } from '../scope.js';
import { mapTensors, checkFunction, refusePromise } from '../autodiff.js';
import { requireInit } from '../runtime.js';
import { ValueError, ShapeError, DTypeError, formatShape } from '../errors.js';
import { Module } from '../nn/module.js';
import { fusedUpdate, KINDS } from './optimizer.js';
import { FlatParams, type Closure } from './lbfgs.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

type Net = Module | Tensor | readonly Tensor[] | Record<string, Tensor>;
type State = Tensor | readonly Tensor[] | Record<string, Tensor> | readonly [] | null | undefined;

/** [name, parameter] pairs of a net: a Module's names, or the structure's leaves in order. */
function leaves(op: string, net: Net): [string, Tensor][] {
  if (net instanceof Module) return net._ownNamedParameters();
  if (net instanceof Tensor) return [['', net]];
  if (Array.isArray(net)) return net.map((t, i) => [String(i), t]);
  if (net !== null && typeof net === 'object') return Object.entries(net as Record<string, Tensor>);
  throw new ValueError(`${op}: net must be a Module, a Tensor, or an array or object of tensors, got ${describeValue(net)}`);
}

/** The gradient for each parameter, by name or position, checked. */
function gradsFor(op: string, params: [string, Tensor][], grad: unknown, net: Net): Tensor[] {
  const list = params.map(([name, p], i) => {
    let g: unknown;
    if (grad instanceof Tensor) g = params.length === 1 ? grad : undefined;
    else if (Array.isArray(grad)) g = grad[i];
    else if (grad !== null && typeof grad === 'object') g = (grad as Record<string, unknown>)[net instanceof Tensor ? '' : name];
    if (!(g instanceof Tensor)) throw new ValueError(`${op}: grad has no tensor for parameter '${name}' (grad must have the structure of net)`);
    g.use(`${op} (grad '${name}')`);
    p.use(`${op} (net '${name}')`);
    if (formatShape(g.dims) !== formatShape(p.dims)) throw new ShapeError(`${op}: grad '${name}' has shape ${formatShape(g.dims)}, the parameter ${formatShape(p.dims)}`);
    if (g.dtype !== p.dtype || (p.dtype !== 'float32' && p.dtype !== 'float64')) throw new DTypeError(`${op}: grad '${name}' is ${g.dtype}, the parameter ${p.dtype}; both must be one float dtype`);
    return g;
  });
  return list;
}

/** State tensors per parameter: zeros (kept) for [] / null, else the given ones, checked. */
function stateFor(op: string, what: string, params: [string, Tensor][], state: State): Tensor[] {
  const empty = state === null || state === undefined || (Array.isArray(state) && state.length === 0 && params.length > 0);
  if (empty) return params.map(([, p]) => keep(zeros(p.dims, { dtype: p.dtype })));
  const given = state instanceof Tensor ? [state] : Array.isArray(state) ? state : params.map(([name]) => (state as Record<string, Tensor>)[name]);
  if (given.length !== params.length) throw new ValueError(`${op}: ${what} has ${given.length} tensors for ${params.length} parameters`);
  return params.map(([name, p], i) => {
    const s = given[i];
    if (!(s instanceof Tensor)) throw new ValueError(`${op}: ${what} has no tensor for parameter '${name}'`);
    s.use(`${op} (${what} '${name}')`);
    if (formatShape(s.dims) !== formatShape(p.dims) || s.dtype !== p.dtype) {
      throw new ShapeError(`${op}: ${what} '${name}' is ${s.dtype} ${formatShape(s.dims)}, the parameter ${p.dtype} ${formatShape(p.dims)}`);
    }
    return s;
  });
}

/** The state tensors in the structure of net (a Module's: an object by parameter name). */
function shaped(net: Net, params: [string, Tensor][], list: Tensor[]): any {
  if (net instanceof Module) return Object.fromEntries(params.map(([n], i) => [n, list[i]]));
  let i = 0;
  return mapTensors(net, () => list[i++]);
}

function scalar(op: string, name: string, v: unknown, check: (x: number) => boolean, rule: string): number {
  if (typeof v !== 'number' || !check(v)) throw new ValueError(`${op}: ${name} must be ${rule}, got ${typeof v === 'number' ? String(v) : describeValue(v)}`);
  return v;
}

/** MATLAB adamupdate (defaults learnRate 0.001, gradDecay 0.9, sqGradDecay 0.999, epsilon 1e-8). */
export function adamupdate<N extends Net>(net: N, grad: unknown, averageGrad: State, averageSqGrad: State, iteration: number,
  learnRate = 0.001, gradDecay = 0.9, sqGradDecay = 0.999, epsilon = 1e-8): [N, any, any] {
  const op = 'adamupdate';
  if (arguments.length > 9) checkArity(op, arguments, 9, 'net, grad, averageGrad, averageSqGrad, iteration, learnRate?, gradDecay?, sqGradDecay?, epsilon?');
  requireInit(op);
  scalar(op, 'iteration', iteration, (x) => Number.isInteger(x) && x >= 1, 'a positive integer');
  scalar(op, 'learnRate', learnRate, (x) => x >= 0 && Number.isFinite(x), 'a finite number >= 0');
  scalar(op, 'gradDecay', gradDecay, (x) => x >= 0 && x < 1, 'in [0, 1)');
  scalar(op, 'sqGradDecay', sqGradDecay, (x) => x >= 0 && x < 1, 'in [0, 1)');
  scalar(op, 'epsilon', epsilon, (x) => x > 0 && Number.isFinite(x), 'a finite number > 0');
  const params = leaves(op, net);
  const grads = gradsFor(op, params, grad, net);
  const m = stateFor(op, 'averageGrad', params, averageGrad);
  const v = stateFor(op, 'averageSqGrad', params, averageSqGrad);
  fusedUpdate(op, KINDS.matlabAdam, params.map(([, p], i) => ({ param: p, grad: grads[i], state: [m[i], v[i]], step: iteration, group: 0 })),
    [{ lr: learnRate, beta1: gradDecay, beta2: sqGradDecay, eps: epsilon }]);
  return [net, shaped(net, params, m), shaped(net, params, v)];
}

/** MATLAB sgdmupdate: vel ← momentum·vel − learnRate·grad; net ← net + vel (defaults 0.01, 0.9). */
export function sgdmupdate<N extends Net>(net: N, grad: unknown, vel: State, learnRate = 0.01, momentum = 0.9): [N, any] {
  const op = 'sgdmupdate';
  if (arguments.length > 5) checkArity(op, arguments, 5, 'net, grad, vel, learnRate?, momentum?');
  requireInit(op);
  scalar(op, 'learnRate', learnRate, (x) => x >= 0 && Number.isFinite(x), 'a finite number >= 0');
  scalar(op, 'momentum', momentum, (x) => x >= 0 && x <= 1, 'in [0, 1]');
  const params = leaves(op, net);
  const grads = gradsFor(op, params, grad, net);
  const velocity = stateFor(op, 'vel', params, vel);
  fusedUpdate(op, KINDS.matlabSgdm, params.map(([, p], i) => ({ param: p, grad: grads[i], state: [velocity[i]], step: 1, group: 0 })),
    [{ lr: learnRate, momentum }]);
  return [net, shaped(net, params, velocity)];
}

/** MATLAB rmspropupdate: v ← ρ·v + (1 − ρ)·grad²; net ← net − learnRate·grad/(√v + ε) (defaults 0.001, 0.9, 1e-8). */
export function rmspropupdate<N extends Net>(net: N, grad: unknown, averageSqGrad: State, learnRate = 0.001, sqGradDecay = 0.9, epsilon = 1e-8): [N, any] {
  const op = 'rmspropupdate';
  if (arguments.length > 6) checkArity(op, arguments, 6, 'net, grad, averageSqGrad, learnRate?, sqGradDecay?, epsilon?');
  requireInit(op);
  scalar(op, 'learnRate', learnRate, (x) => x >= 0 && Number.isFinite(x), 'a finite number >= 0');
  scalar(op, 'sqGradDecay', sqGradDecay, (x) => x >= 0 && x < 1, 'in [0, 1)');
  scalar(op, 'epsilon', epsilon, (x) => x > 0 && Number.isFinite(x), 'a finite number > 0');
  const params = leaves(op, net);
  const grads = gradsFor(op, params, grad, net);
  const v = stateFor(op, 'averageSqGrad', params, averageSqGrad);
  fusedUpdate(op, KINDS.matlabRmsprop, params.map(([, p], i) => ({ param: p, grad: grads[i], state: [null, v[i]], step: 1, group: 0 })),
    [{ lr: learnRate, beta2: sqGradDecay, eps: epsilon }]);
  return [net, shaped(net, params, v)];
}

// ————————————————————————————————————————————————————————— lbfgsupdate

const STATE_OPTIONS = options('lbfgsState', {
  /** pairs kept in the history (default 10) */
  HistorySize: opt.any<number>(),
  /** H₀ = factor·I on the first iteration (default 1) */
  InitialInverseHessianFactor: opt.any<number>(),
});
/** Options of lbfgsState: HistorySize (10), InitialInverseHessianFactor (1). */
export type LbfgsStateOptions = OptionsOf<typeof STATE_OPTIONS>;

/** MATLAB's lbfgsState: the solver's history and last evaluation. */
export class LbfgsState {
  /** pairs kept in the history (default 10) */
  readonly HistorySize: number;
  /** H₀ = factor·I on the first iteration (default 1) */
  readonly InitialInverseHessianFactor: number;
  /** iterations done so far */
  Iteration = 0;
  /** the loss at the current point (undefined before the first update) */
  Loss: number | undefined = undefined;
  /** ‖gradient‖₂ at the current point */
  GradientsNorm: number | undefined = undefined;
  /** how the last line search ended ('' before the first update) */
  LineSearchStatus: 'completed' | 'failed' | '' = '';
  /** the step lengths (s) and gradient differences (y) kept, oldest first */
  StepHistory: Tensor[] = [];
  /** the gradient differences (y) kept, oldest first */
  GradientsDifferenceHistory: Tensor[] = [];
  /** @internal the flat gradient at the current point */
  gradient?: Tensor;

  constructor(opts: LbfgsStateOptions = {}) {
    if (arguments.length > 1) checkArity('lbfgsState', arguments, 1, 'options?');
    const options = STATE_OPTIONS.parse(opts);
    this.HistorySize = options.HistorySize ?? 10;
    this.InitialInverseHessianFactor = options.InitialInverseHessianFactor ?? 1;
    if (!Number.isInteger(this.HistorySize) || this.HistorySize < 1) throw new ValueError(`lbfgsState: HistorySize must be a positive integer, got ${String(options.HistorySize)}`);
    if (!(this.InitialInverseHessianFactor > 0) || !Number.isFinite(this.InitialInverseHessianFactor)) throw new ValueError(`lbfgsState: InitialInverseHessianFactor must be a finite number > 0, got ${String(options.InitialInverseHessianFactor)}`);
  }

  /** Frees the history. */
  dispose(): void {
    for (const t of [...this.StepHistory, ...this.GradientsDifferenceHistory]) t.dispose();
    this.gradient?.dispose();
    this.StepHistory = [];
    this.GradientsDifferenceHistory = [];
    this.gradient = undefined;
  }

  /** dispose(), for `using state = lbfgsState()`: the history is freed when the block ends. */
  [Symbol.dispose](): void { this.dispose(); }
}

/** MATLAB's lbfgsState(Name=Value): history size 10, initial inverse Hessian factor 1. */
export function lbfgsState(options: LbfgsStateOptions = {}): LbfgsState {
  if (arguments.length > 1) checkArity('lbfgsState', arguments, 1, 'options?');
  return new LbfgsState(options);
}

const UPDATE_OPTIONS = options('lbfgsupdate', {
  /** 'weak-wolfe' (default), 'strong-wolfe' or 'backtracking' */
  LineSearchMethod: opt.any<'weak-wolfe' | 'strong-wolfe' | 'backtracking'>(),
  /** default 20 */
  MaxNumLineSearchIterations: opt.any<number>(),
});
/** Options of lbfgsupdate: LineSearchMethod ('weak-wolfe' default, 'strong-wolfe', 'backtracking'), MaxNumLineSearchIterations (20). */
export type LbfgsUpdateOptions = OptionsOf<typeof UPDATE_OPTIONS>;

/**
 * MATLAB lbfgsupdate: one L-BFGS iteration. lossFcn(net) returns [loss, gradients] (gradients
 * in net's structure). The direction comes from the two-loop recursion over the state's history
 * (H₀ = InitialInverseHessianFactor·I on the first iteration, then sᵀy/yᵀy); the step length from
 * the line search (Armijo c₁ = 1e-4, curvature c₂ = 0.9, starting at 1).
 */
export function lbfgsupdate<N extends Net>(net: N, lossFcn: (net: N) => readonly [Tensor | number, unknown], solverState?: LbfgsState | null,
  opts: LbfgsUpdateOptions = {}): [N, LbfgsState] {
  const op = 'lbfgsupdate';
  if (arguments.length > 4) checkArity(op, arguments, 4, 'net, lossFcn, solverState?, options?');
  requireInit(op);
  const options = UPDATE_OPTIONS.parse(opts);
  checkFunction(op, lossFcn, 'lossFcn');
  const state = solverState ?? new LbfgsState();
  if (!(state instanceof LbfgsState)) throw new ValueError(`${op}: solverState must come from lbfgsState() or a previous lbfgsupdate`);
  const method = options.LineSearchMethod ?? 'weak-wolfe';
  if (!['weak-wolfe', 'strong-wolfe', 'backtracking'].includes(method)) throw new ValueError(`${op}: LineSearchMethod must be 'weak-wolfe', 'strong-wolfe' or 'backtracking', got ${String(method)}`);
  const maxLs = options.MaxNumLineSearchIterations ?? 20;
  if (!Number.isInteger(maxLs) || maxLs < 1) throw new ValueError(`${op}: MaxNumLineSearchIterations must be a positive integer, got ${String(maxLs)}`);
  const tensors = leaves(op, net).map(([, t]) => t);
  const flat = new FlatParams(op, net instanceof Module ? net : tensors);
  const closure: Closure = () => {
    const out = lossFcn(net);
    refusePromise(op, out, 'lossFcn');
    if (!Array.isArray(out) || out.length !== 2) throw new ValueError(`${op}: lossFcn must return [loss, gradients], got ${Array.isArray(out) ? `an array of ${(out as unknown[]).length}` : describeValue(out)}`);
    const [loss, g] = out;
    const named = leaves(op, net);
    const grads = gradsFor(op, named, g, net);
    return [loss, grads];
  };
  const made: Tensor[] = [];
  const fresh = (): Tensor => { const v = flat.vector(); made.push(v); return v; };
  try {
    if (!state.gradient) {
      state.gradient = flat.vector();
      state.Loss = flat.evaluate(closure, state.gradient);
    }
    const g = state.gradient;
    const k = state.StepHistory.length;
    const d = fresh();
    twoLoop(d, g, state);
    const gtd = flat.dot(g, d);
    const f0 = state.Loss!;
    const x = fresh();
    flat.copy(x, 0);
    let t = 1, lo = 0, hi = Infinity, status: 'completed' | 'failed' = 'failed';
    let gNew = fresh(), fNew = NaN;
    for (let it = 0; it < maxLs; it++) {
      flat.addTo(t, d);
      fNew = flat.evaluate(closure, gNew);
      const armijo = fNew <= f0 + 1e-4 * t * gtd;
      const slope = flat.dot(gNew, d);
      if (method === 'backtracking') {
        if (armijo) { status = 'completed'; break; }
        flat.copy(x, 1);
        t *= 0.5;
        continue;
      }
      const curvature = method === 'weak-wolfe' ? slope >= 0.9 * gtd : Math.abs(slope) <= -0.9 * gtd;
      if (armijo && curvature) { status = 'completed'; break; }
      if (!armijo || (method === 'strong-wolfe' && slope > 0)) hi = t; else lo = t;
      flat.copy(x, 1);
      t = hi < Infinity ? (lo + hi) / 2 : 2 * lo;
    }
    // The new pair (s = t·d, y = g_new − g) joins the history when it keeps H positive definite.
    const s = fresh(), y = fresh();
    flat.axpby(t, d, 0, s);
    flat.axpby(1, gNew, 0, y);
    flat.axpby(-1, g, 1, y);
    if (flat.dot(y, s) > 1e-10) {
      made.splice(made.indexOf(s), 1);
      made.splice(made.indexOf(y), 1);
      state.StepHistory.push(s);
      state.GradientsDifferenceHistory.push(y);
      if (k + 1 > state.HistorySize) { state.StepHistory.shift()!.dispose(); state.GradientsDifferenceHistory.shift()!.dispose(); }
    }
    flat.axpby(1, gNew, 0, g);
    state.Loss = fNew;
    state.GradientsNorm = Math.sqrt(flat.dot(g, g));
    state.LineSearchStatus = status;
    state.Iteration++;
    return [net, state];
  } finally {
    for (const v of made) v.dispose();
  }
}

/** d ← −H·g with H₀ = factor·I (first iteration) or sᵀy/yᵀy of the newest pair. */
function twoLoop(d: Tensor, g: Tensor, state: LbfgsState): void {
  const S = state.StepHistory, Y = state.GradientsDifferenceHistory;
  const k = S.length;
  const ro = S.map((s, i) => 1 / FlatParams.dot(Y[i], s));
  const hDiag = k === 0 ? state.InitialInverseHessianFactor : FlatParams.dot(S[k - 1], Y[k - 1]) / FlatParams.dot(Y[k - 1], Y[k - 1]);
  FlatParams.direction(d, g, S, Y, ro, hDiag);
}

