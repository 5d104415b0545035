// Gradient clipping with torch.nn.utils' semantics, in place on the gradient tensors:
// clipGradNorm scales all gradients by min(1, maxNorm / (total + 1e-6)) where total is the norm
// of the per-tensor norms; clipGradValue clamps each element to [−clip, clip].

import { Tensor } from '../tensor.js';
import { tensorsIn } from '../scope.js';
import { wasm, argsI32, requireInit } from '../runtime.js';
import { ValueError, DTypeError, formatShape } from '../errors.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

function gradList(op: string, grads: unknown): Tensor[] {
  const list = grads instanceof Map ? [...grads.values()] : tensorsIn(grads);
  if (list.length === 0 && !(Array.isArray(grads) || (grads !== null && typeof grads === 'object'))) {
    throw new ValueError(`${op}: grads must be a Tensor, an array or an object of tensors, got ${describeValue(grads)}`);
  }
  if (list.length > 16000) throw new ValueError(`${op}: at most 16000 tensors`);
  const dtype = list[0]?.dtype;
  for (const g of list) {
    g.use(`${op} (grads)`);
    if (g.dtype !== 'float32' && g.dtype !== 'float64') throw new DTypeError(`${op}: gradients must be float32 or float64, got ${g.dtype} ${formatShape(g.dims)}`);
    if (g.dtype !== dtype) throw new DTypeError(`${op}: gradients mix ${dtype} and ${g.dtype}`);
  }
  return list;
}

const CLIP_NORM_OPTIONS = options('optim.clipGradNorm', {
  /** 2 (default) or Infinity */
  normType: opt.any<number>(),
  /** throw when the total norm is NaN or infinite (default false) */
  errorIfNonfinite: opt.boolean,
});
/** Options of clipGradNorm: normType (2 or Infinity, default 2), errorIfNonfinite (default false). */
export type ClipNormOptions = OptionsOf<typeof CLIP_NORM_OPTIONS>;

/**
 * Scales the gradients in place so that their global norm is at most maxNorm; returns the total
 * norm before clipping (PyTorch's clip_grad_norm_, with its float arithmetic in the gradients' dtype).
 */
export function clipGradNorm(grads: unknown, maxNorm: number, opts: ClipNormOptions = {}): number {
  if (arguments.length > 3) checkArity('optim.clipGradNorm', arguments, 3, 'grads, maxNorm, options?');
  requireInit('clipGradNorm');
  const options = CLIP_NORM_OPTIONS.parse(opts);
  const list = gradList('clipGradNorm', grads);
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw new ValueError(`clipGradNorm: maxNorm must be a number, got ${String(maxNorm)}`);
  const normType = options.normType ?? 2;
  if (normType !== 2 && normType !== Infinity) throw new ValueError(`clipGradNorm: normType must be 2 or Infinity, got ${String(normType)}`);
  if (list.length === 0) return 0;
  const f32 = list[0].dtype === 'float32';
  const round = f32 ? Math.fround : (v: number) => v;
  const total = round(wasm.gradNorm(argsI32(list.map((g) => g.id)), list.length, normType === Infinity ? 1 : 0));
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new ValueError(`clipGradNorm: the total norm of order ${normType} for gradients is non-finite (${total}), so it cannot be clipped`);
  }
  // max_norm / (total + 1e-6) is reciprocal(total + 1e-6) · max_norm in PyTorch, clamped to 1.
  const coef = Math.min(round(round(1 / round(total + round(1e-6))) * round(maxNorm)), 1);
  wasm.scaleInPlace(argsI32(list.map((g) => g.id)), list.length, coef);
  return total;
}

/** Clamps every gradient element to [−clipValue, clipValue] in place (PyTorch's clip_grad_value_). */
export function clipGradValue(grads: unknown, clipValue: number): void {
  if (arguments.length > 2) checkArity('optim.clipGradValue', arguments, 2, 'grads, clipValue');
  requireInit('clipGradValue');
  const list = gradList('clipGradValue', grads);
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) throw new ValueError(`clipGradValue: clipValue must be a number, got ${String(clipValue)}`);
  if (list.length === 0) return;
  wasm.clampInPlace(argsI32(list.map((g) => g.id)), list.length, -clipValue, clipValue);
}
