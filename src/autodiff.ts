// Reverse mode: valueAndGrad / grad (JAX's habits), dlfeval / dlgradient (MATLAB's), trace.
//
// A differentiation level is: open a scope and a tape level, give f fresh copies of the
// differentiated inputs (watched, so ops on their path record), run f, then ONE wasm call
// sweeps the tape backwards. Everything f made is freed when the level ends, except the value
// and the gradients. Inside an enclosing level the sweep records itself (createGraph), so
// grad(grad(f)) differentiates the first gradient.

import { Tensor, wrap, zeros } from './tensor.js';
import { wasm, views, I32, ARGS, checked, argsI32, requireInit, raise, recordWord } from './runtime.js';
import { openScope, closeScope, tensorsIn } from './scope.js';
import { NotDifferentiableError, ValueError, formatShape } from './errors.js';
import { isFloat, alive } from './ops/common.js';
import { Op } from '../assembly/core/vocabulary.js';
import { Trace, type TraceNode } from './trace-table.js';
export { Trace, type TraceNode } from './trace-table.js';
import { Module, resolve, withStandIns } from './nn/module.js';
import { options, opt, checkArity, describeValue, isPlainObject, nearestKey, type OptionsOf } from './options.js';
import { MODE_CREATE_GRAPH, MODE_RETAIN_ALL, F_NEEDS_GRAD, T_FLAGS } from '../assembly/core/abi.js';


/** Replaces every Tensor in a value (tensor, array, plain object) using fn, keeping the structure. */
export function mapTensors(value: unknown, fn: (t: Tensor) => unknown): any {
  if (value instanceof Tensor) return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapTensors(v, fn));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapTensors(v, fn);
    return out;
  }
  return value;
}

// The gradients of a Module come back by parameter name; this remembers which tensor each name
// is, so that an optimizer built from the module's tensors in any grouping (nanoGPT's decay and
// no-decay groups) can take them (src/optim/optimizer.ts).
const gradientOwners = new WeakMap<object, [string, Tensor][]>();

/** @internal the module parameter each gradient of `grads` belongs to, when it came from a Module. */
export function gradientsByParameter(grads: object): Map<Tensor, Tensor> | undefined {
  const owners = gradientOwners.get(grads);
  if (owners === undefined) return undefined;
  const byTensor = new Map<Tensor, Tensor>();
  for (const [name, p] of owners) {
    const g = (grads as Record<string, unknown>)[name];
    if (g instanceof Tensor) byTensor.set(p, g);
  }
  return byTensor;
}

/** The tensors of a tree in mapTensors' order, repeats included (one per gradient slot). */
function leaves(value: unknown): Tensor[] {
  const out: Tensor[] = [];
  mapTensors(value, (t) => { out.push(t); });
  return out;
}

/** A watched copy of x (argument k of f): a differentiated input of the level being opened. */
function watched(x: Tensor, op: string, k: number): Tensor {
  alive(x, op, `argument ${k}`);
  if (!isFloat(x.dtype)) {
    throw new NotDifferentiableError(`${op}: argument ${k} is a ${x.dtype} tensor of shape ${formatShape(x.dims)}; only float32 and float64 tensors can be differentiated`);
  }
  const c = wrap(checked(wasm.copy(x.id), op));
  wasm.watch(c.id);
  c._format = x._format; // a formatted dlarray stays formatted inside dlfeval / valueAndGrad
  return c;
}

function checkScalarOutput(op: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) {
    throw new NotDifferentiableError(`${op}: the function must return a scalar Tensor, got ${describeValue(y)}`);
  }
  alive(y, op, 'output');
  if (y.numel() !== 1) {
    throw new NotDifferentiableError(`${op}: the output must be a scalar (one element) to take its gradient, got shape ${formatShape(y.dims)}; reduce it first, e.g. with .sum()`);
  }
  if (!isFloat(y.dtype)) throw new NotDifferentiableError(`${op}: the output is a ${y.dtype} tensor; it must be float32 or float64`);
  return y;
}

/** Runs the reverse sweep from y to the targets; returns their gradients (zeros off the path). */
function sweep(op: string, y: Tensor, mark: number, targets: Tensor[], mode: number): Tensor[] {
  if (wasm.tapeDepthNow() > 1) mode |= MODE_CREATE_GRAPH;
  const n = targets.length;
  if (n > 16000) throw new ValueError(`${op}: at most 16000 tensors can be differentiated at once`);
  views();
  for (let i = 0; i < n; i++) I32[(ARGS >>> 2) + i] = targets[i].id;
  const code = wasm.backward(y.id, mark, ARGS, n, mode);
  if (code !== 0) raise(op);
  // Take each adjoint once (a target may be listed twice); taking clears the slot for later sweeps.
  const taken = n > 8 ? new Map<number, Tensor>() : undefined;
  const grads = new Array<Tensor>(n);
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    let g = taken !== undefined ? taken.get(t.id) : takenBefore(targets, grads, i);
    if (g === undefined) {
      const a = wasm.takeAdjoint(t.id);
      g = a !== 0 ? wrap(a) : zeros(t.dims, { dtype: t.dtype });
      taken?.set(t.id, g);
    }
    grads[i] = g;
  }
  return grads;
}

/** The gradient already taken for targets[i] when it is listed earlier too (a short list, scanned). */
function takenBefore(targets: Tensor[], grads: Tensor[], i: number): Tensor | undefined {
  for (let j = 0; j < i; j++) if (targets[j].id === targets[i].id) return grads[j];
  return undefined;
}


/**
 * Watches the tensors of one differentiated argument for a level being opened: each tensor in
 * a tensor/array/plain-object tree gets a watched copy; a Module stands for its own parameters
 * (each tensor once, by its first name). Every copy is also entered in `standIns` (original →
 * copy), so a module that reads the original — from a field, under a tied name — reads the
 * copy. Appends one gradient slot per leaf to `targets`; returns the value f is called with and
 * the tree whose leaves are the copies (the gradient's structure: a Module's is an object by
 * parameter name).
 */
function watchArgument(value: unknown, watch: (t: Tensor) => Tensor, standIns: Map<Tensor, Tensor>, targets: Tensor[]): [unknown, unknown] {
  const one = (t: Tensor): Tensor => watchOne(t, watch, standIns, targets);
  if (value instanceof Tensor) { const c = one(value); return [c, c]; }
  if (value instanceof Module) {
    const structure: Record<string, Tensor> = {};
    for (const [name, t] of value._ownNamedParameters()) {
      const earlier = standIns.get(t);
      if (earlier !== undefined) targets.push(earlier);
      structure[name] = earlier ?? one(t);
    }
    return [value, structure];
  }
  const tree = mapTensors(value, one);
  return [tree, tree];
}

/** One tensor of a differentiated argument: its watched copy, entered in standIns and targets. */
function watchOne(t: Tensor, watch: (t: Tensor) => Tensor, standIns: Map<Tensor, Tensor>, targets: Tensor[]): Tensor {
  const c = watch(resolve(t));
  if (c !== t && !standIns.has(t)) standIns.set(t, c);
  targets.push(c);
  return c;
}

const gradSpecs = {
  /** which positional arguments to differentiate: one index (default 0) or several */
  argnums: opt.any<number | readonly number[]>(),
  /** f returns [value, aux]; aux is passed through undifferentiated */
  hasAux: opt.boolean,
  /** record the reverse sweep so the gradients can be differentiated again */
  higherOrder: opt.boolean,
};
const VALUE_AND_GRAD = options('valueAndGrad', gradSpecs);
const GRAD = options('grad', gradSpecs);
/** Options of valueAndGrad / grad: argnums (default 0), hasAux (default false), higherOrder (default false). */
export type GradOptions = OptionsOf<typeof gradSpecs>;

/**
 * The gradient of an argument, in the argument's structure: a Tensor's is a Tensor; an array's
 * or a plain object's maps its elements (non-tensor leaves come back as they are); a Module's is
 * an object of tensors by parameter name (what optimizers take).
 */
export type GradOf<T> =
  0 extends (1 & T) ? unknown : // any
  T extends Tensor ? Tensor :
  T extends Module ? Record<string, Tensor> :
  T extends readonly unknown[] ? { -readonly [K in keyof T]: GradOf<T[K]> } :
  T extends (...args: never[]) => unknown ? T :
  T extends object ? { -readonly [K in keyof T]: GradOf<T[K]> } :
  T;

/** Which argnums an options type names (0 when it names none). */
type ArgnumsOf<O> = O extends { readonly argnums?: infer N } ? (unknown extends N ? 0 : N) : 0;

/** The gradients for argnums N of arguments A: one argument's, or a tuple of several. */
export type GradsAt<A extends readonly unknown[], N> =
  N extends undefined ? GradOf<A[0]> :
  N extends number ? GradOf<A[N]> :
  N extends readonly number[] ? { -readonly [K in keyof N]: GradOf<A[N[K] & number]> } :
  unknown;

/** The aux of a function that returns [value, aux] (hasAux). */
type AuxOf<F extends (...args: any[]) => unknown> = ReturnType<F> extends readonly [unknown, infer X] ? X : unknown;

/** The options of valueAndGrad and grad as their types read them (argnums, and whether hasAux). */
/** The options of valueAndGrad / grad as a type (the literal argnums types the gradients). */
export interface GradTransformOptions {
  /** which positional arguments to differentiate: one index (default 0) or several */
  argnums?: number | readonly number[];
  /** f returns [value, aux]; aux is passed through undifferentiated */
  hasAux?: boolean;
  /** record the reverse sweep so the gradients can be differentiated again */
  higherOrder?: boolean;
}

/** An async function (or async generator function), detectable before it runs. */
function isAsync(f: Function): boolean {
  const tag = Object.prototype.toString.call(f);
  const name = (f as { constructor?: { name?: unknown } }).constructor?.name;
  return tag === '[object AsyncFunction]' || tag === '[object AsyncGeneratorFunction]' || name === 'AsyncFunction' || name === 'AsyncGeneratorFunction';
}

/**
 * @internal Checks a function argument when it is given, not when it is called: a non-function
 * is a ValueError naming `op`, the argument (`what`) and what it got, and so is an async
 * function, refused before it runs (the tensors it computes with would be freed before its
 * promise settles).
 */
export function checkFunction(op: string, f: unknown, name?: string): void {
  if (typeof f !== 'function') {
    throw new ValueError(name === undefined ? `${op}: expected a function to differentiate, got ${describeValue(f)}` : `${op}: ${name} must be a function, got ${describeValue(f)}`);
  }
  if (isAsync(f)) {
    throw new ValueError(`${op}: ${name ?? 'the function'} must be synchronous, got an async function (the tensors it uses would be freed before its promise settles); await outside and pass the values in`);
  }
}

/**
 * @internal A function that returned a promise (a plain function, so not caught up front): the
 * promise is handled, so that it can never become an unhandled rejection that ends the process,
 * and the call is a ValueError.
 */
export function refusePromise(op: string, result: unknown, what = 'the function'): void {
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return;
  const then = (result as { then?: unknown }).then;
  if (typeof then !== 'function') return;
  try {
    (then as Function).call(result, undefined, () => {});
  } catch {
    // a thenable whose then throws: nothing is pending
  }
  throw new ValueError(`${op}: ${what} returned a Promise; it must be synchronous (the tensors it uses would be freed before the promise settles)`);
}

/** Whether every argument `list` names is a Tensor (valueAndGrad's fast path). */
function tensorsAt(args: unknown[], list: number[]): boolean {
  for (let j = 0; j < list.length; j++) if (!(args[list[j]] instanceof Tensor)) return false;
  return true;
}

function checkArgnums(op: string, argnums: unknown): number[] {
  const list = Array.isArray(argnums) ? argnums : [argnums];
  if (list.length === 0) throw new ValueError(`${op}: argnums must name at least one argument`);
  for (const k of list) {
    if (!Number.isInteger(k) || (k as number) < 0) throw new ValueError(`${op}: argnums must be non-negative integers, got ${describeValue(k)}`);
  }
  return list as number[];
}

/**
 * valueAndGrad(f)(...args) → [f(...args), ∂f/∂args[argnums]]. Gradients come back in the
 * structure of the differentiated argument (tensor, array or object of tensors); a Module
 * argument is differentiated with respect to its parameters, wherever its forward pass uses
 * them (tied, in fields), and its gradient is an object by parameter name (what optimizers
 * take). With several argnums, an array of those. JAX: jax.value_and_grad; PyTorch: torch.func.grad_and_value.
 *
 * @typeParam F - f's type: its parameters type the returned function and the gradients
 * @typeParam O - the options' type (a literal argnums picks the gradients' types)
 * @param f - a function returning a scalar tensor (or [scalar, aux] with hasAux)
 * @param opts - argnums, hasAux, higherOrder
 *
 * @example
 * ```ts
 * const f = (x: Tensor) => x.mul(x).sum();
 * const [y, g] = valueAndGrad(f)(tensor([1, 2, 3]));   // y = 14, g = [2, 4, 6]
 * ```
 */
export function valueAndGrad<F extends (...args: any[]) => readonly [Tensor, unknown], const O extends GradTransformOptions & {
  /** f returns [value, aux] */
  hasAux: true;
}>(
  f: F, opts: O): (...args: Parameters<F>) => [[Tensor, AuxOf<F>], GradsAt<Parameters<F>, ArgnumsOf<O>>];
/**
 * valueAndGrad(f, opts?) for f returning a scalar tensor: a function giving [value, gradients].
 *
 * @typeParam F - f's type: its parameters type the returned function and the gradients
 * @typeParam O - the options' type (a literal argnums picks the gradients' types)
 */
export function valueAndGrad<F extends (...args: any[]) => Tensor, const O extends GradTransformOptions = {}>(
  f: F, opts?: O): (...args: Parameters<F>) => [Tensor, GradsAt<Parameters<F>, ArgnumsOf<O>>];
export function valueAndGrad(f: (...args: any[]) => any, opts?: GradOptions): (...args: any[]) => any {
  if (arguments.length > 2) checkArity('valueAndGrad', arguments, 2, 'f, { argnums, hasAux, higherOrder }');
  return makeValueAndGrad('valueAndGrad', f, VALUE_AND_GRAD.parse(opts));
}

function makeValueAndGrad<A extends unknown[]>(op: string, f: (...args: A) => any, options: GradOptions) {
  checkFunction(op, f);
  const argnums = options.argnums ?? 0;
  const list = checkArgnums(op, argnums);
  const mode = options.higherOrder ? MODE_CREATE_GRAPH : 0;
  return (...args: A): any => {
    requireInit(op);
    for (const k of list) {
      if (k >= args.length) throw new ValueError(`${op}: argnums ${k} is out of range for ${args.length} argument(s)`);
    }
    openScope(op);
    const mark = wasm.tapeBegin();
    let keep: Tensor[] = [];
    try {
      if (!options.hasAux && tensorsAt(args, list)) {
        // The common case (every differentiated argument a tensor), without the tree walks: the
        // same copies, stand-ins and sweep as below, so the same results.
        const standIns = new Map<Tensor, Tensor>();
        const targets = new Array<Tensor>(list.length);
        const callArgs = args.slice() as A;
        for (let j = 0; j < list.length; j++) {
          const k = list[j], t = args[k] as Tensor;
          const c = watched(resolve(t), op, k);
          if (!standIns.has(t)) standIns.set(t, c);
          targets[j] = callArgs[k] = c;
        }
        const result = withStandIns(standIns, f, callArgs);
        refusePromise(op, result);
        const value = checkScalarOutput(op, result);
        const grads = sweep(op, value, mark, targets, mode);
        keep = grads.slice();
        keep.push(value);
        return [value, typeof argnums === 'number' ? grads[0] : grads];
      }
      const standIns = new Map<Tensor, Tensor>();
      const targets: Tensor[] = [];
      const callArgs = args.slice() as A;
      const structures = list.map((k) => {
        const before = targets.length;
        const [call, structure] = watchArgument(args[k], (t) => watched(t, op, k), standIns, targets);
        if (targets.length === before) {
          throw new NotDifferentiableError(`${op}: argument ${k} holds no tensor to differentiate (${describeValue(args[k])})`);
        }
        callArgs[k] = call;
        return structure;
      });
      const result = withStandIns(standIns, f, callArgs);
      refusePromise(op, result);
      if (options.hasAux && !(Array.isArray(result) && result.length === 2)) {
        throw new ValueError(`${op}: with hasAux the function must return [value, aux], got ${Array.isArray(result) ? `an array of ${result.length}` : describeValue(result)}`);
      }
      const [y, aux] = options.hasAux ? (result as [unknown, unknown]) : [result, undefined];
      if (options.hasAux) refusePromise(op, y, 'the function\'s value');
      const value = checkScalarOutput(op, y);
      const grads = sweep(op, value, mark, targets, mode);
      let i = 0;
      const structured = structures.map((s) => mapTensors(s, () => grads[i++]));
      list.forEach((k, j) => { if (args[k] instanceof Module) gradientOwners.set(structured[j], (args[k] as Module)._ownNamedParameters()); });
      const g = typeof argnums === 'number' ? structured[0] : structured;
      keep = [value, ...grads, ...tensorsIn(aux)];
      return options.hasAux ? [[value, aux], g] : [value, g];
    } finally {
      wasm.tapeEnd();
      closeScope(keep);
    }
  };
}

/**
 * grad(f)(...args) → ∂f/∂args[argnums] (see valueAndGrad); with hasAux, [gradient, aux].
 * JAX: jax.grad; PyTorch: torch.func.grad.
 *
 * @typeParam F - f's type: its parameters type the returned function and the gradients
 * @typeParam O - the options' type (a literal argnums picks the gradients' types)
 *
 * @example
 * ```ts
 * const df = grad((x: Tensor) => x.sin().sum());
 * const g = df(tensor([0, 1]));        // cos(x)
 * const d2 = grad((x: Tensor) => grad((t: Tensor) => t.pow(3).sum())(x).sum())(tensor([2])); // 6x = 12
 * ```
 */
export function grad<F extends (...args: any[]) => readonly [Tensor, unknown], const O extends GradTransformOptions & {
  /** f returns [value, aux] */
  hasAux: true;
}>(
  f: F, opts: O): (...args: Parameters<F>) => [GradsAt<Parameters<F>, ArgnumsOf<O>>, AuxOf<F>];
/**
 * grad(f, opts?) for f returning a scalar tensor: a function giving the gradients.
 *
 * @typeParam F - f's type: its parameters type the returned function and the gradients
 * @typeParam O - the options' type (a literal argnums picks the gradients' types)
 */
export function grad<F extends (...args: any[]) => Tensor, const O extends GradTransformOptions = {}>(
  f: F, opts?: O): (...args: Parameters<F>) => GradsAt<Parameters<F>, ArgnumsOf<O>>;
export function grad(f: (...args: any[]) => any, opts?: GradOptions): (...args: any[]) => any {
  if (arguments.length > 2) checkArity('grad', arguments, 2, 'f, { argnums, hasAux, higherOrder }');
  const options = GRAD.parse(opts);
  const vg = makeValueAndGrad('grad', f, options);
  return (...args: any[]): any => {
    const [value, g] = vg(...args);
    if (!options.hasAux) { value.dispose(); return g; }
    const [y, aux] = value; // JAX's order with has_aux: (gradient, aux)
    y.dispose();
    return [g, aux];
  };
}

// MATLAB style: dlfeval traces every tensor it is given; dlgradient differentiates inside it.
const levels: number[] = [];

/**
 * dlfeval(fn, ...args): runs fn with every tensor in args traced, as MATLAB's dlfeval does, so
 * that dlgradient can be called inside. A network (Module) among the args has its learnables
 * traced, wherever its forward pass uses them. Returns what fn returns; everything else fn made
 * is freed.
 *
 * @example
 * ```ts
 * const [loss, g] = dlfeval((x: Tensor) => {
 *   const y = x.square().sum();
 *   return [y, dlgradient(y, x)];
 * }, tensor([1, 2]));                   // g = [2, 4]
 * ```
 */
export function dlfeval<R>(fn: (...args: any[]) => R, ...args: unknown[]): R {
  requireInit('dlfeval');
  checkFunction('dlfeval', fn, 'fn');
  openScope('dlfeval');
  levels.push(wasm.tapeBegin());
  let keep: Tensor[] = [];
  try {
    const standIns = new Map<Tensor, Tensor>();
    const traced = args.map((a, k) => watchArgument(a, (t) => (isFloat(t.dtype) ? watched(t, 'dlfeval', k + 1) : t), standIns, [])[0]);
    const result = withStandIns(standIns, fn, traced);
    refusePromise('dlfeval', result);
    keep = tensorsIn(result);
    return result;
  } finally {
    levels.pop();
    wasm.tapeEnd();
    closeScope(keep);
  }
}

/** @internal throws the error dlgradient gives outside dlfeval, naming `op`, before anything is computed. */
export function requireDlfeval(op: string): void {
  if (levels.length === 0) throw new NotDifferentiableError(`${op}: call it inside a function evaluated with dlfeval`);
}

const DLGRADIENT = options('dlgradient', {
  /** record the sweep so its results can be differentiated again (MATLAB's name) */
  EnableHigherDerivatives: opt.boolean,
  /** kept for MATLAB compatibility: the trace is always retained until dlfeval returns */
  RetainData: opt.boolean,
});
/** Options of dlgradient: EnableHigherDerivatives (default false), RetainData (accepted; always retained). */
export type DlgradientOptions = OptionsOf<typeof DLGRADIENT>;

/**
 * Splits dlgradient's arguments after y into the differentiated x1, …, xk and the options:
 * MATLAB's name-value pairs (`'EnableHigherDerivatives', true`, names matched case-insensitively
 * as MATLAB does) or a trailing object that holds no tensor.
 */
function dlgradientArgs(rest: unknown[]): [unknown[], DlgradientOptions] {
  while (rest.length > 0 && rest[rest.length - 1] === undefined) rest = rest.slice(0, -1);
  const firstName = rest.findIndex((v) => typeof v === 'string');
  if (firstName !== -1) {
    const pairs = rest.slice(firstName);
    if (pairs.length % 2 !== 0) throw new ValueError(`dlgradient: name-value arguments come in pairs; '${String(pairs[pairs.length - 1])}' has no value`);
    const opts: Record<string, unknown> = {};
    for (let i = 0; i < pairs.length; i += 2) {
      const name = pairs[i];
      if (typeof name !== 'string') throw new ValueError(`dlgradient: expected an option name at argument ${firstName + i + 2}, got ${describeValue(name)}`);
      const key = DLGRADIENT.keys.find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
      opts[key] = pairs[i + 1];
    }
    return [rest.slice(0, firstName), DLGRADIENT.parse(opts)];
  }
  const last = rest[rest.length - 1];
  if (rest.length > 1 && isPlainObject(last) && tensorsIn(last).length === 0) return [rest.slice(0, -1), DLGRADIENT.parse(last)];
  return [rest, {}];
}

/**
 * dlgradient(y, x1, …, xk, options?): the gradients of scalar y with respect to x1 … xk, as
 * MATLAB's [g1, …, gk] = dlgradient(y, x1, …, xk): one gradient for one x, an array of k for
 * several. Each x is a tensor, an array or object of tensors (gradients in the same structure),
 * or a network (Module), whose gradient is an object by parameter name. Only inside dlfeval, as
 * in MATLAB. Options: `{ EnableHigherDerivatives }` or MATLAB's name-value pairs.
 *
 * @example
 * ```ts
 * const g = dlfeval((w: Tensor) => dlgradient(w.square().sum(), w), tensor([3]));  // [6]
 * const [gx, gy] = dlfeval((x: Tensor, y: Tensor) => dlgradient(x.mul(y).sum(), x, y), tensor([2]), tensor([5]));
 * ```
 */
export function dlgradient(y: Tensor, ...rest: unknown[]): any {
  requireInit('dlgradient');
  if (levels.length === 0) throw new NotDifferentiableError('dlgradient: call it inside a function evaluated with dlfeval');
  const [xs, opts] = dlgradientArgs(rest);
  if (xs.length === 0) throw new ValueError('dlgradient: give at least one x to differentiate with respect to: dlgradient(y, x1, …, xk)');
  const value = checkScalarOutput('dlgradient', y);
  const structures = xs.map((x, k) => {
    const s = x instanceof Module ? Object.fromEntries(x._ownNamedParameters().map(([n, t]) => [n, resolve(t)])) : mapTensors(x, resolve);
    if (leaves(s).length === 0) throw new ValueError(`dlgradient: x${xs.length > 1 ? k + 1 : ''} holds no tensor (${describeValue(x)})`);
    return s;
  });
  const targets = structures.flatMap(leaves);
  views();
  for (const t of targets) {
    const id = t.use('dlgradient (x)');
    if ((I32[recordWord(id) + T_FLAGS / 4] & F_NEEDS_GRAD) === 0) {
      throw new NotDifferentiableError(`dlgradient: x (shape ${formatShape(t.dims)}) is not traced: differentiate with respect to dlfeval's inputs (tensors or a network's learnables) or values computed from them`);
    }
  }
  const grads = sweep('dlgradient', value, levels[levels.length - 1], targets,
    opts.EnableHigherDerivatives ? MODE_CREATE_GRAPH : 0);
  let i = 0;
  // Each gradient has its target's format, as MATLAB's dlgradient.
  const out = structures.map((s) => mapTensors(s, (t) => { const g = grads[i++]; if (t._format !== undefined) g._format = t._format; return g; }));
  xs.forEach((x, j) => { if (x instanceof Module) gradientOwners.set(out[j], x._ownNamedParameters()); });
  return xs.length === 1 ? out[0] : out;
}

// ————————————————————————————————————————————————————— trace: the seed's two tables (printed by src/trace-table.ts)

/**
 * trace(f, ...args): evaluates f with every tensor in args differentiated and returns the
 * recorded graph as data — each node u_i with its op, inputs, value and adjoint ∂f/∂u_i — whose
 * toString() prints the seed's forward trace and reverse-sweep tables.
 */
export function trace(f: (...args: any[]) => Tensor, ...args: unknown[]): Trace {
  checkFunction('trace', f);
  return record('trace', f, args, undefined);
}

/**
 * traceJvp(f, primals, tangents): trace() with forward mode running beside it — every node
 * also carries its tangent u̇ (the seed's forward-mode table for that input direction).
 */
export function traceJvp(f: (...args: Tensor[]) => Tensor, primals: Tensor[], tangents: Tensor[]): Trace {
  checkFunction('traceJvp', f);
  if (!Array.isArray(primals) || !Array.isArray(tangents) || primals.length !== tangents.length) {
    throw new ValueError('traceJvp: primals and tangents must be arrays of the same length');
  }
  return record('traceJvp', f, primals, tangents);
}

function record(op: string, f: (...args: any[]) => Tensor, args: unknown[], tangents: Tensor[] | undefined): Trace {
  requireInit(op);
  if (tangents && wasm.forwardDepthNow() > 0) throw new NotDifferentiableError(`${op}: cannot run inside forward mode`);
  openScope(op);
  const mark = wasm.tapeBegin();
  const forwardMark = tangents ? wasm.forwardBegin() : -1;
  const inputs: Tensor[] = [];
  try {
    const callArgs = args.map((a, k) => mapTensors(a, (t) => { const c = watched(t, op, k); inputs.push(c); return c; }));
    tangents?.forEach((t, k) => {
      const x = inputs[k];
      if (!(t instanceof Tensor) || formatShape(t.dims) !== formatShape(x.dims) || t.dtype !== x.dtype) {
        throw new ValueError(`${op}: tangents[${k}] must be a ${x.dtype} tensor of shape ${formatShape(x.dims)}`);
      }
      wasm.setTangent(x.id, checked(wasm.copy(t.use(`${op} (tangents[${k}])`)), op));
    });
    const out = f(...callArgs);
    refusePromise(op, out);
    const y = checkScalarOutput(op, out);
    if (tangents) wasm.flushJvp();
    // The nodes: the inputs, then every record of the forward pass (not a tangent's computation).
    const end = wasm.tapeLength();
    const primalRecords: number[] = [];
    for (let r = mark; r < end; r++) if (!wasm.tapeRecordIsTangent(r)) primalRecords.push(r);
    const tangentValue = (id: number, like: Tensor) => {
      const t = wasm.tangentOf(id);
      return t !== 0 ? new Tensor(t).toArray() : zerosLike(like);
    };
    const tangentsOf = tangents ? new Map<number, any>() : undefined;
    if (tangentsOf) {
      for (const t of inputs) tangentsOf.set(t.id, tangentValue(t.id, t));
      for (const r of primalRecords) { const out = wasm.tapeRecordOut(r); tangentsOf.set(out, tangentValue(out, new Tensor(out))); }
    }
    const code = wasm.backward(y.id, mark, argsI32(inputs.map((t) => t.id)), inputs.length, MODE_RETAIN_ALL);
    if (code !== 0) raise(op);
    const index = new Map<number, number>();
    const nodes: TraceNode[] = [];
    const valueOf = (id: number) => new Tensor(id).toArray();
    const adjointValue = (id: number, like: Tensor) => {
      const a = wasm.adjoint(id);
      return a !== 0 ? valueOf(a) : zerosLike(like);
    };
    const node = (index: number, opName: string, ins: TraceNode['inputs'], attrs: number[], t: Tensor): TraceNode => {
      const n: TraceNode = { index, op: opName, inputs: ins, attrs, value: t.toArray() as number | number[], adjoint: adjointValue(t.id, t), shape: t.shape };
      if (tangentsOf) n.tangent = tangentsOf.get(t.id);
      return n;
    };
    inputs.forEach((t, k) => {
      const i = k - inputs.length + 1;
      index.set(t.id, i);
      nodes.push(node(i, 'input', [], [], t));
    });
    let next = 1;
    for (const r of primalRecords) {
      const out = wasm.tapeRecordOut(r);
      const ins: TraceNode['inputs'] = [];
      for (let k = 0; k < wasm.tapeRecordNumInputs(r); k++) {
        const id = wasm.tapeRecordInput(r, k);
        ins.push(index.has(id) ? { node: index.get(id)! } : { constant: valueOf(id) });
      }
      const attrs: number[] = [];
      for (let k = 0; k < wasm.tapeRecordNumAttrs(r); k++) attrs.push(wasm.tapeRecordAttr(r, k));
      index.set(out, next);
      nodes.push(node(next++, Op[wasm.tapeRecordOp(r)] ?? `op${wasm.tapeRecordOp(r)}`, ins, attrs, new Tensor(out)));
    }
    wasm.clearAdjoints(mark, y.id);
    return new Trace(nodes, index.get(y.id) ?? 0);
  } finally {
    if (tangents) {
      for (const c of inputs) if (c.isAlive) wasm.clearTangent(c.id);
      wasm.forwardEnd(forwardMark);
    }
    wasm.tapeEnd();
    closeScope([]);
  }
}

function zerosLike(t: Tensor): any {
  const z = (k: number): any => (k === t.dims.length ? 0 : Array.from({ length: t.dims[k] }, () => z(k + 1)));
  return z(0);
}

