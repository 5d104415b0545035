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
import { isFloat } from './ops/common.js';
import { mapTensors, grad, dlfeval, dlgradient } from './autodiff.js';
import { stack } from './ops/shape.js';

function asList(x: Tensor | Tensor[], op: string, what: string): Tensor[] {
  const list = Array.isArray(x) ? x : [x];
  list.forEach((t, k) => {
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${what}[${k}] must be a Tensor, got ${typeof t}`);
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
  return (x: Tensor): Tensor => {
    requireInit('jacfwd');
    x.use('jacfwd (x)');
    const n = x.size;
    let yShape: number[] = [];
    const cols: Tensor[] = [];
    for (let k = 0; k < n; k++) {
      const e = basis(x, k);
      const [y, t] = jvp(f, [x], [e]);
      yShape = (y as Tensor).shape;
      (y as Tensor).dispose();
      e.dispose();
      cols.push(t as Tensor);
    }
    if (n === 0) {
      const y = f(x);
      yShape = y.shape;
      y.dispose();
      return zeros([...yShape, ...x.dims], { dtype: x.dtype });
    }
    const j = stack(cols, -1);
    cols.forEach((c) => c.dispose());
    const r = j.reshape([...yShape, ...x.dims]);
    j.dispose();
    return r;
  };
}

/** Reverse-mode Jacobian: one forward pass, one reverse sweep per output element. Shape: f(x).shape + x.shape. */
export function jacobian(f: (x: Tensor) => Tensor) {
  return (x: Tensor): Tensor => {
    requireInit('jacobian');
    x.use('jacobian (x)');
    return dlfeval((xt: Tensor) => {
      const y = f(xt);
      if (!(y instanceof Tensor)) throw new ValueError('jacobian: f must return a Tensor');
      const flat = y.reshape([-1]);
      const rows: Tensor[] = [];
      for (let i = 0; i < flat.size; i++) rows.push(dlgradient(flat.select(0, i), xt));
      if (rows.length === 0) return zeros([...y.dims, ...xt.dims], { dtype: xt.dtype });
      return stack(rows, 0).reshape([...y.dims, ...xt.dims]);
    }, x);
  };
}
export const jacrev = jacobian;

/** Hessian-vector product H(x)·v by forward-over-reverse: the JVP of the gradient. */
export function hvp(f: (x: Tensor) => Tensor) {
  const g = grad(f);
  return (x: Tensor, v: Tensor): Tensor => {
    const [gx, hv] = jvp((xt) => g(xt), [x], [v]);
    (gx as Tensor).dispose();
    return hv as Tensor;
  };
}

/** The Hessian of scalar f at x (forward over reverse). Shape: x.shape + x.shape. */
export function hessian(f: (x: Tensor) => Tensor) {
  return jacfwd(grad(f));
}
