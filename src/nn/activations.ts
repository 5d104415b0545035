// Every activation of the op library as a layer (torch.nn's names and arguments), plus Softmax
// and LogSoftmax over a dim. Each forward is the op itself.

import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { relu, sigmoid, tanh } from '../ops/elementwise.js';
import {
  softmax, logSoftmax, leakyRelu, elu, selu, gelu, silu, mish, hardtanh, hardsigmoid, softplus,
} from '../ops/activation.js';
import { checkArity, describeValue } from '../options.js';
import { ValueError } from '../errors.js';

// Settings are checked when the layer is made (PyTorch's rules where PyTorch refuses, and the
// functional op's where it would refuse at the first forward), naming the layer.

const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : describeValue(v));
function finite(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${layer}: ${name} must be a finite number, got ${shown(v)}`);
  return v;
}
function dimSetting(layer: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${layer}: dim must be an integer, got ${shown(v)}`);
  return v;
}

/** `new nn.ReLU(true)` (PyTorch's inplace) is an error naming the layer, not an argument ignored. */
function noArguments(layer: string, args: IArguments): void {
  if (args.length > 0) checkArity(`nn.${layer}`, args, 0, 'no arguments');
}

/** max(x, 0) elementwise, any shape (PyTorch: torch.nn.ReLU; MATLAB: reluLayer). */
export class ReLU extends Module {
  constructor() { super(); noArguments('ReLU', arguments); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return relu(x); }
}
/** 1/(1 + e⁻ˣ) elementwise, any shape (PyTorch: torch.nn.Sigmoid; MATLAB: sigmoidLayer). */
export class Sigmoid extends Module {
  constructor() { super(); noArguments('Sigmoid', arguments); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return sigmoid(x); }
}
/** tanh x elementwise, any shape (PyTorch: torch.nn.Tanh; MATLAB: tanhLayer). */
export class Tanh extends Module {
  constructor() { super(); noArguments('Tanh', arguments); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return tanh(x); }
}
/** scale·(max(0, x) + min(0, α(eˣ − 1))) with PyTorch's fixed α and scale, elementwise (PyTorch: torch.nn.SELU). */
export class SELU extends Module {
  constructor() { super(); noArguments('SELU', arguments); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return selu(x); }
}
/** x·σ(x) elementwise, any shape (PyTorch: torch.nn.SiLU; MATLAB: swishLayer). */
export class SiLU extends Module {
  constructor() { super(); noArguments('SiLU', arguments); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return silu(x); }
}
/** MATLAB's swishLayer: x·σ(x), the same as SiLU. */
export class Swish extends Module {
  constructor() { super(); noArguments('Swish', arguments); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return silu(x); }
}
/** x·tanh(softplus(x)) elementwise, any shape (PyTorch: torch.nn.Mish). */
export class Mish extends Module {
  constructor() { super(); noArguments('Mish', arguments); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return mish(x); }
}
/** clamp(x/6 + 1/2, 0, 1) elementwise, any shape (PyTorch: torch.nn.Hardsigmoid). */
export class Hardsigmoid extends Module {
  constructor() { super(); noArguments('Hardsigmoid', arguments); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return hardsigmoid(x); }
}

/** x for x > 0, negativeSlope·x otherwise, elementwise (PyTorch: torch.nn.LeakyReLU; MATLAB: leakyReluLayer). */
export class LeakyReLU extends Module {
  /** @param negativeSlope - the slope for x < 0 (default 0.01) */
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (arguments.length > 1) checkArity('nn.LeakyReLU', arguments, 1, 'negativeSlope?');
    finite('nn.LeakyReLU', 'negativeSlope', negativeSlope);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return leakyRelu(x, this.negativeSlope); }
  extraRepr(): string { return `negativeSlope=${this.negativeSlope}`; }
}

/** x for x > 0, α(eˣ − 1) otherwise, elementwise (PyTorch: torch.nn.ELU; MATLAB: eluLayer). */
export class ELU extends Module {
  /** @param alpha - the negative saturation value α (default 1) */
  constructor(readonly alpha = 1) {
    super();
    if (arguments.length > 1) checkArity('nn.ELU', arguments, 1, 'alpha?');
    finite('nn.ELU', 'alpha', alpha);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return elu(x, this.alpha); }
  extraRepr(): string { return `alpha=${this.alpha}`; }
}

/** x·Φ(x), Φ the standard normal CDF, elementwise (PyTorch: torch.nn.GELU; MATLAB: geluLayer). */
export class GELU extends Module {
  /** @param approximate - 'none' (default, the exact erf form) or 'tanh' (PyTorch's tanh approximation) */
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
    if (arguments.length > 1) checkArity('nn.GELU', arguments, 1, 'approximate?');
    if (approximate !== 'none' && approximate !== 'tanh') throw new ValueError(`nn.GELU: approximate must be 'none' or 'tanh', got ${shown(approximate)}`);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return gelu(x, { approximate: this.approximate }); }
  extraRepr(): string { return `approximate='${this.approximate}'`; }
}

/** x clamped to [minVal, maxVal], elementwise (PyTorch: torch.nn.Hardtanh). */
export class Hardtanh extends Module {
  /**
   * @param minVal - the lower bound (default −1)
   * @param maxVal - the upper bound (default 1)
   */
  constructor(readonly minVal = -1, readonly maxVal = 1) {
    super();
    if (arguments.length > 2) checkArity('nn.Hardtanh', arguments, 2, 'minVal?, maxVal?');
    finite('nn.Hardtanh', 'minVal', minVal);
    finite('nn.Hardtanh', 'maxVal', maxVal);
    // PyTorch's nn.Hardtanh asserts max_val > min_val.
    if (!(maxVal > minVal)) throw new ValueError(`nn.Hardtanh: maxVal must be greater than minVal, got minVal ${minVal} and maxVal ${maxVal}`);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return hardtanh(x, this.minVal, this.maxVal); }
  extraRepr(): string { return `minVal=${this.minVal}, maxVal=${this.maxVal}`; }
}

/** log(1 + e^(βx))/β elementwise, linear (x) where βx > threshold (PyTorch: torch.nn.Softplus; MATLAB: softplusLayer). */
export class Softplus extends Module {
  /**
   * @param beta - β, non-zero (default 1)
   * @param threshold - above βx = threshold the output is x (default 20)
   */
  constructor(readonly beta = 1, readonly threshold = 20) {
    super();
    if (arguments.length > 2) checkArity('nn.Softplus', arguments, 2, 'beta?, threshold?');
    if (finite('nn.Softplus', 'beta', beta) === 0) throw new ValueError('nn.Softplus: beta must not be 0 (softplus divides by beta), got 0');
    finite('nn.Softplus', 'threshold', threshold);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return softplus(x, { beta: this.beta, threshold: this.threshold }); }
  extraRepr(): string { return `beta=${this.beta}, threshold=${this.threshold}`; }
}

/** eˣ / Σ eˣ along `dim`, any shape (PyTorch: torch.nn.Softmax; MATLAB: softmaxLayer). */
export class Softmax extends Module {
  /** @param dim - the axis normalised over (default −1, the last) */
  constructor(readonly dim = -1) {
    super();
    if (arguments.length > 1) checkArity('nn.Softmax', arguments, 1, 'dim?');
    dimSetting('nn.Softmax', dim);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return softmax(x, this.dim); }
  extraRepr(): string { return `dim=${this.dim}`; }
}

/** x − logsumexp(x) along `dim`, any shape (PyTorch: torch.nn.LogSoftmax). */
export class LogSoftmax extends Module {
  /** @param dim - the axis normalised over (default −1, the last) */
  constructor(readonly dim = -1) {
    super();
    if (arguments.length > 1) checkArity('nn.LogSoftmax', arguments, 1, 'dim?');
    dimSetting('nn.LogSoftmax', dim);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return logSoftmax(x, this.dim); }
  extraRepr(): string { return `dim=${this.dim}`; }
}
