// Every activation of the op library as a layer (torch.nn's names and arguments), plus Softmax
// and LogSoftmax over a dim. Each forward is the op itself.

import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { relu, sigmoid, tanh } from '../ops/elementwise.js';
import {
  softmax, logSoftmax, leakyRelu, elu, selu, gelu, silu, mish, hardtanh, hardsigmoid, softplus,
} from '../ops/activation.js';
import { checkArity } from '../options.js';

/** `new nn.ReLU(true)` (PyTorch's inplace) is an error naming the layer, not an argument ignored. */
function noArguments(layer: string, args: IArguments): void {
  if (args.length > 0) checkArity(`nn.${layer}`, args, 0, 'no arguments');
}

export class ReLU extends Module {
  constructor() { super(); noArguments('ReLU', arguments); }
  forward(x: Tensor): Tensor { return relu(x); }
}
export class Sigmoid extends Module {
  constructor() { super(); noArguments('Sigmoid', arguments); }
  forward(x: Tensor): Tensor { return sigmoid(x); }
}
export class Tanh extends Module {
  constructor() { super(); noArguments('Tanh', arguments); }
  forward(x: Tensor): Tensor { return tanh(x); }
}
export class SELU extends Module {
  constructor() { super(); noArguments('SELU', arguments); }
  forward(x: Tensor): Tensor { return selu(x); }
}
export class SiLU extends Module {
  constructor() { super(); noArguments('SiLU', arguments); }
  forward(x: Tensor): Tensor { return silu(x); }
}
/** MATLAB's swishLayer: x·σ(x), the same as SiLU. */
export class Swish extends Module {
  constructor() { super(); noArguments('Swish', arguments); }
  forward(x: Tensor): Tensor { return silu(x); }
}
export class Mish extends Module {
  constructor() { super(); noArguments('Mish', arguments); }
  forward(x: Tensor): Tensor { return mish(x); }
}
export class Hardsigmoid extends Module {
  constructor() { super(); noArguments('Hardsigmoid', arguments); }
  forward(x: Tensor): Tensor { return hardsigmoid(x); }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (arguments.length > 1) checkArity('nn.LeakyReLU', arguments, 1, 'negativeSlope?');
  }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
  extraRepr(): string { return `negativeSlope=${this.negativeSlope}`; }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
    if (arguments.length > 1) checkArity('nn.ELU', arguments, 1, 'alpha?');
  }
  forward(x: Tensor): Tensor { return elu(x, this.alpha); }
  extraRepr(): string { return `alpha=${this.alpha}`; }
}

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
    if (arguments.length > 1) checkArity('nn.GELU', arguments, 1, 'approximate?');
  }
  forward(x: Tensor): Tensor { return gelu(x, { approximate: this.approximate }); }
  extraRepr(): string { return `approximate='${this.approximate}'`; }
}

export class Hardtanh extends Module {
  constructor(readonly minVal = -1, readonly maxVal = 1) {
    super();
    if (arguments.length > 2) checkArity('nn.Hardtanh', arguments, 2, 'minVal?, maxVal?');
  }
  forward(x: Tensor): Tensor { return hardtanh(x, this.minVal, this.maxVal); }
  extraRepr(): string { return `minVal=${this.minVal}, maxVal=${this.maxVal}`; }
}

export class Softplus extends Module {
  constructor(readonly beta = 1, readonly threshold = 20) {
    super();
    if (arguments.length > 2) checkArity('nn.Softplus', arguments, 2, 'beta?, threshold?');
  }
  forward(x: Tensor): Tensor { return softplus(x, { beta: this.beta, threshold: this.threshold }); }
  extraRepr(): string { return `beta=${this.beta}, threshold=${this.threshold}`; }
}

export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
    if (arguments.length > 1) checkArity('nn.Softmax', arguments, 1, 'dim?');
  }
  forward(x: Tensor): Tensor { return softmax(x, this.dim); }
  extraRepr(): string { return `dim=${this.dim}`; }
}

export class LogSoftmax extends Module {
  constructor(readonly dim = -1) {
    super();
    if (arguments.length > 1) checkArity('nn.LogSoftmax', arguments, 1, 'dim?');
  }
  forward(x: Tensor): Tensor { return logSoftmax(x, this.dim); }
  extraRepr(): string { return `dim=${this.dim}`; }
}
