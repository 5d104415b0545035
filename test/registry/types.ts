// The format of an op-registry file (see README.md): every file in test/registry/ exports an
// array of OpCase; test/op-rules.test.ts checks each case's JVP, VJP and second derivative.

import type { Tensor } from '../../src/index.js';

export interface OpCase {
  /** the export of src/index.ts this case exercises (one case per exported op; aliases too) */
  name: string;
  /** primitive: a wasm op with its own VJP and JVP rules; composite: built from other ops */
  kind: 'primitive' | 'composite';
  /**
   * A fresh function and its inputs at a point where it is smooth (away from kinks, ties and
   * domain edges by more than 1e-3). Inputs are the float64 operands to differentiate; constant
   * operands (indices, masks) live in f. Only a non-differentiable op may take other dtypes.
   */
  make: () => { f: (...xs: Tensor[]) => Tensor; inputs: Tensor[] };
  /** central-difference step for the second-derivative check (default 1e-5) */
  fdStep?: number;
  /**
   * false: the op has no derivative (integer or bool output, such as argmax): the test checks
   * only that it runs and that no gradient reaches its float inputs. Default true.
   */
  differentiable?: boolean;
  /**
   * false: first-order rules only, by design (ctcLoss, as PyTorch): the test checks JVP against
   * VJP and that a second derivative is refused with NotDifferentiableError. Default true.
   */
  secondOrder?: boolean;
  /** the export this one is an alias of (it gets its own case all the same) */
  aliasOf?: string;
  /** the Tensor method's name where it differs from `name` */
  method?: string;
  /** what a reader should know: how it is built, what is not supported */
  notes?: string;
  // Status flags the family tests assert; test/op-rules.test.ts checks the rules themselves.
  vjp?: boolean;
  jvp?: boolean;
  float32?: boolean;
  float64?: boolean;
}

/** The family files' name for an entry. */
export type OpStatus = OpCase;
