// Forward mode and the derivatives built from both modes: jvp, jacfwd, jacobian (jacrev),
// hessian, hvp (forward-over-reverse).
//
// jvp opens a forward level: f receives watched copies of the primals, each carrying a copy of
// its tangent; every op's JVP rule (in wasm, beside its VJP rule) carries tangents along, so one
// pass gives the outputs and their directional derivatives.

import { Tensor, wrap, zeros, tensor, setFormat } from './tensor.js';
import { wasm, checked, requireInit } from './runtime.js';
import { openScope, closeScope, tensorsIn } from './scope.js';
import { NotDifferentiableError, ShapeError, DTypeError, ValueError, formatShape } from './errors.js';
import { isFloat, normAxis } from './ops/common.js';
import { mapTensors, grad, dlfeval, dlgradient, checkFunction, refusePromise, requireDlfeval } from './autodiff.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from './options.js';
import { stack } from './ops/shape.js';

/** x, checked to be a live Tensor: a ValueError naming the op, the argument and what it got. */
function tensorArg(op: string, x: unknown, what: string): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: ${what} must be a Tensor, got ${describeValue(x)}`);
  x.use(`${op} (${what})`);
  return x;
}

function asList(x: Tensor | Tensor[], op: string, what: string): Tensor[] {
  const list = Array.isArray(x) ? x : [x];
  list.forEach((t, k) => {
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${what}[${k}] must be a Tensor, got ${describeValue(t)}`);
    t.use(`${op} (${what}[${k}])`);
  });
  return list;
}

/**
 * jvp(f, primals, tangents) → [f(...primals), J·tangents]: the outputs and their directional
 * derivatives in one forward pass. Outputs may be a tensor, an array or an object of tensors;
 * the tangents come back in the same structure. JAX: jax.jvp; PyTorch: torch.func.jvp.
 *
 * @param f - a function of tensors
 * @param primals - the point: one tensor per argument of f
 * @param tangents - the direction: one tensor per primal, of its shape
 *
 * @example
 * ```ts
 * const [y, dy] = jvp((x: Tensor) => x.exp(), [tensor([0, 1])], [tensor([1, 1])]);  // dy = eˣ
 * ```
 *
 * @typeParam F - f's type: the outputs and tangents come back in the structure of its result
 */
export function jvp<F extends (...xs: Tensor[]) => unknown>(f: F, primals: Tensor | Tensor[], tangents: Tensor | Tensor[]): [ReturnType<F>, ReturnType<F>];
export function jvp(f: (...xs: Tensor[]) => any, primals: Tensor | Tensor[], tangents: Tensor | Tensor[]): [any, any] {
  requireInit('jvp');
  checkFunction('jvp', f, 'f');
  const ps = asList(primals, 'jvp', 'primals');
  const ts = asList(tangents, 'jvp', 'tangents');
  if (ps.length !== ts.length) throw new ValueError(`jvp: ${ps.length} primal(s) but ${ts.length} tangent(s)`);
  ps.forEach((p, k) => {
    const t = ts[k];
    if (!isFloat(p.dtype)) throw new NotDifferentiableError(`jvp: primals[${k}] is a ${p.dtype} tensor; only float tensors have tangents`);
    if (t.dtype !== p.dtype) throw new DTypeError(`jvp: tangents[${k}] is ${t.dtype} but primals[${k}] is ${p.dtype}`);
    if (formatShape(t.dims) !== formatShape(p.dims)) {
      throw new ShapeError(`jvp: tangents[${k}] has shape ${formatShape(t.dims)} but primals[${k}] has shape ${formatShape(p.dims)}`);
    }
  });
  if (wasm.forwardDepthNow() > 0) {
    throw new NotDifferentiableError('jvp: forward mode inside forward mode is not supported; compose forward over reverse (jvp of grad) instead');
  }
  openScope('jvp');
  wasm.tapeBegin();
  const mark = wasm.forwardBegin();
  const copies: Tensor[] = [];
  let keep: Tensor[] = [];
  try {
    ps.forEach((p, k) => {
      const c = setFormat(wrap(checked(wasm.copy(p.id), 'jvp')), p._format);
      wasm.watch(c.id);
      wasm.setTangent(c.id, checked(wasm.copy(ts[k].id), 'jvp'));
      copies.push(c);
    });
    const out = f(...copies);
    refusePromise('jvp', out, 'f');
    wasm.flushJvp();
    const outTangents = mapTensors(out, (y) => {
      y.use('jvp (output)');
      const t = wasm.tangentOf(y.id);
      return setFormat(t !== 0 ? wrap(t) : zeros(y.dims, { dtype: y.dtype }), y._format);
    });
    keep = [...tensorsIn(out), ...tensorsIn(outTangents)];
    return [out, outTangents];
  } finally {
    for (const c of copies) if (c.isAlive) wasm.clearTangent(c.id);
    wasm.forwardEnd(mark);
    wasm.tapeEnd();
    closeScope(keep);
  }
}

/** One-hot basis direction k of x's shape and dtype. */
function basis(x: Tensor, k: number): Tensor {
  const data = x.dtype === 'float64' ? new Float64Array(x.numel()) : new Float32Array(x.numel());
  data[k] = 1;
  return tensor(data, { shape: x.dims, dtype: x.dtype });
}

/** Forward-mode Jacobian: one jvp per input direction. Shape: f(x).shape + x.shape. */
export function jacfwd(f: (x: Tensor) => Tensor) {
  if (arguments.length > 1) checkArity('jacfwd', arguments, 1, 'f');
  checkFunction('jacfwd', f, 'f');
  return (x: Tensor): Tensor => jacfwdAt('jacfwd', f, x);
}

/** jacfwd(f)(x) in a scope of its own: a failure at any direction frees what the earlier ones made. */
function jacfwdAt(op: string, f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  requireInit(op);
  tensorArg(op, x, 'x');
  openScope(op);
  let r: Tensor | undefined;
  try {
    const n = x.numel();
    let yShape: number[] = [];
    const cols: Tensor[] = [];
    for (let k = 0; k < n; k++) {
      const e = basis(x, k);
      const [y, t] = jvp(f, [x], [e]);
      if (!(y instanceof Tensor)) throw new ValueError(`${op}: f must return one Tensor, got ${describeValue(y)}`);
      yShape = y.shape;
      y.dispose();
      e.dispose();
      cols.push(t as Tensor);
    }
    if (n === 0) {
      const y = f(x);
      refusePromise(op, y, 'f');
      if (!(y instanceof Tensor)) throw new ValueError(`${op}: f must return one Tensor, got ${describeValue(y)}`);
      r = zeros([...y.dims, ...x.dims], { dtype: x.dtype });
      return r;
    }
    const j = stack(cols, -1);
    cols.forEach((c) => c.dispose());
    r = j.reshape([...yShape, ...x.dims]);
    j.dispose();
    return r;
  } finally {
    closeScope(r ? [r] : []);
  }
}

/** Reverse-mode Jacobian: one forward pass, one reverse sweep per output element. Shape: f(x).shape + x.shape. */
export function jacobian(f: (x: Tensor) => Tensor) {
  if (arguments.length > 1) checkArity('jacobian', arguments, 1, 'f');
  checkFunction('jacobian', f, 'f');
  return (x: Tensor): Tensor => {
    requireInit('jacobian');
    tensorArg('jacobian', x, 'x');
    return dlfeval((xt: Tensor) => {
      const y = f(xt);
      refusePromise('jacobian', y, 'f');
      if (!(y instanceof Tensor)) throw new ValueError(`jacobian: f must return a Tensor, got ${describeValue(y)}`);
      const flat = y.reshape([-1]);
      const rows: Tensor[] = [];
      for (let i = 0; i < flat.numel(); i++) rows.push(dlgradient(flat.select(0, i), xt));
      if (rows.length === 0) return zeros([...y.dims, ...xt.dims], { dtype: xt.dtype });
      return stack(rows, 0).reshape([...y.dims, ...xt.dims]);
    }, x);
  };
}
/** The same as jacobian: reverse mode (JAX: jax.jacrev; PyTorch: torch.func.jacrev). */
export const jacrev = jacobian;

/** f, checked to return a scalar so that the error names the operator the user called. */
function scalarValued(op: string, f: (x: Tensor) => Tensor) {
  return (x: Tensor): Tensor => {
    const y = f(x);
    refusePromise(op, y, 'f');
    if (!(y instanceof Tensor) || y.numel() !== 1) {
      const got = y instanceof Tensor ? `shape ${formatShape(y.dims)}` : describeValue(y);
      throw new NotDifferentiableError(`${op}: the function must return a scalar, got ${got}; reduce it first, e.g. with .sum()`);
    }
    return y;
  };
}

/** Hessian-vector product H(x)·v by forward-over-reverse: the JVP of the gradient. */
export function hvp(f: (x: Tensor) => Tensor) {
  if (arguments.length > 1) checkArity('hvp', arguments, 1, 'f');
  checkFunction('hvp', f, 'f');
  const g = grad(scalarValued('hvp', f));
  return (x: Tensor, v: Tensor): Tensor => {
    requireInit('hvp');
    tensorArg('hvp', x, 'x');
    tensorArg('hvp', v, 'v');
    if (formatShape(v.dims) !== formatShape(x.dims)) throw new ShapeError(`hvp: v has shape ${formatShape(v.dims)} but x has shape ${formatShape(x.dims)}; they must be the same`);
    if (v.dtype !== x.dtype) throw new DTypeError(`hvp: v is ${v.dtype} but x is ${x.dtype}; they must have the same dtype`);
    const [gx, hv] = jvp((xt) => g(xt), [x], [v]);
    (gx as Tensor).dispose();
    return hv as Tensor;
  };
}

/** The Hessian of scalar f at x (forward over reverse). Shape: x.shape + x.shape. */
export function hessian(f: (x: Tensor) => Tensor) {
  if (arguments.length > 1) checkArity('hessian', arguments, 1, 'f');
  checkFunction('hessian', f, 'f');
  const g = grad(scalarValued('hessian', f));
  return (x: Tensor): Tensor => jacfwdAt('hessian', g, x);
}

// ——————————————————————————————————— MATLAB: dljacobian, dldivergence, dllaplacian
//
// Inside dlfeval. `dim` is u's axis (0-based; negative counts from the end) that holds its
// components; u's other axes are observation (batch) axes, and x has the same observation axes in
// the same places: those before dim lead x, those after dim end it. x's axes in between are its
// components (one axis when u and x have the same rank; several for image input: u [5, 128] and x
// [16, 16, 3, 128], MATLAB's example, have components [5] and [16, 16, 3] and the 128 observations
// last). Observations are taken to be independent (u's observation b depends only on x's
// observation b), as in MATLAB, so one reverse sweep per component of u gives that component's
// derivatives for every observation at once. For formatted u and x the observation axes must carry
// the same labels ('CB' beside 'SSCB': 'B').

const dlOperatorSpecs = {
  /** record the sweeps so the result can be differentiated again (default true) */
  EnableHigherDerivatives: opt.boolean,
};
const DLJACOBIAN = options('dljacobian', dlOperatorSpecs);
const DLDIVERGENCE = options('dldivergence', dlOperatorSpecs);
const DLLAPLACIAN = options('dllaplacian', dlOperatorSpecs);
/** Options of dljacobian / dldivergence / dllaplacian: EnableHigherDerivatives (default true). */
export type DlOperatorOptions = OptionsOf<typeof DLJACOBIAN>;

/** How u and x line up: u = [obs before, K, obs after], x = [obs before, comps…, obs after]. */
interface Operands { d: number; comps: number[]; m: number }

function checkOperands(op: string, u: Tensor, x: Tensor, dim: number): Operands {
  // Outside dlfeval nothing is traced: fail before any tensor is made.
  requireDlfeval(op);
  tensorArg(op, u, 'u');
  tensorArg(op, x, 'x');
  const d = normAxis(op, dim, u.rank, 'dim');
  const before = u.dims.slice(0, d), after = u.dims.slice(d + 1);
  const describe = (t: Tensor): string => `shape ${formatShape(t.dims)}${t._format !== undefined ? `, format '${t._format}'` : ''}`;
  if (x.rank < u.rank) {
    throw new ShapeError(`${op}: x (${describe(x)}) has fewer dims than u (${describe(u)}); x needs u's observation axes ` +
      `(all but dim ${dim}) and at least one component axis`);
  }
  const xAfter = x.dims.slice(x.rank - after.length);
  const sameSizes = before.every((n, k) => n === x.dims[k]) && after.every((n, k) => n === xAfter[k]);
  const uf = u._format, xf = x._format;
  const sameLabels = uf === undefined || xf === undefined ||
    (uf.slice(0, d) === xf.slice(0, d) && uf.slice(d + 1) === xf.slice(xf.length - after.length));
  if (!sameSizes || !sameLabels) {
    const same = u.rank === x.rank
      ? `only dim ${dim} may differ`
      : `u's axes before dim ${dim} must lead x and those after it end x (observation axes), with the same sizes` +
        (uf !== undefined && xf !== undefined ? ' and labels' : '');
    throw new ShapeError(`${op}: u (${describe(u)}) and x (${describe(x)}) differ on their observation axes; ${same}`);
  }
  const comps = x.dims.slice(d, x.rank - after.length);
  return { d, comps, m: comps.reduce((a, b) => a * b, 1) };
}

/** g (shaped like x) with x's component axes flattened into one (no copy when there is one). */
function flatComponents(g: Tensor, d: number, o: Operands): Tensor {
  if (o.comps.length === 1) return g;
  return g.reshape([...g.dims.slice(0, d), o.m, ...g.dims.slice(d + o.comps.length)]);
}

/**
 * ∂u_i/∂x_j per observation: u's shape with the component axis replaced by (u's components, x's
 * component axes) — for MATLAB's example, u [5, 128] ('CB') and x [16, 16, 3, 128] ('SSCB') with
 * dim 0 give [5, 16, 16, 3, 128]. The result is unformatted.
 */
export function dljacobian(u: Tensor, x: Tensor, dim: number, opts?: DlOperatorOptions): Tensor {
  requireInit('dljacobian');
  if (arguments.length > 4) checkArity('dljacobian', arguments, 4, 'u, x, dim, { EnableHigherDerivatives }');
  const options = DLJACOBIAN.parse(opts);
  const o = checkOperands('dljacobian', u, x, dim);
  const higher = options.EnableHigherDerivatives ?? true;
  const rows: Tensor[] = [];
  for (let i = 0; i < u.dims[o.d]; i++) {
    rows.push(dlgradient(u.select(o.d, i).sum(), x, { EnableHigherDerivatives: higher }));
  }
  if (rows.length === 0) {
    const shape = [...x.dims];
    shape.splice(o.d, 0, 0);
    return zeros(shape, { dtype: x.dtype });
  }
  return stack(rows, o.d);
}

/**
 * Σ_i ∂u_i/∂x_i per observation (x's component axes read in row-major order, as many components
 * as u has): u's shape with the component axis of size 1, with u's format.
 */
export function dldivergence(u: Tensor, x: Tensor, dim: number, opts?: DlOperatorOptions): Tensor {
  requireInit('dldivergence');
  if (arguments.length > 4) checkArity('dldivergence', arguments, 4, 'u, x, dim, { EnableHigherDerivatives }');
  const options = DLDIVERGENCE.parse(opts);
  const o = checkOperands('dldivergence', u, x, dim);
  if (u.dims[o.d] !== o.m) {
    throw new ShapeError(`dldivergence: u has ${u.dims[o.d]} components along dim ${dim} and x has ${o.m}` +
      `${o.comps.length > 1 ? ` (its component axes ${formatShape(o.comps)})` : ''}; the divergence needs as many of each`);
  }
  const higher = options.EnableHigherDerivatives ?? true;
  let div: Tensor | undefined;
  for (let i = 0; i < u.dims[o.d]; i++) {
    const g = dlgradient(u.select(o.d, i).sum(), x, { EnableHigherDerivatives: higher });
    const term = flatComponents(g, o.d, o).select(o.d, i);
    div = div === undefined ? term : div.add(term);
  }
  const shape = [...u.dims];
  shape[o.d] = 1;
  return setFormat(div === undefined ? zeros(shape, { dtype: x.dtype }) : div.reshape(shape), u._format);
}

/** Σ_j ∂²u_i/∂x_j² per observation and component of u, over all of x's components: shaped like u, with u's format. */
export function dllaplacian(u: Tensor, x: Tensor, dim: number, opts?: DlOperatorOptions): Tensor {
  requireInit('dllaplacian');
  if (arguments.length > 4) checkArity('dllaplacian', arguments, 4, 'u, x, dim, { EnableHigherDerivatives }');
  const options = DLLAPLACIAN.parse(opts);
  const o = checkOperands('dllaplacian', u, x, dim);
  const higher = options.EnableHigherDerivatives ?? true;
  const comps: Tensor[] = [];
  for (let i = 0; i < u.dims[o.d]; i++) {
    // The first derivatives must be recorded to be differentiated again.
    const g = flatComponents(dlgradient(u.select(o.d, i).sum(), x, { EnableHigherDerivatives: true }), o.d, o);
    let lap: Tensor | undefined;
    for (let j = 0; j < o.m; j++) {
      const h = flatComponents(dlgradient(g.select(o.d, j).sum(), x, { EnableHigherDerivatives: higher }), o.d, o).select(o.d, j);
      lap = lap === undefined ? h : lap.add(h);
    }
    comps.push(lap ?? zeros(u.dims.filter((_, k) => k !== o.d), { dtype: x.dtype }));
  }
  if (comps.length === 0) return setFormat(zeros(u.dims, { dtype: u.dtype }), u._format);
  return setFormat(stack(comps, o.d), u._format);
}
