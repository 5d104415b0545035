// The error classes of wasmgrad. Every message names the op, the argument and the shapes or
// values involved, so that a user can fix the call without reading wasmgrad's source.

/** The base class of every error wasmgrad throws; `name` is the subclass's name. Catch it to catch them all. */
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
  /**
   * @param message - the message
   * @param requestedBytes - the bytes the request needed
   * @param availableBytes - the bytes that were available
   */
  constructor(message: string, readonly requestedBytes: number, readonly availableBytes: number) {
    super(message);
  }
}
/** Differentiating something that has no derivative here (non-scalar output, int tensors, …). */
export class NotDifferentiableError extends WasmgradError {}
/**
 * A linear-algebra routine failed on its input: a singular matrix to solve or inv, a matrix that
 * is not positive-definite to cholesky. `batch` is the failing matrix's index in the (broadcast)
 * batch, `index` the 1-based pivot or leading-minor order, as LAPACK's info reports it.
 */
export class LinAlgError extends WasmgradError {
  /**
   * @param message - the message
   * @param batch - the failing matrix's index in the (broadcast) batch
   * @param index - the 1-based pivot or leading-minor order, as LAPACK's info
   */
  constructor(message: string, readonly batch: number, readonly index: number) {
    super(message);
  }
}
/** init() failed or a function was called before init(). */
export class InitError extends WasmgradError {}
/**
 * A file could not be read or written (io.load / io.save with a path): `path` is the file as
 * given, `cause` the platform's error (Node's ENOENT, EACCES, …).
 */
export class IOError extends WasmgradError {
  /**
   * @param message - the message
   * @param path - the file as given
   * @param cause - the platform's error
   */
  constructor(message: string, readonly path: string, cause?: unknown) {
    super(message);
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, writable: true, configurable: true });
  }
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
