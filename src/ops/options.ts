// Option checks shared by the activation, normalisation and loss families (not public API).

import { ValueError } from '../errors.js';

/** A finite number option; `what` names the op and the argument. */
export function finiteNumber(op: string, v: unknown, arg: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValueError(`${op}: ${arg} must be a finite number, got ${typeof v === 'number' ? v : v === null ? 'null' : typeof v}`);
  }
  return v;
}
