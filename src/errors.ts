// The error classes of wasmgrad. Every message names the op, the argument and the shapes or
// values involved, so that a user can fix the call without reading wasmgrad's source.

export class WasmgradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** Shapes that do not fit together: broadcasting, matmul, reshape, concat, … */
export class ShapeError extends WasmgradError {}
/** An axis outside [-rank, rank). */
export class AxisError extends ShapeError {}
/** A dtype an op cannot take, or float32 mixed with float64 without a cast. */
export class DTypeError extends WasmgradError {}
/** A value that is not acceptable: a non-numeric entry, a negative size, a bad option. */
export class ValueError extends WasmgradError {}
/** A tensor used after dispose() or after the scope that owned it ended. */
export class DisposedError extends WasmgradError {}
/** Wasm memory cannot hold the request; the message gives requested and available bytes. */
export class OutOfMemoryError extends WasmgradError {
  constructor(message: string, readonly requestedBytes: number, readonly availableBytes: number) {
    super(message);
  }
}
/** Differentiating something that has no derivative here (non-scalar output, int tensors, …). */
export class NotDifferentiableError extends WasmgradError {}
/** init() failed or a function was called before init(). */
export class InitError extends WasmgradError {}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
