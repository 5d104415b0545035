// User-defined derivatives and their relatives: customGrad, customJvp, checkpoint, vjp,
// stopGradient / detach.
//
// A custom function's forward pass runs with recording paused; one `custom` tape record then
// stands for it. When the reverse sweep (or forward mode) reaches that record, wasm calls back
// into the rule registered here. Rules compute with ordinary wasmgrad ops, so they are recorded
// like any other op when higher derivatives are requested.

import { Tensor, wrap } from './tensor.js';
import { wasm, checked, argsI32, requireInit, raise, hostHooks, setPendingHostError, views, I32, recordWord } from './runtime.js';
import { openScope, closeScope, tidy } from './scope.js';
import { NotDifferentiableError, ShapeError, ValueError, DTypeError, formatShape } from './errors.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from './options.js';
import { valueAndGrad, checkFunction, refusePromise } from './autodiff.js';
import { F_NEEDS_GRAD, T_FLAGS } from '../assembly/core/abi.js';

/** g ↦ one contribution per input (null where an input gets none), each shaped like its input. */
export type VjpRule = (g: Tensor, out: Tensor, ...inputs: Tensor[]) => Tensor | null | (Tensor | null | undefined)[];
/** tangents (null for an input without one) ↦ the output's tangent. */
export type JvpRule = (tangents: (Tensor | null)[], out: Tensor, ...inputs: Tensor[]) => Tensor;

interface Rule { name: string; vjp?: VjpRule; jvp?: JvpRule }
const rules = new Map<number, Rule>();
let nextHandle = 1;

const KIND_VJP = 0;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/** Called from wasm in the middle of a sweep or a forward pass: never throws back into wasm. */
hostHooks.customRule = (kind: number, handle: number, record: number, g: number): number => {
  // In a first-order sweep nothing walks the records the rule's own levels leave (a gradient it
  // takes, a checkpoint's recomputation), and the sweep frees their tensors after the rule:
  // drop those records when the rule is done.
  const discardFrom = kind === KIND_VJP && !wasm.recordingNow() && wasm.forwardDepthNow() === 0 ? wasm.tapeLength() : -1;
  try {
    const rule = rules.get(handle);
    if (rule === undefined) throw new NotDifferentiableError(`custom rule ${handle} is unknown`);
    const n = wasm.tapeRecordNumInputs(record);
    const xs: Tensor[] = [];
    for (let k = 0; k < n; k++) xs.push(new Tensor(wasm.tapeRecordInput(record, k)));
    const out = new Tensor(wasm.tapeRecordOut(record));
    if (kind === KIND_VJP) {
      if (rule.vjp === undefined) {
        throw new NotDifferentiableError(`${rule.name}: reverse mode reached a function with only a JVP rule; give it a VJP rule with customGrad(forward, vjp, { jvp })`);
      }
      const result = rule.vjp(new Tensor(g), out, ...xs);
      refusePromise(rule.name, result, 'the VJP rule');
      const contribs = Array.isArray(result) ? result : [result];
      if (contribs.length !== n) {
        throw new ValueError(`${rule.name}: the VJP rule returned ${contribs.length} gradient(s) for ${n} input(s)`);
      }
      contribs.forEach((c, k) => {
        if (c === null || c === undefined) return;
        if (!(c instanceof Tensor)) throw new ValueError(`${rule.name}: the VJP rule's gradient ${k} is not a Tensor`);
        c.use(`${rule.name} (gradient ${k})`);
        if (!sameShape(c.dims, xs[k].dims) || c.dtype !== xs[k].dtype) {
          throw new ShapeError(`${rule.name}: the VJP rule's gradient ${k} has shape ${formatShape(c.dims)} (${c.dtype}) but input ${k} has shape ${formatShape(xs[k].dims)} (${xs[k].dtype})`);
        }
        wasm.accumulateInto(xs[k].id, c.id);
      });
    } else {
      if (rule.jvp === undefined) {
        throw new NotDifferentiableError(`${rule.name}: forward mode reached a function with only a VJP rule; give it a JVP rule with customGrad(forward, vjp, { jvp })`);
      }
      const tangents = xs.map((x) => { const t = wasm.tangentOf(x.id); return t !== 0 ? new Tensor(t) : null; });
      const t = rule.jvp(tangents, out, ...xs);
      refusePromise(rule.name, t, 'the JVP rule');
      if (!(t instanceof Tensor)) throw new ValueError(`${rule.name}: the JVP rule must return a Tensor`);
      t.use(`${rule.name} (tangent)`);
      if (!sameShape(t.dims, out.dims) || t.dtype !== out.dtype) {
        throw new ShapeError(`${rule.name}: the JVP rule's tangent has shape ${formatShape(t.dims)} (${t.dtype}) but the output has shape ${formatShape(out.dims)} (${out.dtype})`);
      }
      wasm.setTangent(out.id, t.id);
    }
    return 0;
  } catch (e) {
    setPendingHostError(e);
    return 1;
  } finally {
    if (discardFrom >= 0) wasm.tapeDiscard(discardFrom);
  }
};

function checkInputs(name: string, xs: unknown[]): Tensor[] {
  return xs.map((x, k) => {
    if (!(x instanceof Tensor)) throw new ValueError(`${name}: argument ${k} must be a Tensor, got ${describeValue(x)}`);
    x.use(`${name} (argument ${k})`);
    return x;
  });
}

/** Wraps `forward` so that its derivative is given by the rules instead of by its ops. */
function defineCustom(name: string, forward: (...xs: Tensor[]) => Tensor, rule: Rule): (...xs: Tensor[]) => Tensor {
  const handle = nextHandle++;
  rules.set(handle, rule);
  return (...args: Tensor[]): Tensor => {
    requireInit(name);
    const xs = checkInputs(name, args);
    const wasPaused = wasm.setPaused(1);
    let out: Tensor;
    try {
      out = tidy(() => {
        const y = forward(...xs);
        refusePromise(name, y, 'the forward function');
        if (!(y instanceof Tensor)) throw new ValueError(`${name}: the forward function must return one Tensor, got ${describeValue(y)}`);
        // The record needs an output of its own, not one of the inputs passed through.
        return xs.includes(y) ? wrap(checked(wasm.detach(y.id), name)) : y;
      });
    } finally {
      wasm.setPaused(wasPaused ? 1 : 0);
    }
    wasm.recordCustom(handle, out.id, argsI32(xs.map((x) => x.id)), xs.length);
    if (wasm.errorCode() !== 0) raise(name);
    return out;
  };
}

const CUSTOM_GRAD = options('customGrad', {
  /** a forward-mode rule, used by jvp / hvp / hessian */
  jvp: opt.func<JvpRule>(),
  /** a name for error messages */
  name: opt.string,
});
const CUSTOM_JVP = options('customJvp', {
  /** a name for error messages */
  name: opt.string,
});
/** Options of customGrad: jvp (a forward-mode rule, for jvp / hvp / hessian) and name (for error messages). */
export type CustomGradOptions = OptionsOf<typeof CUSTOM_GRAD>;
export type CustomJvpOptions = OptionsOf<typeof CUSTOM_JVP>;

/**
 * customGrad(forward, vjp): a function computed by `forward` whose reverse-mode derivative is
 * `vjp(g, out, ...inputs)` → one gradient per input (null for none). Give `{ jvp }` for forward
 * mode as well. Rules written with wasmgrad ops are themselves differentiable.
 */
export function customGrad(forward: (...xs: Tensor[]) => Tensor, vjp: VjpRule, opts?: CustomGradOptions) {
  if (arguments.length > 3) checkArity('customGrad', arguments, 3, 'forward, vjp, { jvp, name }');
  checkFunction('customGrad', forward, 'forward');
  checkFunction('customGrad', vjp, 'vjp');
  const options = CUSTOM_GRAD.parse(opts);
  if (options.jvp !== undefined) checkFunction('customGrad', options.jvp, 'the jvp option');
  return defineCustom(options.name ?? 'customGrad', forward, { name: options.name ?? 'customGrad', vjp, jvp: options.jvp });
}

/**
 * customJvp(forward, jvp): a function whose forward-mode derivative is
 * `jvp(tangents, out, ...inputs)`. Reverse mode needs a VJP rule too: use customGrad with { jvp }.
 */
export function customJvp(forward: (...xs: Tensor[]) => Tensor, jvp: JvpRule, opts?: CustomJvpOptions) {
  if (arguments.length > 3) checkArity('customJvp', arguments, 3, 'forward, jvp, { name }');
  checkFunction('customJvp', forward, 'forward');
  checkFunction('customJvp', jvp, 'jvp');
  const options = CUSTOM_JVP.parse(opts);
  return defineCustom(options.name ?? 'customJvp', forward, { name: options.name ?? 'customJvp', jvp });
}

/**
 * checkpoint(f): the same function, but its intermediates are not kept for the reverse sweep;
 * they are recomputed when the sweep reaches f. Gradients are identical; memory is lower.
 */
export function checkpoint(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor {
  if (arguments.length > 1) checkArity('checkpoint', arguments, 1, 'f');
  checkFunction('checkpoint', f, 'f');
  // The record's inputs are f's arguments, then the tensors f captured: one rule per arity.
  const recompute = (arity: number): VjpRule => (g, _out, ...inputs) => {
    const createGraph = wasm.recordingNow() ? 1 : 0; // the enclosing sweep records itself
    const wasPaused = wasm.setPaused(0);
    openScope('checkpoint');
    const mark = wasm.tapeBegin();
    let keep: Tensor[] = [];
    try {
      const loss = f(...inputs.slice(0, arity)).mul(g).sum();
      const targets = inputs.map((t) => t.id);
      if (wasm.backward(loss.id, mark, argsI32(targets), targets.length, createGraph) !== 0) raise('checkpoint');
      // A target's slot may hold the enclosing sweep's partial adjoint, which this sweep added
      // into in place: the slot's total goes back as the contribution (and the slot is cleared).
      const grads = targets.map((id) => { const a = wasm.takeAdjoint(id); return a !== 0 ? wrap(a) : null; });
      keep = grads.filter((t): t is Tensor => t !== null);
      return grads;
    } finally {
      wasm.tapeEnd();
      closeScope(keep);
      wasm.setPaused(wasPaused ? 1 : 0);
    }
  };
  const handles = new Map<number, number>();
  const handleFor = (arity: number): number => {
    let h = handles.get(arity);
    if (h === undefined) {
      h = nextHandle++;
      rules.set(h, { name: 'checkpoint', vjp: recompute(arity) });
      handles.set(arity, h);
    }
    return h;
  };
  return (...args: Tensor[]): Tensor => {
    requireInit('checkpoint');
    const xs = checkInputs('checkpoint', args);
    // Forward mode keeps nothing for later, and without a tape nothing is kept either.
    if (wasm.forwardDepthNow() > 0 || !wasm.recordingNow()) {
      const out = f(...xs);
      refusePromise('checkpoint', out, 'f');
      return out;
    }
    // Run f recorded, to learn what it reads (its arguments and the parameters it captures),
    // then keep only its output: the records and intermediates go.
    openScope('checkpoint');
    const mark = wasm.tapeLength();
    let y: Tensor | undefined;
    try {
      const out = f(...xs);
      refusePromise('checkpoint', out, 'f');
      if (!(out instanceof Tensor)) throw new ValueError(`checkpoint: f must return one Tensor, got ${describeValue(out)}`);
      const read = freeInputs(mark).filter((id) => !xs.some((x) => x.id === id));
      y = wrap(checked(wasm.detach(out.use('checkpoint (output)')), 'checkpoint'));
      wasm.tapeDiscard(mark);
      const inputs = [...xs.map((x) => x.id), ...read];
      wasm.recordCustom(handleFor(xs.length), y.id, argsI32(inputs), inputs.length);
      if (wasm.errorCode() !== 0) raise('checkpoint');
    } finally {
      closeScope(y ? [y] : []);
    }
    return y;
  };
}

/** Ids read by the records since `mark` that need a gradient and were not made by them. */
function freeInputs(mark: number): number[] {
  const made = new Set<number>();
  const found = new Set<number>();
  views();
  for (let r = mark, end = wasm.tapeLength(); r < end; r++) {
    for (let k = 0, n = wasm.tapeRecordNumInputs(r); k < n; k++) {
      const id = wasm.tapeRecordInput(r, k);
      if (!made.has(id) && (I32[recordWord(id) + T_FLAGS / 4] & F_NEEDS_GRAD) !== 0) found.add(id);
    }
    made.add(wasm.tapeRecordOut(r));
  }
  return [...found];
}

/** A copy of x through which no derivative flows (JAX's stop_gradient, PyTorch's detach). */
export function stopGradient(x: Tensor): Tensor {
  requireInit('stopGradient');
  if (!(x instanceof Tensor)) throw new ValueError(`stopGradient: expected a Tensor, got ${describeValue(x)}`);
  return wrap(checked(wasm.detach(x.use('stopGradient (x)')), 'stopGradient'));
}
/** The same as stopGradient (PyTorch: Tensor.detach). */
export const detach = stopGradient;

/**
 * vjp(f, ...primals) → [f(...primals), pullback]; pullback(cotangent) returns one gradient per
 * primal (Jᵀ·cotangent). The pullback re-runs f's forward pass each time it is called, so the
 * primals must stay alive while it is used.
 */
export function vjp(f: (...xs: Tensor[]) => Tensor, ...primals: Tensor[]): [Tensor, (cotangent: Tensor) => Tensor[]] {
  requireInit('vjp');
  checkFunction('vjp', f, 'f');
  const xs = checkInputs('vjp', primals);
  // f runs in a scope: when it fails, or returns something else than a Tensor, what it made is freed.
  openScope('vjp');
  let out: unknown;
  try {
    out = f(...xs);
    refusePromise('vjp', out, 'f');
    if (!(out instanceof Tensor)) throw new ValueError(`vjp: f must return a Tensor, got ${describeValue(out)}`);
  } finally {
    closeScope(out instanceof Tensor ? [out] : []);
  }
  const shape = out.shape, dtype = out.dtype;
  const argnums = xs.map((_, k) => k);
  const pullback = (cotangent: Tensor): Tensor[] => {
    if (!(cotangent instanceof Tensor)) throw new ValueError(`vjp pullback: the cotangent must be a Tensor, got ${describeValue(cotangent)}`);
    cotangent.use('vjp pullback (cotangent)');
    if (!sameShape(cotangent.dims, shape)) {
      throw new ShapeError(`vjp pullback: the cotangent has shape ${formatShape(cotangent.dims)} but f's output has shape ${formatShape(shape)}`);
    }
    if (cotangent.dtype !== dtype) throw new DTypeError(`vjp pullback: the cotangent is ${cotangent.dtype} but f's output is ${dtype}`);
    const [, grads] = valueAndGrad((...ys: Tensor[]) => f(...ys).mul(cotangent).sum(), { argnums })(...xs);
    return grads as Tensor[];
  };
  return [out, pullback];
}

declare module './tensor.js' {
  interface Tensor {
    /** A copy through which no derivative flows. */
    detach(): Tensor;
  }
}
Tensor.prototype.detach = function () { return stopGradient(this); };
