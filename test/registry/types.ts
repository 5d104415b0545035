// The format of an op-registry file (see README.md): every file in test/registry/ exports an
// array of OpCase; test/op-rules.test.ts checks each case's JVP, VJP and second derivative.

import type { Tensor } from '../../src/index.js';

export interface OpCase {
  /** the export of src/index.ts this case exercises (one case per exported op; aliases too) */
  name: string;
  /** primitive: a wasm op with its own VJP and JVP rules; composite: built from other ops */
  kind: 'primitive' | 'composite';
  /**
   * A fresh function and its float64 inputs at a point where it is smooth (away from kinks,
   * ties and domain edges by more than 1e-3). Constant operands (indices, masks) live in f.
   */
  make: () => { f: (...xs: Tensor[]) => Tensor; inputs: Tensor[] };
  /** central-difference step for the second-derivative check (default 1e-5) */
  fdStep?: number;
}
