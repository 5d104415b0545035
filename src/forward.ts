// Forward mode and the derivatives built from both modes: jvp, jacfwd, jacobian (jacrev),
// hessian, hvp (forward-over-reverse).
//
// jvp opens a forward level: f receives watched copies of the primals, each carrying a copy of
// its tangent; every op's JVP rule (in wasm, beside its VJP rule) carries tangents along, so one
// pass gives the outputs and their directional derivatives.

import { Tensor, wrap, zeros, tensor } from './tensor.js';
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
 * the tangents come back in the same structure.
 */
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
      const c = wrap(checked(wasm.copy(p.id), 'jvp'));
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
      return t !== 0 ? wrap(t) : zeros(y.dims, { dtype: y.dtype });
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
  const data = x.dtype === 'float64' ? new Float64Array(x.size) : new Float32Array(x.size);
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
    const n = x.size;
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
      for (let i = 0; i < flat.size; i++) rows.push(dlgradient(flat.select(0, i), xt));
      if (rows.length === 0) return zeros([...y.dims, ...xt.dims], { dtype: xt.dtype });
      return stack(rows, 0).reshape([...y.dims, ...xt.dims]);
    }, x);
  };
}
export const jacrev = jacobian;

/** f, checked to return a scalar so that the error names the operator the user called. */
function scalarValued(op: string, f: (x: Tensor) => Tensor) {
  return (x: Tensor): Tensor => {
    const y = f(x);
    refusePromise(op, y, 'f');
    if (!(y instanceof Tensor) || y.size !== 1) {
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
// Inside dlfeval. `dim` is the axis (0-based; negative counts from the end) that holds the
// components in both u and x; every other axis is a batch (observation) axis, on which u and x
// must agree, and observations are taken to be independent (u's observation b depends only on
// x's observation b), as in MATLAB. So one reverse sweep per component of u gives that
// component's derivatives for every observation at once.

const dlOperatorSpecs = {
  /** record the sweeps so the result can be differentiated again (default true) */
  EnableHigherDerivatives: opt.boolean,
};
const DLJACOBIAN = options('dljacobian', dlOperatorSpecs);
const DLDIVERGENCE = options('dldivergence', dlOperatorSpecs);
const DLLAPLACIAN = options('dllaplacian', dlOperatorSpecs);
export type DlOperatorOptions = OptionsOf<typeof dlOperatorSpecs>;

function checkOperands(op: string, u: Tensor, x: Tensor, dim: number): number {
  // Outside dlfeval nothing is traced: fail before any tensor is made.
  requireDlfeval(op);
  tensorArg(op, u, 'u');
  tensorArg(op, x, 'x');
  const d = normAxis(op, dim, x.rank, 'dim');
  if (u.rank !== x.rank) {
    throw new ShapeError(`${op}: u (shape ${formatShape(u.dims)}) and x (shape ${formatShape(x.dims)}) must have the same rank: one component axis (dim ${dim}) and the same observation axes`);
  }
  u.dims.forEach((n, k) => {
    if (k !== d && n !== x.dims[k]) {
      throw new ShapeError(`${op}: u (shape ${formatShape(u.dims)}) and x (shape ${formatShape(x.dims)}) differ on observation axis ${k}; only dim ${dim} may differ`);
    }
  });
  return d;
}

/** ∂u_i/∂x_j per observation: u.shape with the component axis replaced by (u components, x components). */
export function dljacobian(u: Tensor, x: Tensor, dim: number, opts?: DlOperatorOptions): Tensor {
  requireInit('dljacobian');
  if (arguments.length > 4) checkArity('dljacobian', arguments, 4, 'u, x, dim, { EnableHigherDerivatives }');
  const options = DLJACOBIAN.parse(opts);
  const d = checkOperands('dljacobian', u, x, dim);
  const higher = options.EnableHigherDerivatives ?? true;
  const rows: Tensor[] = [];
  for (let i = 0; i < u.dims[d]; i++) {
    rows.push(dlgradient(u.select(d, i).sum(), x, { EnableHigherDerivatives: higher }));
  }
  if (rows.length === 0) {
    const shape = [...u.dims];
    shape.splice(d + 1, 0, x.dims[d]);
    return zeros(shape, { dtype: x.dtype });
  }
  return stack(rows, d);
}

/** Σ_i ∂u_i/∂x_i per observation: u.shape with the component axis of size 1. */
export function dldivergence(u: Tensor, x: Tensor, dim: number, opts?: DlOperatorOptions): Tensor {
  requireInit('dldivergence');
  if (arguments.length > 4) checkArity('dldivergence', arguments, 4, 'u, x, dim, { EnableHigherDerivatives }');
  const options = DLDIVERGENCE.parse(opts);
  const d = checkOperands('dldivergence', u, x, dim);
  if (u.dims[d] !== x.dims[d]) {
    throw new ShapeError(`dldivergence: u has ${u.dims[d]} components and x has ${x.dims[d]} along dim ${dim}; the divergence needs as many of each`);
  }
  const higher = options.EnableHigherDerivatives ?? true;
  let div: Tensor | undefined;
  for (let i = 0; i < u.dims[d]; i++) {
    const g = dlgradient(u.select(d, i).sum(), x, { EnableHigherDerivatives: higher });
    const term = g.select(d, i);
    div = div === undefined ? term : div.add(term);
  }
  const shape = [...u.dims];
  shape[d] = 1;
  return div === undefined ? zeros(shape, { dtype: x.dtype }) : div.reshape(shape);
}

/** Σ_j ∂²u_i/∂x_j² per observation and component of u: shaped like u. */
export function dllaplacian(u: Tensor, x: Tensor, dim: number, opts?: DlOperatorOptions): Tensor {
  requireInit('dllaplacian');
  if (arguments.length > 4) checkArity('dllaplacian', arguments, 4, 'u, x, dim, { EnableHigherDerivatives }');
  const options = DLLAPLACIAN.parse(opts);
  const d = checkOperands('dllaplacian', u, x, dim);
  const higher = options.EnableHigherDerivatives ?? true;
  const comps: Tensor[] = [];
  for (let i = 0; i < u.dims[d]; i++) {
    // The first derivatives must be recorded to be differentiated again.
    const g = dlgradient(u.select(d, i).sum(), x, { EnableHigherDerivatives: true });
    let lap: Tensor | undefined;
    for (let j = 0; j < x.dims[d]; j++) {
      const h = dlgradient(g.select(d, j).sum(), x, { EnableHigherDerivatives: higher }).select(d, j);
      lap = lap === undefined ? h : lap.add(h);
    }
    comps.push(lap ?? zeros(x.dims.filter((_, k) => k !== d), { dtype: x.dtype }));
  }
  if (comps.length === 0) return zeros(u.dims, { dtype: u.dtype });
  return stack(comps, d);
}
