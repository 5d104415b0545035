// safetensors: the byte layout, save → load → identical predictions (bytes and files), the
// PyTorch-made fixture (Conv2d + BatchNorm2d + Linear, int64 num_batches_tracked) loaded into the
// matching network with PyTorch's outputs, and bad files — truncated, malformed header, wrong
// dtype or shape, missing or unknown names — rejected with clear errors and no partial load.

import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, expectNoLeak, flat, rand64 } from './helpers.js';
import type { Tensor } from '../src/index.js';

const { nn, io } = wg;
const fixtureBytes = new Uint8Array(readFileSync(new URL('./fixtures/statedict.safetensors', import.meta.url)));
const fixture = JSON.parse(readFileSync(new URL('./fixtures/statedict.json', import.meta.url), 'utf8'));

beforeAll(async () => { await wg.init(); });

/** The network of make_fixtures.py: fc(relu(bn(conv(x))).flatten(1)). */
class TorchNet extends nn.Module {
  conv = this.registerModule('conv', new nn.Conv2d(1, 4, 3));
  bn = this.registerModule('bn', new nn.BatchNorm2d(4));
  fc = this.registerModule('fc', new nn.Linear(4 * 6 * 6, 3));
  forward(x: Tensor): Tensor { return this.fc.forward(this.bn.forward(this.conv.forward(x)).relu().flatten(1)); }
}

/** Builds a safetensors file from a header object and data bytes. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const head = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

function snapshot(m: InstanceType<typeof nn.Module>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, flat(t.toArray())]));
}

describe('the safetensors layout', () => {
  it('8-byte little-endian header length, JSON header with dtype / shape / data_offsets and __metadata__, aligned data', () => {
    const bytes = io.save({ b: wg.tensor([[1, 2, 3]], { dtype: 'float64' }), a: wg.tensor([1.5, -2]), c: wg.tensor([7, -8], { dtype: 'int32' }) }, { metadata: { who: 'test' } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header).toEqual({
      __metadata__: { who: 'test' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F64', shape: [1, 3], data_offsets: [8, 32] },
      c: { dtype: 'I32', shape: [2], data_offsets: [32, 40] },
    });
    const data = bytes.slice(8 + n);
    expect(Array.from(new Float32Array(data.buffer, 0, 2))).toEqual([1.5, -2]);
    expect(Array.from(new Float64Array(data.buffer, 8, 3))).toEqual([1, 2, 3]);
    expect(Array.from(new Int32Array(data.buffer, 32, 2))).toEqual([7, -8]);
    const back = io.load(bytes);
    expect(back.metadata).toEqual({ who: 'test' });
    expect(back.tensors.b.dtype).toBe('float64');
    expect(back.tensors.b.toArray()).toEqual([[1, 2, 3]]);
    expect(back.tensors.c.toArray()).toEqual([7, -8]);
    wg.dispose(back.tensors);
  });

  it('reads BOOL and I64 (as int32) and empty tensors', () => {
    const data = new Uint8Array(16 + 3);
    new BigInt64Array(data.buffer, 0, 2).set([5n, -6n]);
    data.set([1, 0, 1], 16);
    const bytes = file({ i: { dtype: 'I64', shape: [2], data_offsets: [0, 16] }, m: { dtype: 'BOOL', shape: [3], data_offsets: [16, 19] }, e: { dtype: 'F32', shape: [0, 4], data_offsets: [19, 19] } }, data);
    const { tensors } = io.load(bytes);
    expect(tensors.i.dtype).toBe('int32');
    expect(tensors.i.toArray()).toEqual([5, -6]);
    expect(tensors.m.toArray()).toEqual([true, false, true]);
    expect(tensors.e.shape).toEqual([0, 4]);
    wg.dispose(tensors);
  });
});

describe('save → load gives identical predictions', () => {
  it('bytes, into a fresh network of the same shape', () => {
    wg.seed(1);
    const a = new TorchNet();
    const x = wg.keep(wg.randn([2, 1, 8, 8]));
    wg.tidy(() => a.forward(wg.randn([5, 1, 8, 8]))); // moves the running statistics
    a.eval();
    const bytes = io.save(a);
    const b = new TorchNet();
    expect(io.load(bytes, b)).toBe(b);
    b.eval();
    expect(wg.tidy(() => flat(b.forward(x).toArray()))).toEqual(wg.tidy(() => flat(a.forward(x).toArray())));
    expect(snapshot(b)).toEqual(snapshot(a));
    expect(b.bn.buffer('num_batches_tracked')!.item()).toBe(1);
    [a, b].forEach((m) => m.dispose());
    x.dispose();
  });

  it('files in Node, float64 networks, no tensors left behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-io-'));
    try {
      const a = new nn.Sequential(new nn.Linear(3, 4, { dtype: 'float64' }), new nn.Tanh(), new nn.Linear(4, 2, { dtype: 'float64' }));
      const path = join(dir, 'net.safetensors');
      await io.save(a, path, { metadata: { note: 'x' } });
      const b = new nn.Sequential(new nn.Linear(3, 4, { dtype: 'float64' }), new nn.Tanh(), new nn.Linear(4, 2, { dtype: 'float64' }));
      const before = wg.memory();
      await io.load(path, b);
      expect(wg.memory().liveTensors).toBe(before.liveTensors);
      const x = rand64([5, 3]);
      expect(wg.tidy(() => b.forward(x).toArray())).toEqual(wg.tidy(() => a.forward(x).toArray()));
      const loaded = await io.load(path);
      expect(loaded.metadata).toEqual({ note: 'x' });
      expect(Object.keys(loaded.tensors)).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
      wg.dispose(loaded.tensors);
      [a, b].forEach((m) => m.dispose());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a state dict saved by PyTorch', () => {
  it('loads into the matching network by PyTorch names and predicts what PyTorch predicted', () => {
    const net = new TorchNet();
    expect(Object.keys(net.stateDict())).toEqual(fixture.names);
    io.load(fixtureBytes, net);
    expect(net.bn.buffer('num_batches_tracked')!.item()).toBe(fixture.numBatchesTracked);
    net.eval();
    const y = wg.tidy(() => net.forward(wg.tensor(fixture.x, { shape: fixture.xShape })).toArray());
    expectClose(y, fixture.y, 1e-5, 1e-6);
    expect(wg.tidy(() => net.predict(wg.tensor(fixture.x, { shape: fixture.xShape })).toArray())).toEqual(y);
    const { metadata, tensors } = io.load(fixtureBytes);
    expect(metadata).toEqual({ format: 'pt', made_by: 'make_fixtures.py' });
    expect(tensors['bn.num_batches_tracked'].dtype).toBe('int32');
    wg.dispose(tensors);
    net.dispose();
  });
});

describe('bad files are rejected with clear errors, and nothing is loaded', () => {
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['fewer than 8 bytes', () => fixtureBytes.slice(0, 5), /the file is truncated: 5 bytes, fewer than the 8-byte header length/],
    ['a header longer than the file', () => fixtureBytes.slice(0, 100), /the file is truncated: the header claims \d+ bytes but only 92 follow the length/],
    ['truncated data', () => fixtureBytes.slice(0, fixtureBytes.length - 4), /the file is truncated: 'fc\.weight' ends at byte \d+ of the data, which has \d+ bytes/],
    ['a header that is not JSON', () => file(null, new Uint8Array(0), '{"a": {"dtype": "F32",'), /the header is not valid JSON/],
    ['a header that is not an object', () => file([1, 2]), /the header must be a JSON object/],
    ['an unknown dtype', () => file({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /'w' has dtype F16; wasmgrad reads F32, F64, I32, I64 and BOOL/],
    ['offsets that do not match the shape', () => file({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /'w' \(F32 \[3\]\) needs 12 bytes but data_offsets \[0, 8\] span 8/],
    ['overlapping tensors', () => file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /data_offsets of 'b' start at 4, expected 8/],
    ['trailing bytes', () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(12)), /the data has 12 bytes but the tensors cover 4/],
    ['a huge header length', () => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; }, /header length 1099511627776 is larger than the limit/],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      const net = new TorchNet();
      const before = snapshot(net);
      const bytes = make();
      expect(() => io.load(bytes, net)).toThrow(io.SafetensorsError);
      expect(() => io.load(bytes, net)).toThrow(message);
      expectNoLeak(() => expect(() => io.load(bytes)).toThrow(message));
      expect(snapshot(net)).toEqual(before);
      net.dispose();
    });
  }

  it('a file that does not fit the network: missing and unknown names, wrong shape, wrong dtype', () => {
    const net = new TorchNet();
    const before = snapshot(net);
    const good = io.load(fixtureBytes).tensors;
    const { ['bn.running_var']: _v, ...missing } = good;
    expect(() => io.load(io.save(missing), net)).toThrow(/io\.load: the file does not match the network \(missing 'bn\.running_var'\); nothing was loaded/);
    expect(() => io.load(io.save({ ...good, 'bn.extra': good['bn.running_var'] }), net)).toThrow(/unknown 'bn\.extra'/);
    const wrongShape = { ...good, 'fc.bias': wg.zeros([4]) };
    expect(() => io.load(io.save(wrongShape), net)).toThrow(/'fc\.bias' has shape \[4\] in the file but \[3\] in the network; nothing was loaded/);
    const wrongDtype = { ...good, 'fc.bias': wg.zeros([3], { dtype: 'float64' }) };
    expect(() => io.load(io.save(wrongDtype), net)).toThrow(/'fc\.bias' is F64 in the file but float32 in the network; nothing was loaded/);
    expect(snapshot(net)).toEqual(before);
    // and the runtime keeps working: the good file loads
    io.load(io.save(good), net);
    expect(flat(net.fc.bias!.toArray())).toEqual(flat(good['fc.bias'].toArray()));
    wg.dispose([good, wrongShape['fc.bias'], wrongDtype['fc.bias']]);
    net.dispose();
  });

  it('argument errors', () => {
    expect(() => io.load('x' as any as Uint8Array, 5 as any)).toThrow(/io\.load: the second argument must be a Module, got the number 5/);
    expect(() => io.save({ a: 5 } as any)).toThrow(/io\.save: 'a' is not a Tensor/);
    expect(() => io.load(42 as any)).toThrow(/io\.load: expected safetensors bytes \(Uint8Array or ArrayBuffer\) or a file path \(string or URL\), got the number 42/);
  });
});
