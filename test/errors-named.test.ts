// Named errors for wrong arguments and settings (the hardened runtime): every case below throws a
// WasmgradError subclass naming the function, the argument and what it got — never a raw
// TypeError, RangeError or ENOENT — leaves no tensor behind, and the runtime computes correctly
// afterwards. File errors (IOError), layer settings checked at construction (PyTorch's rules),
// functional options, disposed modules and optimizers, functions checked when given (async ones
// refused before they run, returned promises never left unhandled), and derivative operators
// that fail without leaking.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { wg, expectClose, flat, noUnhandledRejection } from './helpers.js';
import { expectError, stillWorks } from './nn-helpers.js';
import type { Tensor } from '../src/index.js';

const { nn, optim, io } = wg;
const F64 = { dtype: 'float64' } as const;

beforeAll(async () => { await wg.init(); });

/** An async `bad`: it rejects with `cls` and every part in the message; no tensor is left and the runtime works. */
async function expectRejection(bad: () => Promise<unknown>, cls: new (...a: any[]) => Error, parts: (string | RegExp)[]): Promise<Error> {
  const before = wg.memory();
  let caught: unknown;
  try { await bad(); } catch (e) { caught = e; }
  expect(caught, 'no error was thrown').toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(wg.WasmgradError);
  for (const p of parts) {
    if (typeof p === 'string') expect((caught as Error).message).toContain(p);
    else expect((caught as Error).message).toMatch(p);
  }
  expect(wg.memory().liveTensors).toBe(before.liveTensors);
  stillWorks();
  return caught as Error;
}

// ———————————————————————————————————————————————————————————— 1. io: IOError

describe('io.load / io.save with a path: file-system errors are IOErrors', () => {
  let dir = '';
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'wasmgrad-errors-named-')); });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  it('a missing file: IOError naming io.load, the path and ENOENT, with the cause', async () => {
    const path = join(dir, 'missing.safetensors');
    const e = await expectRejection(() => io.load(path), wg.IOError, ['io.load', `'${path}'`, 'cannot read', 'ENOENT', 'no such file or directory']);
    expect((e as InstanceType<typeof wg.IOError>).path).toBe(path);
    expect((e.cause as { code?: string }).code).toBe('ENOENT');
    // the same with a network to load into, and with a file URL
    const net = new nn.Linear(2, 1);
    await expectRejection(() => io.load(path, net), wg.IOError, ['io.load', 'ENOENT']);
    const url = new URL(`file://${path}`);
    const u = await expectRejection(() => io.load(url), wg.IOError, ['io.load', url.href, 'ENOENT']);
    expect((u as InstanceType<typeof wg.IOError>).path).toBe(url.href);
    net.dispose();
  });

  it('a directory instead of a file, and a save into a missing directory', async () => {
    await expectRejection(() => io.load(dir), wg.IOError, ['io.load', `'${dir}'`, 'EISDIR']);
    const net = new nn.Linear(2, 1);
    const path = join(dir, 'no-such-dir', 'net.safetensors');
    const e = await expectRejection(() => io.save(net, path), wg.IOError, ['io.save', 'cannot write', `'${path}'`, 'ENOENT']);
    expect((e as InstanceType<typeof wg.IOError>).path).toBe(path);
    // a good path still saves and loads
    const good = join(dir, 'net.safetensors');
    await io.save(net, good);
    const copy = await io.load(good, new nn.Linear(2, 1));
    expect(copy.weight.toArray()).toEqual(net.weight.toArray());
    copy.dispose();
    net.dispose();
  });

  it('a file that is read but malformed is still a SafetensorsError, not an IOError', async () => {
    const path = join(dir, 'junk.safetensors');
    writeFileSync(path, new Uint8Array([1, 2, 3]));
    const e = await expectRejection(() => io.load(path), io.SafetensorsError, ['io.load']);
    expect(e).not.toBeInstanceOf(wg.IOError);
  });

  it('neither bytes nor a path: a ValueError naming io.load and what it got', () => {
    expectError(() => io.load(42 as any), wg.ValueError, ['io.load', 'got the number 42']);
    expectError(() => io.load(Symbol('s') as any), wg.ValueError, ['io.load', 'got a symbol']);
    expectError(() => io.load(10n as any), wg.ValueError, ['io.load', 'got the bigint 10']);
  });
});

// ———————————————————————————————————————————————————————————— 2. layer settings

type Case = [string, () => unknown, (string | RegExp)[]];

/** Every invalid setting, refused when the layer is made; each message names the layer, the setting and the value. */
const layerCases: Case[] = [
  // convolutions (PyTorch: non-positive stride / dilation, negative padding, padding='same' with a stride, output padding ≥ stride and dilation)
  ['Conv2d stride 0', () => new nn.Conv2d(1, 1, 3, { stride: 0 }), ['nn.Conv2d: stride must be', 'got 0']],
  ['Conv2d stride -1', () => new nn.Conv2d(1, 1, 3, { stride: -1 }), ['nn.Conv2d: stride', 'got -1']],
  ['Conv2d stride 1.5', () => new nn.Conv2d(1, 1, 3, { stride: 1.5 }), ['nn.Conv2d: stride', 'got 1.5']],
  ['Conv2d stride of one entry', () => new nn.Conv2d(1, 1, 3, { stride: [1] }), ['nn.Conv2d: stride', 'list of 2', 'got [1]']],
  ['Conv2d stride a string', () => new nn.Conv2d(1, 1, 3, { stride: '2' as any }), ['nn.Conv2d: stride', 'got the string "2"']],
  ['Conv2d dilation 0', () => new nn.Conv2d(1, 1, 3, { dilation: 0 }), ['nn.Conv2d: dilation must be', 'got 0']],
  ['Conv2d dilation [1, 0]', () => new nn.Conv2d(1, 1, 3, { dilation: [1, 0] }), ['nn.Conv2d: dilation', 'got [1, 0]']],
  ['Conv2d padding -1', () => new nn.Conv2d(1, 1, 3, { padding: -1 }), ['nn.Conv2d: padding', '>= 0', 'got -1']],
  ['Conv2d padding a bad string', () => new nn.Conv2d(1, 1, 3, { padding: 'full' as any }), ['nn.Conv2d: padding', "'same', 'valid'", 'got the string "full"']],
  ['Conv2d padding same with a stride', () => new nn.Conv2d(1, 1, 3, { padding: 'same', stride: 2 }), ['nn.Conv2d', "padding 'same'", 'strided', 'got stride 2']],
  ['Conv2d kernel 0', () => new nn.Conv2d(1, 1, 0), ['nn.Conv2d: kernelSize', 'got 0']],
  ['Conv2d kernel [3]', () => new nn.Conv2d(1, 1, [3]), ['nn.Conv2d: kernelSize', 'got [3]']],
  ['Conv2d groups not dividing', () => new nn.Conv2d(3, 4, 3, { groups: 2 }), ['nn.Conv2d: inChannels (3) must be divisible by groups (2)']],
  ['Conv2d groups 0', () => new nn.Conv2d(3, 3, 3, { groups: 0 }), ['nn.Conv2d: groups', 'got 0']],
  ['Conv2d inChannels NaN', () => new nn.Conv2d(NaN, 3, 3), ['nn.Conv2d: inChannels', 'got NaN']],
  ['Conv1d stride 0', () => new nn.Conv1d(1, 1, 3, { stride: 0 }), ['nn.Conv1d: stride', 'list of one', 'got 0']],
  ['Conv1d padding a symbol', () => new nn.Conv1d(1, 1, 3, { padding: Symbol('p') as any }), ['nn.Conv1d: padding', 'got a symbol']],
  ['ConvTranspose2d stride 0', () => new nn.ConvTranspose2d(1, 1, 3, { stride: 0 }), ['nn.ConvTranspose2d: stride', 'got 0']],
  ['ConvTranspose2d padding -1', () => new nn.ConvTranspose2d(1, 1, 3, { padding: -1 }), ['nn.ConvTranspose2d: padding', 'got -1']],
  ['ConvTranspose2d padding same', () => new nn.ConvTranspose2d(1, 1, 3, { padding: 'same' as any }), ['nn.ConvTranspose2d: padding', 'got the string "same"']],
  ['ConvTranspose2d outputPadding ≥ stride and dilation', () => new nn.ConvTranspose2d(1, 1, 3, { outputPadding: 1 }), ['nn.ConvTranspose2d: outputPadding must be smaller than either stride or dilation', 'outputPadding 1', 'stride 1', 'dilation 1']],
  ['ConvTranspose2d outputPadding -1', () => new nn.ConvTranspose2d(1, 1, 3, { outputPadding: -1, stride: 2 }), ['nn.ConvTranspose2d: outputPadding', 'got -1']],
  // pooling (PyTorch: kernel_size must be greater than zero, stride should not be zero, pad at most half of the kernel)
  ['MaxPool2d kernel 0', () => new nn.MaxPool2d(0), ['nn.MaxPool2d: kernelSize', 'got 0']],
  ['MaxPool2d stride 0', () => new nn.MaxPool2d(2, { stride: 0 }), ['nn.MaxPool2d: stride', 'got 0']],
  ['MaxPool2d dilation 0', () => new nn.MaxPool2d(2, { dilation: 0 }), ['nn.MaxPool2d: dilation', 'got 0']],
  ['MaxPool2d padding -1', () => new nn.MaxPool2d(2, { padding: -1 }), ['nn.MaxPool2d: padding', 'got -1']],
  ['MaxPool2d padding > kernel/2', () => new nn.MaxPool2d(3, { padding: 2 }), ['nn.MaxPool2d: padding must be at most half the kernel size', 'padding 2', 'kernelSize 3']],
  ['MaxPool2d kernel a string', () => new nn.MaxPool2d('2' as any), ['nn.MaxPool2d: kernelSize', 'got the string "2"']],
  ['AvgPool2d kernel 0', () => new nn.AvgPool2d(0), ['nn.AvgPool2d: kernelSize', 'got 0']],
  ['AvgPool2d stride [2, 0]', () => new nn.AvgPool2d(2, { stride: [2, 0] }), ['nn.AvgPool2d: stride', 'got [2, 0]']],
  ['AvgPool2d padding > kernel/2', () => new nn.AvgPool2d(2, { padding: 2 }), ['nn.AvgPool2d: padding must be at most half the kernel size', 'padding 2', 'kernelSize 2']],
  ['AvgPool2d divisorOverride 0', () => new nn.AvgPool2d(2, { divisorOverride: 0 }), ['nn.AvgPool2d: divisorOverride must be a non-zero integer', 'got 0']],
  ['AdaptiveAvgPool2d 0', () => new nn.AdaptiveAvgPool2d(0), ['nn.AdaptiveAvgPool2d: outputSize', 'got 0']],
  ['AdaptiveAvgPool2d a string', () => new nn.AdaptiveAvgPool2d('a' as any), ['nn.AdaptiveAvgPool2d: outputSize', 'got the string "a"']],
  ['AdaptiveAvgPool2d three entries', () => new nn.AdaptiveAvgPool2d([1, 1, 1]), ['nn.AdaptiveAvgPool2d: outputSize', 'got [1, 1, 1]']],
  ['Flatten startDim 1.5', () => new nn.Flatten(1.5), ['nn.Flatten: startDim must be an integer', 'got 1.5']],
  ['Flatten endDim a string', () => new nn.Flatten(1, '-1' as any), ['nn.Flatten: endDim must be an integer', 'got the string "-1"']],
  // embeddings, recurrent layers, attention
  ['Embedding paddingIdx out of range', () => new nn.Embedding(3, 2, { paddingIdx: 5 }), ['nn.Embedding: paddingIdx', '[-3, 2]', 'got 5']],
  ['Embedding paddingIdx a bigint', () => new nn.Embedding(3, 2, { paddingIdx: 1n as any }), ['nn.Embedding: paddingIdx', 'got the bigint 1']],
  ['Embedding numEmbeddings 0', () => new nn.Embedding(0, 2), ['nn.Embedding: numEmbeddings', 'got 0']],
  ['LSTM hiddenSize 0', () => new nn.LSTM(2, 0), ['nn.LSTM: hiddenSize must be an integer >= 1', 'got 0']],
  ['GRU hiddenSize -1', () => new nn.GRU(2, -1), ['nn.GRU: hiddenSize', 'got -1']],
  ['LSTM numLayers 0', () => new nn.LSTM(2, 2, { numLayers: 0 }), ['nn.LSTM: numLayers', 'got 0']],
  ['GRU dropout 1.5', () => new nn.GRU(2, 2, { dropout: 1.5 }), ['nn.GRU: dropout must be a probability in [0, 1]', 'got 1.5']],
  ['MultiheadAttention dropout 2', () => new nn.MultiheadAttention(4, 2, { dropout: 2 }), ['nn.MultiheadAttention: dropout must be a probability', 'got 2']],
  ['MultiheadAttention dropout NaN', () => new nn.MultiheadAttention(4, 2, { dropout: NaN }), ['nn.MultiheadAttention: dropout', 'got NaN']],
  ['MultiheadAttention heads not dividing', () => new nn.MultiheadAttention(5, 2), ['nn.MultiheadAttention: embedDim (5) must be divisible by numHeads (2)']],
  // normalisation
  ['BatchNorm1d eps 0', () => new nn.BatchNorm1d(3, { eps: 0 }), ['nn.BatchNorm1d: eps must be a finite number > 0', 'got 0']],
  ['BatchNorm2d eps -1', () => new nn.BatchNorm2d(3, { eps: -1 }), ['nn.BatchNorm2d: eps', 'got -1']],
  ['BatchNorm2d eps Infinity', () => new nn.BatchNorm2d(3, { eps: Infinity }), ['nn.BatchNorm2d: eps', 'got Infinity']],
  ['BatchNorm1d momentum 2', () => new nn.BatchNorm1d(3, { momentum: 2 }), ['nn.BatchNorm1d: momentum must be a number in [0, 1] or null', 'got 2']],
  ['BatchNorm1d momentum -0.1', () => new nn.BatchNorm1d(3, { momentum: -0.1 }), ['nn.BatchNorm1d: momentum', 'got -0.1']],
  ['BatchNorm1d momentum a string', () => new nn.BatchNorm1d(3, { momentum: '0.1' as any }), ['nn.BatchNorm1d: momentum', 'got the string "0.1"']],
  ['BatchNorm2d numFeatures 0', () => new nn.BatchNorm2d(0), ['nn.BatchNorm2d: numFeatures', 'got 0']],
  ['LayerNorm eps 0', () => new nn.LayerNorm(3, { eps: 0 }), ['nn.LayerNorm: eps', 'got 0']],
  ['LayerNorm normalizedShape null', () => new nn.LayerNorm(null as any), ['nn.LayerNorm: normalizedShape', 'got null']],
  ['LayerNorm normalizedShape []', () => new nn.LayerNorm([]), ['nn.LayerNorm: normalizedShape', 'non-empty', 'got []']],
  ['GroupNorm eps -1', () => new nn.GroupNorm(1, 3, { eps: -1 }), ['nn.GroupNorm: eps', 'got -1']],
  ['GroupNorm groups not dividing', () => new nn.GroupNorm(2, 3), ['nn.GroupNorm: numChannels (3) must be divisible by numGroups (2)']],
  ['Dropout p 1.5', () => new nn.Dropout(1.5), ['nn.Dropout: dropout probability has to be between 0 and 1', 'got 1.5']],
  ['Dropout p NaN', () => new nn.Dropout(NaN), ['nn.Dropout', 'got NaN']],
  // activations
  ['LeakyReLU NaN slope', () => new nn.LeakyReLU(NaN), ['nn.LeakyReLU: negativeSlope must be a finite number', 'got NaN']],
  ['LeakyReLU slope a string', () => new nn.LeakyReLU('0.1' as any), ['nn.LeakyReLU: negativeSlope', 'got the string "0.1"']],
  ['ELU alpha Infinity', () => new nn.ELU(Infinity), ['nn.ELU: alpha must be a finite number', 'got Infinity']],
  ['GELU approximate unknown', () => new nn.GELU('fast' as any), ["nn.GELU: approximate must be 'none' or 'tanh'", 'got the string "fast"']],
  ['Hardtanh minVal > maxVal', () => new nn.Hardtanh(1, -1), ['nn.Hardtanh: maxVal must be greater than minVal', 'minVal 1', 'maxVal -1']],
  ['Hardtanh minVal = maxVal', () => new nn.Hardtanh(0.5, 0.5), ['nn.Hardtanh: maxVal must be greater than minVal']],
  ['Hardtanh minVal NaN', () => new nn.Hardtanh(NaN, 1), ['nn.Hardtanh: minVal', 'got NaN']],
  ['Softplus beta 0', () => new nn.Softplus(0), ['nn.Softplus: beta must not be 0', 'got 0']],
  ['Softplus threshold NaN', () => new nn.Softplus(1, NaN), ['nn.Softplus: threshold', 'got NaN']],
  ['Softmax dim 1.5', () => new nn.Softmax(1.5), ['nn.Softmax: dim must be an integer', 'got 1.5']],
  ['LogSoftmax dim a string', () => new nn.LogSoftmax('1' as any), ['nn.LogSoftmax: dim must be an integer', 'got the string "1"']],
  ['Sequential of a non-module', () => new nn.Sequential(new nn.ReLU(), 3 as any), ['nn.Sequential: argument 1 is not a Module', 'got the number 3']],
];

describe('layer constructors check their settings (PyTorch’s rules), naming the layer', () => {
  for (const [name, make, parts] of layerCases) {
    it(name, () => { expectError(make, wg.ValueError, parts); });
  }

  it('valid edge settings are still accepted and compute', () => {
    wg.tidy(() => {
      const x = wg.ones([1, 2, 5, 5], F64);
      const same = new nn.Conv2d(2, 2, 3, { padding: 'same', dtype: 'float64' });
      expect(same.forward(x).shape).toEqual([1, 2, 5, 5]);
      const up = new nn.ConvTranspose2d(2, 1, 3, { stride: 2, outputPadding: 1, dtype: 'float64' });
      expect(up.forward(x).shape).toEqual([1, 1, 12, 12]);
      expect(new nn.MaxPool2d(3, { padding: 1, stride: 1 }).forward(x).shape).toEqual([1, 2, 5, 5]);
      expect(new nn.AvgPool2d([2, 3], { padding: [1, 1], divisorOverride: -2 }).forward(x).shape).toEqual([1, 2, 3, 2]);
      expect(new nn.AdaptiveAvgPool2d([null, 2]).forward(x).shape).toEqual([1, 2, 5, 2]);
      const bn = new nn.BatchNorm2d(2, { momentum: null, dtype: 'float64' });
      const bn0 = new nn.BatchNorm1d(2, { momentum: 0 }), bn1 = new nn.BatchNorm1d(2, { momentum: 1, eps: 1e-12 });
      expect([bn0.momentum, bn1.momentum, bn1.eps]).toEqual([0, 1, 1e-12]);
      expect(bn.forward(wg.ones([2, 2, 3, 3], F64)).shape).toEqual([2, 2, 3, 3]);
      expectClose(flat(new nn.Hardtanh(-2, 2).forward(wg.tensor([-3, 0.5, 3], F64)).toArray()), [-2, 0.5, 2]);
      expectClose(flat(new nn.Softplus(-1).forward(wg.tensor([0], F64)).toArray()), [-Math.log(2)]);
      expectClose(flat(new nn.LeakyReLU(-0.5).forward(wg.tensor([-2, 2], F64)).toArray()), [1, 2]);
      expect(new nn.Dropout(0).p).toBe(0);
      expect(new nn.Dropout(1).p).toBe(1);
      for (const m of [same, up, bn, bn0, bn1]) m.dispose();
    });
    stillWorks();
  });
});

// ———————————————————————————————————————————————————————————— 3. functional options

describe('functional ops refuse option values they cannot compute with', () => {
  it('softplus with beta 0 (PyTorch divides by beta) is a ValueError, functional and as a method', () => {
    const x = wg.tensor([1, -2], F64);
    expectError(() => wg.softplus(x, { beta: 0 }), wg.ValueError, ['softplus: beta must not be 0', 'got 0']);
    expectError(() => x.softplus({ beta: 0 }), wg.ValueError, ['softplus: beta must not be 0']);
    expectError(() => wg.softplus(x, { beta: NaN }), wg.ValueError, ['softplus: beta must be a finite number', 'got NaN']);
    expectError(() => wg.softplus(x, { threshold: Symbol('t') as any }), wg.ValueError, ['softplus', 'threshold']);
    // beta 2 still computes log(1 + exp(2x)) / 2
    wg.tidy(() => { expectClose(flat(wg.softplus(x, { beta: 2 }).toArray()), [1, -2].map((v) => Math.log1p(Math.exp(2 * v)) / 2)); });
    x.dispose();
  });

  it('the other activation, norm, loss, dropout and attention options name the op, the option and the value', () => {
    const x = wg.tensor([[0.2, 0.8], [0.6, 0.4]], F64);
    const t = wg.tensor([[0, 1], [1, 0]], F64);
    const x3 = wg.ones([2, 2, 2], F64);
    expectError(() => wg.leakyRelu(x, NaN), wg.ValueError, ['leakyRelu: negativeSlope must be a finite number', 'got NaN']);
    expectError(() => wg.elu(x, Infinity), wg.ValueError, ['elu: alpha', 'got Infinity']);
    expectError(() => wg.hardtanh(x, 1, -1), wg.ValueError, ['hardtanh: minVal (1) must not exceed maxVal (-1)']);
    expectError(() => wg.gelu(x, { approximate: 'fast' as any }), wg.ValueError, ['gelu: approximate', 'fast']);
    expectError(() => wg.layerNorm(x, [2], null, null, { eps: -1 }), wg.ValueError, ['layerNorm: eps must be >= 0', 'got -1']);
    expectError(() => wg.groupNorm(x3, 2, null, null, { eps: NaN }), wg.ValueError, ['groupNorm: eps must be a finite number', 'got NaN']);
    expectError(() => wg.huberLoss(x, t, { delta: 0 }), wg.ValueError, ['huberLoss: delta must be positive', 'got 0']);
    expectError(() => wg.smoothL1Loss(x, t, { beta: -1 }), wg.ValueError, ['smoothL1Loss: beta must be >= 0', 'got -1']);
    expectError(() => wg.crossEntropy(x, t, { labelSmoothing: 1.5 }), wg.ValueError, ['crossEntropy: labelSmoothing must be between 0.0 and 1.0', 'got 1.5']);
    expectError(() => wg.mseLoss(x, t, { reduction: 'avg' as any }), wg.ValueError, ['mseLoss: reduction', "'avg'"]);
    expectError(() => wg.dropout(x, 1.5), wg.ValueError, ['dropout: dropout probability has to be between 0 and 1', 'got 1.5']);
    expectError(() => wg.scaledDotProductAttention(x, x, x, { dropoutP: -0.1 }), wg.ValueError, ['scaledDotProductAttention: dropoutP must be a probability', 'got -0.1']);
    expectError(() => wg.variance(x, null, { correction: Symbol('c') as any }), wg.ValueError, ['var: correction', 'got a symbol']);
    expectError(() => wg.mean(null as any), wg.ValueError, ['mean (x)', 'got null']);
    expectError(() => wg.variance('x' as any), wg.ValueError, ['var (x): expected a Tensor']);
    wg.dispose([x, t, x3]);
  });
});

// ———————————————————————————————————————————————————————————— 4. disposed objects

describe('a disposed optimizer or module throws DisposedError naming it and the method', () => {
  it('optimizers: step, stateDict, loadStateDict, addParamGroup, lr after dispose(); dispose() twice is harmless', () => {
    const p = wg.keep(wg.tensor([1, 2], F64));
    const g = wg.keep(wg.tensor([0.5, 0.5], F64));
    for (const make of [() => new optim.SGD([p], { lr: 0.1, momentum: 0.9 }), () => new optim.Adam([p]), () => new optim.AdamW([p]),
      () => new optim.RMSprop([p]), () => new optim.Adagrad([p])]) {
      const opt = make();
      const name = opt.constructor.name;
      opt.step([g]);
      const saved = opt.stateDict();
      const liveBefore = wg.memory().liveTensors;
      opt.dispose();
      expect(wg.memory().liveTensors).toBeLessThan(liveBefore); // the state was freed
      expect(opt.isDisposed).toBe(true);
      expectError(() => opt.step([g]), wg.DisposedError, [`${name}.step: the optimizer was disposed`]);
      expectError(() => opt.stateDict(), wg.DisposedError, [`${name}.stateDict: the optimizer was disposed`]);
      expectError(() => opt.loadStateDict(saved), wg.DisposedError, [`${name}.loadStateDict`, 'disposed']);
      expectError(() => wg.tidy(() => opt.addParamGroup({ params: [wg.tensor([1], F64)] })), wg.DisposedError, [`${name}.addParamGroup`, 'disposed']);
      expectError(() => { opt.lr = 0.5; }, wg.DisposedError, [`${name}.lr`, 'disposed']);
      expectError(() => { opt.paramGroups[0].options.lr = 0.5; }, wg.DisposedError, [`${name}.paramGroups`, "'lr'", 'disposed']);
      expectError(() => new optim.StepLR(opt, 1), wg.DisposedError, [name, 'disposed']);
      const live = wg.memory().liveTensors;
      opt.dispose();
      expect(wg.memory().liveTensors).toBe(live);
    }
    expect(p.toArray()).not.toEqual([1, 2]); // the steps before dispose() did update
    const lbfgs = new optim.LBFGS([p]);
    lbfgs.dispose();
    lbfgs.dispose();
    expectError(() => lbfgs.step(() => [p.sum(), [g]]), wg.DisposedError, ['LBFGS.step: the optimizer was disposed']);
    wg.dispose([p, g]);
    stillWorks();
  });

  it("modules: call, predict, forward, parameters, stateDict, loadStateDict, to, train → 'Linear: the module was disposed'", () => {
    const lin = new nn.Linear(2, 1, { dtype: 'float64' });
    const x = wg.tensor([[1, 2]], F64);
    const sd = wg.tidy(() => Object.fromEntries(Object.entries(lin.stateDict()).map(([k, t]) => [k, t.mul(1)])));
    const before = wg.memory().liveTensors;
    lin.dispose();
    expect(wg.memory().liveTensors).toBe(before - 2);
    expect(lin.isDisposed).toBe(true);
    const calls: [string, () => unknown][] = [
      ['call', () => lin.call(x)], ['predict', () => lin.predict(x)], ['forward', () => lin.forward(x)], ['parameters', () => lin.parameters()],
      ['namedParameters', () => lin.namedParameters()], ['stateDict', () => lin.stateDict()], ['loadStateDict', () => lin.loadStateDict(sd)],
      ['to', () => lin.to('float32')], ['train', () => lin.train()], ['train', () => lin.eval()], ['numParameters', () => lin.numParameters()],
      ['weight', () => lin.weight], ['registerParameter', () => lin.registerParameter('w', null)],
    ];
    for (const [method, call] of calls) expectError(call, wg.DisposedError, ['Linear: the module was disposed', method]);
    // elsewhere: saving it, differentiating it, an optimizer over it, functionalCall
    expectError(() => io.save(lin), wg.DisposedError, ['Linear: the module was disposed']);
    expectError(() => wg.valueAndGrad((m: any) => m.forward(x).sum())(lin), wg.DisposedError, ['Linear: the module was disposed']);
    expectError(() => new optim.SGD(lin), wg.DisposedError, ['Linear: the module was disposed']);
    expectError(() => wg.functionalCall(lin, {}, x), wg.DisposedError, ['Linear: the module was disposed', 'functionalCall']);
    expectError(() => wg.trainStep(lin, null as any, wg.mseLoss, x, x), wg.DisposedError, ['Linear: the module was disposed', 'trainStep']);
    // disposing again is harmless, and printing it still works
    lin.dispose();
    expect(wg.memory().liveTensors).toBe(before - 2);
    expect(String(lin)).toContain('Linear(');
    wg.dispose([x, sd]);
    stillWorks();
  });

  it('disposing a network disposes its children (a user module with fields too); each names itself', () => {
    class Net extends nn.Module {
      fc = new nn.Linear(2, 2);
      w = wg.ones([2]);
      forward(x: Tensor): Tensor { const w = this.w; return this.fc.forward(x).mul(w); }
    }
    const net = new Net();
    const seq = new nn.Sequential(net, new nn.ReLU());
    const live = wg.memory().liveTensors;
    seq.dispose();
    expect(wg.memory().liveTensors).toBe(live - 3);
    const x = wg.ones([1, 2]);
    expectError(() => seq.forward(x), wg.DisposedError, ['Sequential: the module was disposed', 'forward']);
    expectError(() => net.forward(x), wg.DisposedError, ['Net: the module was disposed', "'w'"]);
    expectError(() => net.fc.forward(x), wg.DisposedError, ['Linear: the module was disposed']);
    expectError(() => net.parameters(), wg.DisposedError, ['Net: the module was disposed', 'parameters']);
    net.dispose(); // a child disposed with its parent: again harmless
    seq.dispose();
    x.dispose();
    stillWorks();
  });
});

// ———————————————————————————————————————————————————————————— 5. functions checked when given

describe('functions are checked when given, not when called', () => {
  const f = (x: Tensor): Tensor => x.square().sum();
  const cases: Case[] = [
    ['checkpoint(null)', () => wg.checkpoint(null as any), ['checkpoint: f must be a function', 'got null']],
    ['customGrad(null, vjp)', () => wg.customGrad(null as any, (g: Tensor) => g), ['customGrad: forward must be a function', 'got null']],
    ['customGrad(f, 3)', () => wg.customGrad(f, 3 as any), ['customGrad: vjp must be a function', 'got the number 3']],
    ['customGrad jvp option', () => wg.customGrad(f, (g: Tensor) => g, { jvp: 'no' as any }), ['customGrad', 'jvp', 'a function', 'the string "no"']],
    ['customJvp(f, {})', () => wg.customJvp(f, {} as any), ['customJvp: jvp must be a function', 'got an object']],
    ['vjp(null)', () => wg.vjp(null as any, wg.ones([2])), ['vjp: f must be a function', 'got null']],
    ['jvp(null, …)', () => wg.jvp(null as any, [wg.ones([2])], [wg.ones([2])]), ['jvp: f must be a function', 'got null']],
    ['jacobian(null)', () => wg.jacobian(null as any), ['jacobian: f must be a function', 'got null']],
    ['jacrev(Symbol)', () => wg.jacrev(Symbol('f') as any), ['jacobian: f must be a function', 'got a symbol']],
    ['hessian(null)', () => wg.hessian(null as any), ['hessian: f must be a function', 'got null']],
    ['hvp(null)', () => wg.hvp(null as any), ['hvp: f must be a function', 'got null']],
    ['jacfwd(null)', () => wg.jacfwd(null as any), ['jacfwd: f must be a function', 'got null']],
    ['valueAndGrad(null)', () => wg.valueAndGrad(null as any), ['valueAndGrad: expected a function to differentiate, got null']],
    ['grad(1n)', () => wg.grad(1n as any), ['grad: expected a function to differentiate, got the bigint 1']],
    ['dlfeval(null)', () => wg.dlfeval(null as any), ['dlfeval: fn must be a function', 'got null']],
    ['trace(null)', () => wg.trace(null as any, wg.ones([1])), ['trace: expected a function to differentiate, got null']],
    ['traceJvp(null)', () => wg.traceJvp(null as any, [wg.ones([1])], [wg.ones([1])]), ['traceJvp', 'got null']],
    ['trainStep loss null', () => { const m = new nn.Linear(1, 1); try { return wg.trainStep(m, new optim.SGD(m), null as any, wg.ones([1, 1]), wg.ones([1, 1])); } finally { m.dispose(); } }, ['trainStep: loss must be a function', 'got null']],
    ['trainStep optimizer null', () => { const m = new nn.Linear(1, 1); try { return wg.trainStep(m, null as any, wg.mseLoss, wg.ones([1, 1]), wg.ones([1, 1])); } finally { m.dispose(); } }, ['trainStep: optimizer must be an optimizer', 'got null']],
    ['trainStep model 3', () => wg.trainStep(3 as any, null as any, wg.mseLoss, null, null), ['trainStep: model must be a Module', 'got the number 3']],
    ['lbfgsupdate lossFcn null', () => { const p = wg.ones([1]); try { return optim.lbfgsupdate([p], null as any); } finally { p.dispose(); } }, ['lbfgsupdate: lossFcn must be a function', 'got null']],
    ['LBFGS.step closure null', () => { const p = wg.ones([1]); const o = new optim.LBFGS([p]); try { return o.step(null as any); } finally { o.dispose(); p.dispose(); } }, ['LBFGS.step: closure must be a function', 'got null']],
  ];
  for (const [name, bad, parts] of cases) {
    // tidy frees the arguments the call itself makes (wg.ones(…)); the function is refused before it runs
    it(name, () => { expectError(() => wg.tidy(() => { bad(); }), wg.ValueError, parts); });
  }
});

// ———————————————————————————————————————————————————————————— 6. async functions

describe('async functions are refused before they run; a returned promise is never left unhandled', () => {
  it('an async function is a ValueError saying it must be synchronous, and it never runs', () => {
    let ran = 0;
    const af = async (x: Tensor): Promise<Tensor> => { ran++; return x.sum(); };
    const x = wg.tensor([1, 2], F64);
    const cases: [string, () => unknown][] = [
      ['valueAndGrad', () => wg.valueAndGrad(af as any)],
      ['grad', () => wg.grad(af as any)],
      ['dlfeval', () => wg.dlfeval(af as any, x)],
      ['checkpoint', () => wg.checkpoint(af as any)],
      ['customGrad', () => wg.customGrad(af as any, (g: Tensor) => g)],
      ['customGrad', () => wg.customGrad((v: Tensor) => v.mul(2), af as any)],
      ['customJvp', () => wg.customJvp(af as any, (ts: any) => ts[0])],
      ['jvp', () => wg.jvp(af as any, [x], [x])],
      ['vjp', () => wg.vjp(af as any, x)],
      ['jacobian', () => wg.jacobian(af as any)],
      ['jacfwd', () => wg.jacfwd(af as any)],
      ['hessian', () => wg.hessian(af as any)],
      ['hvp', () => wg.hvp(af as any)],
      ['trace', () => wg.trace(af as any, x)],
      ['lbfgsupdate', () => optim.lbfgsupdate([x], af as any)],
    ];
    for (const [op, call] of cases) expectError(call, wg.ValueError, [`${op}:`, 'must be synchronous', 'got an async function']);
    // async generator functions too, and the detection by constructor name
    expectError(() => wg.valueAndGrad((async function* g() { yield 1; }) as any), wg.ValueError, ['valueAndGrad', 'must be synchronous']);
    expect(ran).toBe(0);
    x.dispose();
    stillWorks();
  });

  it('a plain function returning a promise: a ValueError, and its rejection is handled (no unhandled rejection)', async () => {
    const x = wg.tensor([1, 2], F64);
    const xs = wg.tensor(3, F64);
    // the realistic case: the promise settles after the scope ended, so its tensors are gone and it rejects
    const late = (v: Tensor): any => (async () => { await null; return wg.tidy(() => v.square().sum().item()); })();
    const rejecting = (): any => Promise.reject(new Error('late'));
    await noUnhandledRejection(() => {
      for (const f of [late, rejecting]) {
        expectError(() => wg.valueAndGrad(f)(x), wg.ValueError, ['valueAndGrad: the function returned a Promise', 'synchronous']);
        expectError(() => wg.grad(f)(x), wg.ValueError, ['grad: the function returned a Promise']);
        expectError(() => wg.dlfeval(f, x), wg.ValueError, ['dlfeval: the function returned a Promise']);
        expectError(() => wg.grad(wg.checkpoint(f))(x), wg.ValueError, ['checkpoint: f returned a Promise']);
        expectError(() => wg.checkpoint(f)(x), wg.ValueError, ['checkpoint: f returned a Promise']);
        expectError(() => wg.customGrad(f, (g: Tensor) => g)(x), wg.ValueError, ['customGrad: the forward function returned a Promise']);
        expectError(() => wg.jvp(f, [x], [x]), wg.ValueError, ['jvp: f returned a Promise']);
        expectError(() => wg.vjp(f, x), wg.ValueError, ['vjp: f returned a Promise']);
        expectError(() => wg.jacobian(f)(x), wg.ValueError, ['jacobian: f returned a Promise']);
        expectError(() => wg.hessian(f)(x), wg.ValueError, ['hessian: f returned a Promise']);
        expectError(() => wg.hvp(f)(x, x), wg.ValueError, ['hvp: f returned a Promise']);
        expectError(() => wg.valueAndGrad((v: Tensor) => [f(v), null], { hasAux: true })(x), wg.ValueError, ["valueAndGrad: the function's value returned a Promise"]);
        expectError(() => wg.grad(wg.customGrad((v: Tensor) => v.mul(2), f))(xs), wg.ValueError, ['customGrad: the VJP rule returned a Promise']);
      }
    });
    wg.dispose([x, xs]);
    stillWorks();
  });
});

// ———————————————————————————————————————————————————————————— 7. failing derivative operators leak nothing

describe('hessian, jacobian, jacfwd, hvp, vjp, jvp and dljacobian fail without leaking a tensor', () => {
  const x = (): Tensor => wg.tensor([1, 2, 3], F64);

  it('hessian: a non-scalar output, a wrong input, a disposed input, an int input', () => {
    const v = x();
    expectError(() => wg.hessian((t: Tensor) => t.square())(v), wg.NotDifferentiableError, ['hessian: the function must return a scalar', 'shape [3]']);
    expectError(() => wg.hessian((t: Tensor) => t.square().sum())(null as any), wg.ValueError, ['hessian: x must be a Tensor', 'got null']);
    expectError(() => wg.hessian((t: Tensor) => t.square().sum())([1, 2] as any), wg.ValueError, ['hessian: x must be a Tensor', 'got an array']);
    expectError(() => wg.hessian((t: Tensor) => [t.sum()] as any)(v), wg.NotDifferentiableError, ['hessian', 'got an array']);
    const gone = x();
    gone.dispose();
    expectError(() => wg.hessian((t: Tensor) => t.sum())(gone), wg.DisposedError, ['hessian (x)']);
    const ints = wg.tensor([1, 2], { dtype: 'int32' });
    expectError(() => wg.hessian((t: Tensor) => t.sum())(ints), wg.NotDifferentiableError, ['int32']);
    ints.dispose();
    // a failure at a later direction frees what the earlier ones made
    let calls = 0;
    expectError(() => wg.hessian((t: Tensor) => { if (++calls > 1) throw new wg.ValueError('third call'); return t.square().sum(); })(v), wg.ValueError, ['third call']);
    // still exact: the Hessian of Σ x³ is diag(6x)
    wg.tidy(() => { expect(wg.hessian((t: Tensor) => t.mul(t).mul(t).sum())(v).toArray()).toEqual([[6, 0, 0], [0, 12, 0], [0, 0, 18]]); });
    v.dispose();
  });

  it('jacfwd, jacobian and hvp', () => {
    const v = x(), two = wg.ones([2], F64);
    let calls = 0;
    const failsLater = (t: Tensor): Tensor => { if (++calls === 2) return t.add(wg.ones([2])); return t.mul(2); };
    expectError(() => wg.jacfwd(failsLater)(v), wg.ShapeError, ['add']);
    expectError(() => wg.jacfwd((t: Tensor) => 3 as any)(v), wg.ValueError, ['jacfwd: f must return one Tensor', 'got the number 3']);
    expectError(() => wg.jacfwd((t: Tensor) => t)(undefined as any), wg.ValueError, ['jacfwd: x must be a Tensor', 'got undefined']);
    expectError(() => wg.jacobian((t: Tensor) => t.add(wg.ones([2])))(v), wg.ShapeError, ['add']);
    expectError(() => wg.jacobian((t: Tensor) => [t] as any)(v), wg.ValueError, ['jacobian: f must return a Tensor', 'got an array']);
    expectError(() => wg.jacobian((t: Tensor) => t)('v' as any), wg.ValueError, ['jacobian: x must be a Tensor', 'got the string "v"']);
    expectError(() => wg.hvp((t: Tensor) => t.square())(v, v), wg.NotDifferentiableError, ['hvp: the function must return a scalar', 'shape [3]']);
    expectError(() => wg.hvp((t: Tensor) => t.square().sum())(v, two), wg.ShapeError, ['hvp: v has shape [2] but x has shape [3]']);
    expectError(() => wg.hvp((t: Tensor) => t.square().sum())(v, null as any), wg.ValueError, ['hvp: v must be a Tensor', 'got null']);
    wg.tidy(() => {
      expect(wg.jacfwd((t: Tensor) => t.mul(2))(v).toArray()).toEqual([[2, 0, 0], [0, 2, 0], [0, 0, 2]]);
      expect(wg.jacobian((t: Tensor) => t.square())(v).toArray()).toEqual([[2, 0, 0], [0, 4, 0], [0, 0, 6]]);
      expect(wg.hvp((t: Tensor) => t.mul(t).mul(t).sum())(v, wg.ones([3], F64)).toArray()).toEqual([6, 12, 18]);
    });
    wg.dispose([v, two]);
  });

  it('vjp, jvp and dljacobian', () => {
    const v = x(), sq = v.square();
    expectError(() => wg.vjp((t: Tensor) => [t.mul(2), t.mul(3)] as any, v), wg.ValueError, ['vjp: f must return a Tensor', 'got an array']);
    expectError(() => wg.vjp((t: Tensor) => t.mul(2).add(wg.ones([2])), v), wg.ShapeError, ['add']);
    expectError(() => wg.vjp((t: Tensor) => t, 'v' as any), wg.ValueError, ['vjp: argument 0 must be a Tensor', 'got the string "v"']);
    expectError(() => wg.jvp((t: Tensor) => t.mul(2).add(wg.ones([2])), [v], [v]), wg.ShapeError, ['add']);
    expectError(() => wg.jvp((t: Tensor) => t, [v], [null as any]), wg.ValueError, ['jvp: tangents[0] must be a Tensor', 'got null']);
    expectError(() => wg.dljacobian(sq, v, 0), wg.NotDifferentiableError, ['dljacobian: call it inside a function evaluated with dlfeval']);
    expectError(() => wg.dlfeval((t: Tensor) => wg.dljacobian(t.square(), null as any, 0), v), wg.ValueError, ['dljacobian: x must be a Tensor', 'got null']);
    wg.tidy(() => {
      const [y, pullback] = wg.vjp((t: Tensor) => t.square(), v);
      expect(y.toArray()).toEqual([1, 4, 9]);
      expect(pullback(wg.ones([3], F64))[0].toArray()).toEqual([2, 4, 6]);
      const [, tangent] = wg.jvp((t: Tensor) => t.square(), [v], [wg.ones([3], F64)]);
      expect((tangent as Tensor).toArray()).toEqual([2, 4, 6]);
    });
    wg.dispose([v, sq]);
  });
});

// ———————————————————————————————————————————————————————————— initialisers and module registration

describe('initialisers and module registration name what they got', () => {
  it('nn.init: a shape that is not an array of sizes, a gain that is not a finite number', () => {
    expectError(() => nn.init.xavierUniform(null as any), wg.ValueError, ['nn.init.xavierUniform', 'shape', 'got null']);
    expectError(() => nn.init.kaimingNormal('2x2' as any), wg.ValueError, ['nn.init.kaimingNormal', 'shape', '2x2']);
    expectError(() => nn.init.orthogonal([2, -1]), wg.ValueError, ['nn.init.orthogonal', 'shape', '-1']);
    expectError(() => nn.init.xavierNormal([2, 2], Symbol('g') as any), wg.ValueError, ['nn.init.xavierNormal: gain must be a finite number', 'got a symbol']);
    expectError(() => nn.init.xavierUniform([2, 2], 1n as any), wg.ValueError, ['nn.init.xavierUniform: gain', 'got the bigint 1']);
    expectError(() => nn.init.fanInAndOut('fan', [3]), wg.ValueError, ['fan: fan in and fan out can not be computed', '[3]']);
  });

  it('Module: names and prefixes that are not strings', () => {
    const lin = new nn.Linear(2, 1);
    expectError(() => lin.registerBuffer(1n as any, null), wg.ValueError, ['registerBuffer: name must be a non-empty string', 'got the bigint 1']);
    expectError(() => lin.registerModule(Symbol('m') as any, new nn.ReLU()), wg.ValueError, ['registerModule: name must be a non-empty string', 'got a symbol']);
    expectError(() => lin.registerModule('m', 3 as any), wg.ValueError, ["registerModule: 'm' must be a Module", 'got the number 3']);
    expectError(() => lin.namedModules(5 as any), wg.ValueError, ['namedModules: prefix must be a string', 'got the number 5']);
    expectError(() => lin.train('yes' as any), wg.ValueError, ['train: mode must be a boolean', 'got the string "yes"']);
    lin.dispose();
  });
});
