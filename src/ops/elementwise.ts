// Elementwise ops (kernels and rules in assembly/ops/elementwise.ts): binary arithmetic with NumPy
// broadcasting, comparisons, unary math, where, clamp, casts.

import { Tensor, dtypeCode, type DTypeName } from '../tensor.js';
import { wasm } from '../runtime.js';
import { DTypeError, ValueError, formatShape } from '../errors.js';
import {
  Op, type TensorLike, idOf, asTensor, broadcastShapes, floatPair, floatOperand, castTo, disposeAll,
  call, isFloat, requireInit, alive, sameDims,
} from './common.js';
import { checkArity } from '../options.js';

/** True for two live tensors of one float dtype whose shapes broadcast (the common case). */
function fastPair(name: string, a: Tensor, b: Tensor): boolean {
  alive(a, name, 'a');
  alive(b, name, 'b');
  const da = a.dtype;
  if (da !== b.dtype || (da !== 'float32' && da !== 'float64')) return false;
  const sa = a.dims, sb = b.dims;
  if (sameDims(sa, sb)) return true;
  broadcastShapes(name, sa, sb); // throws the ShapeError when they do not fit
  return true;
}

function binaryOp(op: Op, name: string, a: TensorLike, b: TensorLike): Tensor {
  // Fast paths without temporaries: tensor ∘ number, and two tensors of one float dtype.
  if (a instanceof Tensor) {
    if (typeof b === 'number') {
      alive(a, name, 'a');
      if (isFloat(a.dtype)) return call(name, wasm.binaryScalar(op, a.id, b, 0));
    } else if (b instanceof Tensor && fastPair(name, a, b)) {
      return call(name, wasm.binary(op, a.id, b.id));
    }
  }
  requireInit(name);
  const temps: Tensor[] = [];
  try {
    if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
      a = asTensor(checkNumber(name, a, 'a'), 'float32', `${name} (a)`);
      temps.push(a);
    }
    if (!(b instanceof Tensor)) {
      const [x, casts] = floatOperand(name, a as Tensor, 'a');
      temps.push(...casts);
      return call(name, wasm.binaryScalar(op, x.id, checkNumber(name, b, 'b'), 0));
    }
    if (!(a instanceof Tensor)) {
      const [x, casts] = floatOperand(name, b, 'b');
      temps.push(...casts);
      return call(name, wasm.binaryScalar(op, x.id, checkNumber(name, a, 'a'), 1));
    }
    idOf(a, `${name} (a)`);
    idOf(b, `${name} (b)`);
    broadcastShapes(name, a.dims, b.dims);
    const [x, y, casts] = floatPair(name, a, b);
    temps.push(...casts);
    return call(name, wasm.binary(op, x.id, y.id));
  } finally {
    disposeAll(temps);
  }
}

function checkNumber(op: string, v: unknown, arg: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number') throw new ValueError(`${op}: ${arg} must be a Tensor or a number, got ${v === null ? 'null' : typeof v}`);
  return v;
}

/**
 * a + b, with NumPy broadcasting (PyTorch: torch.add; MATLAB: plus).
 * @param a - a tensor or a number (a number takes the tensor operand's dtype)
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a float tensor of the broadcast shape (int32 / bool operands are cast to float32; float32 and float64 do not mix)
 */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.add, 'add', a, b);
/**
 * a − b, with NumPy broadcasting (PyTorch: torch.sub; MATLAB: minus).
 * @param a - a tensor or a number (a number takes the tensor operand's dtype)
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a float tensor of the broadcast shape (int32 / bool operands are cast to float32; float32 and float64 do not mix)
 */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.sub, 'sub', a, b);
/**
 * a · b, elementwise, with NumPy broadcasting (PyTorch: torch.mul; MATLAB: times).
 * @param a - a tensor or a number (a number takes the tensor operand's dtype)
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a float tensor of the broadcast shape (int32 / bool operands are cast to float32; float32 and float64 do not mix)
 */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.mul, 'mul', a, b);
/**
 * a / b, true division, with NumPy broadcasting (PyTorch: torch.div; MATLAB: rdivide).
 * @param a - a tensor or a number (a number takes the tensor operand's dtype)
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a float tensor of the broadcast shape (int32 / bool operands are cast to float32; float32 and float64 do not mix)
 */
export const div = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.div, 'div', a, b);
/**
 * aᵇ, with NumPy broadcasting (PyTorch: torch.pow; MATLAB: power).
 * @param a - a tensor or a number (a number takes the tensor operand's dtype)
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a float tensor of the broadcast shape (int32 / bool operands are cast to float32; float32 and float64 do not mix)
 */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.pow, 'pow', a, b);
/**
 * the larger of a and b, elementwise, with NumPy broadcasting (PyTorch: torch.maximum; MATLAB: max(a, b)).
 * @param a - a tensor or a number (a number takes the tensor operand's dtype)
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a float tensor of the broadcast shape (int32 / bool operands are cast to float32; float32 and float64 do not mix)
 */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.maximum, 'maximum', a, b);
/**
 * the smaller of a and b, elementwise, with NumPy broadcasting (PyTorch: torch.minimum; MATLAB: min(a, b)).
 * @param a - a tensor or a number (a number takes the tensor operand's dtype)
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a float tensor of the broadcast shape (int32 / bool operands are cast to float32; float32 and float64 do not mix)
 */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.minimum, 'minimum', a, b);
/** torch.logaddexp: log(eᵃ + eᵇ), computed as max(a, b) + log1p(e^−|a−b|) so that it never overflows. */
export const logaddexp = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.logaddexp, 'logaddexp', a, b);
/** torch.atan2: the angle of the point (b, a) elementwise, a the y and b the x coordinate, in (−π, π]. */
export const atan2 = (a: TensorLike, b: TensorLike): Tensor => binaryOp(Op.atan2, 'atan2', a, b);

/**
 * The dtype a JS number takes beside a tensor of `dtype`: the tensor's own when it holds the
 * number exactly, else float32 (PyTorch promotes int and bool tensors with 1.5 to the default
 * float dtype; a bool tensor beside 2 compares as a number, so True == 2 is false).
 */
function scalarDtype(dtype: DTypeName, v: TensorLike): DTypeName {
  if (isFloat(dtype) || typeof v !== 'number') return dtype;
  const exact = dtype === 'int32' ? Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 : v === 0 || v === 1;
  return exact ? dtype : 'float32';
}

function compareOp(op: Op, name: string, a: TensorLike, b: TensorLike): Tensor {
  requireInit(name);
  const ref = a instanceof Tensor ? a : b instanceof Tensor ? b : undefined;
  if (ref) idOf(ref, `${name} (${ref === a ? 'a' : 'b'})`);
  const temps: Tensor[] = [];
  try {
    // Two numbers compare as JS would: in float64.
    const x = asTensor(a, ref ? scalarDtype(ref.dtype, a) : 'float64', `${name} (a)`);
    if (x !== a) temps.push(x);
    const y = asTensor(b, ref ? scalarDtype(ref.dtype, b) : 'float64', `${name} (b)`);
    if (y !== b) temps.push(y);
    broadcastShapes(name, x.dims, y.dims);
    if (x.dtype === y.dtype) return call(name, wasm.compare(op, x.id, y.id));
    const [p, q, casts] = floatPair(name, x, y);
    temps.push(...casts);
    return call(name, wasm.compare(op, p.id, q.id));
  } finally {
    disposeAll(temps);
  }
}

/**
 * a == b, elementwise with NumPy broadcasting (PyTorch: torch.eq; MATLAB: eq).
 * @param a - a tensor or a number
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a bool mask of the broadcast shape; not differentiated (zero gradient)
 */
export const eq = (a: TensorLike, b: TensorLike): Tensor => compareOp(Op.eq, 'eq', a, b);
/**
 * a != b, elementwise with NumPy broadcasting (PyTorch: torch.ne; MATLAB: ne).
 * @param a - a tensor or a number
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a bool mask of the broadcast shape; not differentiated (zero gradient)
 */
export const ne = (a: TensorLike, b: TensorLike): Tensor => compareOp(Op.ne, 'ne', a, b);
/**
 * a < b, elementwise with NumPy broadcasting (PyTorch: torch.lt; MATLAB: lt).
 * @param a - a tensor or a number
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a bool mask of the broadcast shape; not differentiated (zero gradient)
 */
export const lt = (a: TensorLike, b: TensorLike): Tensor => compareOp(Op.lt, 'lt', a, b);
/**
 * a <= b, elementwise with NumPy broadcasting (PyTorch: torch.le; MATLAB: le).
 * @param a - a tensor or a number
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a bool mask of the broadcast shape; not differentiated (zero gradient)
 */
export const le = (a: TensorLike, b: TensorLike): Tensor => compareOp(Op.le, 'le', a, b);
/**
 * a > b, elementwise with NumPy broadcasting (PyTorch: torch.gt; MATLAB: gt).
 * @param a - a tensor or a number
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a bool mask of the broadcast shape; not differentiated (zero gradient)
 */
export const gt = (a: TensorLike, b: TensorLike): Tensor => compareOp(Op.gt, 'gt', a, b);
/**
 * a >= b, elementwise with NumPy broadcasting (PyTorch: torch.ge; MATLAB: ge).
 * @param a - a tensor or a number
 * @param b - a tensor or a number; shapes of a and b broadcast
 * @returns a bool mask of the broadcast shape; not differentiated (zero gradient)
 */
export const ge = (a: TensorLike, b: TensorLike): Tensor => compareOp(Op.ge, 'ge', a, b);

function unaryOp(op: Op, name: string, x: Tensor): Tensor {
  if (x instanceof Tensor) {
    alive(x, name, 'x');
    if (isFloat(x.dtype)) return call(name, wasm.unary(op, x.id));
  }
  requireInit(name);
  const [y, temps] = floatOperand(name, x);
  try {
    return call(name, wasm.unary(op, y.id));
  } finally {
    disposeAll(temps);
  }
}

/**
 * −x, elementwise (PyTorch: torch.neg; MATLAB: uminus).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const neg = (x: Tensor): Tensor => unaryOp(Op.neg, 'neg', x);
/**
 * |x|, elementwise (PyTorch: torch.abs; MATLAB: abs).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const abs = (x: Tensor): Tensor => unaryOp(Op.abs, 'abs', x);
/**
 * the sign of x: −1, 0 or 1, elementwise (PyTorch: torch.sign; MATLAB: sign).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const sign = (x: Tensor): Tensor => unaryOp(Op.sign, 'sign', x);
/**
 * x², elementwise (PyTorch: torch.square; MATLAB: x.^2).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const square = (x: Tensor): Tensor => unaryOp(Op.square, 'square', x);
/**
 * √x, elementwise (PyTorch: torch.sqrt; MATLAB: sqrt).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const sqrt = (x: Tensor): Tensor => unaryOp(Op.sqrt, 'sqrt', x);
/**
 * 1/√x, elementwise (PyTorch: torch.rsqrt; MATLAB: 1./sqrt(x)).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const rsqrt = (x: Tensor): Tensor => unaryOp(Op.rsqrt, 'rsqrt', x);
/**
 * eˣ, elementwise (PyTorch: torch.exp; MATLAB: exp).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const exp = (x: Tensor): Tensor => unaryOp(Op.exp, 'exp', x);
/**
 * the natural logarithm of x, elementwise (PyTorch: torch.log; MATLAB: log).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const log = (x: Tensor): Tensor => unaryOp(Op.log, 'log', x);
/**
 * log(1 + x), accurate near 0, elementwise (PyTorch: torch.log1p; MATLAB: log1p).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const log1p = (x: Tensor): Tensor => unaryOp(Op.log1p, 'log1p', x);
/**
 * eˣ − 1, accurate near 0, elementwise (PyTorch: torch.expm1; MATLAB: expm1).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const expm1 = (x: Tensor): Tensor => unaryOp(Op.expm1, 'expm1', x);
/**
 * sin x, elementwise (PyTorch: torch.sin; MATLAB: sin).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const sin = (x: Tensor): Tensor => unaryOp(Op.sin, 'sin', x);
/**
 * cos x, elementwise (PyTorch: torch.cos; MATLAB: cos).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const cos = (x: Tensor): Tensor => unaryOp(Op.cos, 'cos', x);
/**
 * tan x, elementwise (PyTorch: torch.tan; MATLAB: tan).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const tan = (x: Tensor): Tensor => unaryOp(Op.tan, 'tan', x);
/**
 * tanh x, elementwise (PyTorch: torch.tanh; MATLAB: tanh).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const tanh = (x: Tensor): Tensor => unaryOp(Op.tanh, 'tanh', x);
/**
 * the logistic sigmoid 1/(1 + e⁻ˣ), elementwise (PyTorch: torch.sigmoid; MATLAB: sigmoid).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const sigmoid = (x: Tensor): Tensor => unaryOp(Op.sigmoid, 'sigmoid', x);
/**
 * max(x, 0), elementwise (PyTorch: torch.relu; MATLAB: relu).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const relu = (x: Tensor): Tensor => unaryOp(Op.relu, 'relu', x);
/** PyTorch's softplus with beta = 1 and threshold = 20. */
export const softplus = (x: Tensor): Tensor => unaryOp(Op.softplus, 'softplus', x);
/**
 * the error function erf(x), elementwise (PyTorch: torch.erf; MATLAB: erf).
 * @param x - any shape; an int32 / bool tensor is cast to float32
 */
export const erf = (x: Tensor): Tensor => unaryOp(Op.erf, 'erf', x);

/** cond ? a : b elementwise; cond is a bool mask (other dtypes: nonzero is true); all broadcast. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  requireInit('where');
  const ref = a instanceof Tensor ? a : b instanceof Tensor ? b : undefined;
  if (ref) idOf(ref, `where (${ref === a ? 'a' : 'b'})`);
  const dtype: DTypeName = ref ? ref.dtype : 'float32';
  const temps: Tensor[] = [];
  try {
    let c = asTensor(cond, 'bool', 'where (cond)');
    if (c !== cond) temps.push(c);
    if (c.dtype !== 'bool') { c = ne(c, 0); temps.push(c); }
    let x = asTensor(a, scalarDtype(dtype, a), 'where (a)');
    if (x !== a) temps.push(x);
    let y = asTensor(b, scalarDtype(dtype, b), 'where (b)');
    if (y !== b) temps.push(y);
    broadcastShapes('where', broadcastShapes('where', c.dims, x.dims, ['cond', 'a']), y.dims, ['cond and a', 'b']);
    if (x.dtype !== y.dtype) {
      const [p, q, casts] = floatPair('where', x, y);
      x = p; y = q; temps.push(...casts);
    }
    return call('where', wasm.where(c.id, x.id, y.id));
  } finally {
    disposeAll(temps);
  }
}

/** min(max(x, min), max) as PyTorch's clamp; either bound may be omitted. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if (arguments.length > 3) checkArity('clamp', arguments, 3, 'x, min?, max?');
  requireInit('clamp');
  idOf(x, 'clamp (x)');
  if ((min === undefined || min === null) && (max === undefined || max === null)) {
    throw new ValueError(`clamp: at least one of min and max must be given (x is ${formatShape(x.dims)})`);
  }
  for (const [arg, v] of [['min', min], ['max', max]] as const) {
    if (v !== undefined && v !== null && typeof v !== 'number') {
      throw new ValueError(`clamp: ${arg} must be a number, got ${typeof v} (${String(v)})`);
    }
  }
  const [y, temps] = floatOperand('clamp', x);
  try {
    return call('clamp', wasm.clamp(y.id, min ?? -Infinity, max ?? Infinity));
  } finally {
    disposeAll(temps);
  }
}

/** A copy of x in another dtype. */
export function cast(x: Tensor, dtype: DTypeName): Tensor {
  requireInit('cast');
  idOf(x, 'cast (x)');
  dtypeCode(dtype, 'cast');
  return castTo(x, dtype);
}

/** A fresh copy of x (same dtype). */
export function clone(x: Tensor): Tensor {
  requireInit('clone');
  return call('clone', wasm.copy(idOf(x, 'clone (x)')));
}

declare module '../tensor.js' {
  interface Tensor {
    /** this + b, with `b` a tensor or number, broadcasting: see {@link add} (PyTorch: Tensor.add). */
    add(b: TensorLike): Tensor;
    /** this − b, with `b` a tensor or number, broadcasting: see {@link sub} (PyTorch: Tensor.sub). */
    sub(b: TensorLike): Tensor;
    /** this · b, elementwise, with `b` a tensor or number, broadcasting: see {@link mul} (PyTorch: Tensor.mul). */
    mul(b: TensorLike): Tensor;
    /** this / b, true division, with `b` a tensor or number, broadcasting: see {@link div} (PyTorch: Tensor.div). */
    div(b: TensorLike): Tensor;
    /** thisᵇ, with `b` a tensor or number, broadcasting: see {@link pow} (PyTorch: Tensor.pow). */
    pow(b: TensorLike): Tensor;
    /** max(this, b), elementwise, with `b` a tensor or number, broadcasting: see {@link maximum} (PyTorch: Tensor.maximum). */
    maximum(b: TensorLike): Tensor;
    /** min(this, b), elementwise, with `b` a tensor or number, broadcasting: see {@link minimum} (PyTorch: Tensor.minimum). */
    minimum(b: TensorLike): Tensor;
    /** log(eᵃ + eᵇ) of this tensor and `b`, broadcasting, without overflow: see {@link logaddexp} (PyTorch: Tensor.logaddexp). */
    logaddexp(b: TensorLike): Tensor;
    /** The angle of the point (b, this) in (−π, π], this the y and b the x coordinate, broadcasting (PyTorch: Tensor.atan2; MATLAB: atan2). */
    atan2(b: TensorLike): Tensor;
    /** this == b, a bool mask, broadcasting: see {@link eq} (PyTorch: Tensor.eq). */
    eq(b: TensorLike): Tensor;
    /** this != b, a bool mask, broadcasting: see {@link ne} (PyTorch: Tensor.ne). */
    ne(b: TensorLike): Tensor;
    /** this < b, a bool mask, broadcasting: see {@link lt} (PyTorch: Tensor.lt). */
    lt(b: TensorLike): Tensor;
    /** this <= b, a bool mask, broadcasting: see {@link le} (PyTorch: Tensor.le). */
    le(b: TensorLike): Tensor;
    /** this > b, a bool mask, broadcasting: see {@link gt} (PyTorch: Tensor.gt). */
    gt(b: TensorLike): Tensor;
    /** this >= b, a bool mask, broadcasting: see {@link ge} (PyTorch: Tensor.ge). */
    ge(b: TensorLike): Tensor;
    /** x ↦ −x, elementwise over this tensor: see {@link neg} (PyTorch: Tensor.neg). */
    neg(): Tensor;
    /** x ↦ |x|, elementwise over this tensor: see {@link abs} (PyTorch: Tensor.abs). */
    abs(): Tensor;
    /** x ↦ sign(x) ∈ {−1, 0, 1}, elementwise over this tensor: see {@link sign} (PyTorch: Tensor.sign). */
    sign(): Tensor;
    /** x ↦ x², elementwise over this tensor: see {@link square} (PyTorch: Tensor.square). */
    square(): Tensor;
    /** x ↦ √x, elementwise over this tensor: see {@link sqrt} (PyTorch: Tensor.sqrt). */
    sqrt(): Tensor;
    /** x ↦ 1/√x, elementwise over this tensor: see {@link rsqrt} (PyTorch: Tensor.rsqrt). */
    rsqrt(): Tensor;
    /** x ↦ eˣ, elementwise over this tensor: see {@link exp} (PyTorch: Tensor.exp). */
    exp(): Tensor;
    /** x ↦ ln x, elementwise over this tensor: see {@link log} (PyTorch: Tensor.log). */
    log(): Tensor;
    /** x ↦ log(1 + x), accurate near 0, elementwise over this tensor: see {@link log1p} (PyTorch: Tensor.log1p). */
    log1p(): Tensor;
    /** x ↦ eˣ − 1, accurate near 0, elementwise over this tensor: see {@link expm1} (PyTorch: Tensor.expm1). */
    expm1(): Tensor;
    /** x ↦ sin x, elementwise over this tensor: see {@link sin} (PyTorch: Tensor.sin). */
    sin(): Tensor;
    /** x ↦ cos x, elementwise over this tensor: see {@link cos} (PyTorch: Tensor.cos). */
    cos(): Tensor;
    /** x ↦ tan x, elementwise over this tensor: see {@link tan} (PyTorch: Tensor.tan). */
    tan(): Tensor;
    /** x ↦ tanh x, elementwise over this tensor: see {@link tanh} (PyTorch: Tensor.tanh). */
    tanh(): Tensor;
    /** x ↦ 1/(1 + e⁻ˣ), elementwise over this tensor: see {@link sigmoid} (PyTorch: Tensor.sigmoid). */
    sigmoid(): Tensor;
    /** x ↦ max(x, 0), elementwise over this tensor: see {@link relu} (PyTorch: Tensor.relu). */
    relu(): Tensor;
    /** log(1 + eˣ) of this tensor (PyTorch's softplus with beta = 1, threshold = 20; PyTorch: torch.nn.functional.softplus). */
    softplus(): Tensor;
    /** x ↦ erf(x), elementwise over this tensor: see {@link erf} (PyTorch: Tensor.erf). */
    erf(): Tensor;
    /** This tensor where `cond` is true, else `other`, all broadcast (PyTorch: Tensor.where(condition, other)). */
    where(cond: TensorLike, other: TensorLike): Tensor;
    /** This tensor limited to [min, max]; either bound may be omitted (null), not both (PyTorch: Tensor.clamp). */
    clamp(min?: number | null, max?: number | null): Tensor;
    /** This tensor in `dtype`: itself (not a copy) when it already has that dtype, else a cast copy (PyTorch: Tensor.to(dtype)). */
    to(dtype: DTypeName): Tensor;
    /** `to('float32')` (PyTorch: Tensor.float). */
    float(): Tensor;
    /** `to('float64')` (PyTorch: Tensor.double). */
    double(): Tensor;
    /** A fresh copy of this tensor, same dtype (PyTorch: Tensor.clone). */
    clone(): Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (b) { return add(this, b); };
P.sub = function (b) { return sub(this, b); };
P.mul = function (b) { return mul(this, b); };
P.div = function (b) { return div(this, b); };
P.pow = function (b) { return pow(this, b); };
P.maximum = function (b) { return maximum(this, b); };
P.minimum = function (b) { return minimum(this, b); };
P.logaddexp = function (b) { return logaddexp(this, b); };
P.atan2 = function (b) { return atan2(this, b); };
P.eq = function (b) { return eq(this, b); };
P.ne = function (b) { return ne(this, b); };
P.lt = function (b) { return lt(this, b); };
P.le = function (b) { return le(this, b); };
P.gt = function (b) { return gt(this, b); };
P.ge = function (b) { return ge(this, b); };
P.neg = function () { return neg(this); };
P.abs = function () { return abs(this); };
P.sign = function () { return sign(this); };
P.square = function () { return square(this); };
P.sqrt = function () { return sqrt(this); };
P.rsqrt = function () { return rsqrt(this); };
P.exp = function () { return exp(this); };
P.log = function () { return log(this); };
P.log1p = function () { return log1p(this); };
P.expm1 = function () { return expm1(this); };
P.sin = function () { return sin(this); };
P.cos = function () { return cos(this); };
P.tan = function () { return tan(this); };
P.tanh = function () { return tanh(this); };
P.sigmoid = function () { return sigmoid(this); };
P.relu = function () { return relu(this); };
P.softplus = function () { return softplus(this); };
P.erf = function () { return erf(this); };
/** PyTorch's Tensor.where(condition, other): self where condition, else other. */
P.where = function (cond, other) { return where(cond, this, other); };
P.clamp = function (min, max) {
  if (arguments.length > 2) checkArity('Tensor.clamp', arguments, 2, 'min?, max?');
  return clamp(this, min, max);
};
P.to = function (dtype) { return this.dtype === dtype ? this : cast(this, dtype); };
P.float = function () { return this.to('float32'); };
P.double = function () { return this.to('float64'); };
P.clone = function () { return clone(this); };

