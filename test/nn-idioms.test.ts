// The nn idioms a PyTorch program writes: nn.ModuleList / nn.ModuleDict (their entries are
// submodules, trained and saved under PyTorch's names), module.apply(fn) (children first, as
// PyTorch), torch.nn.init's in-place initialisers (same tensor, same id, seeded values) and
// size(x, dim?) (PyTorch's x.size(d)). Values, names, errors named, no leaks.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectError, expectNoLeak, expectSameBits, flat } from './helpers.js';
import type { Tensor } from '../src/index.js';

const { nn, optim, io } = wg;
const { init } = nn;

beforeAll(async () => { await wg.init(); });

class Stack extends nn.Module {
  layers: InstanceType<typeof nn.ModuleList>;
  heads: InstanceType<typeof nn.ModuleDict>;
  constructor() {
    super();
    this.layers = new nn.ModuleList([new nn.Linear(3, 4), new nn.Linear(4, 4)]);
    this.heads = new nn.ModuleDict({ a: new nn.Linear(4, 2), b: new nn.Sequential(new nn.ReLU(), new nn.Linear(4, 1)) });
  }
  forward(x: Tensor): Tensor {
    for (const layer of this.layers) x = layer.call(x).tanh();
    return this.heads.get('a').call(x).sum().add(this.heads.get('b').call(x).sum());
  }
}

describe('nn.ModuleList', () => {
  it("registers its entries as '0', '1', … : PyTorch's names in parameters, stateDict and saved files", () => {
    expectNoLeak(() => {
      const net = new Stack();
      expect(Object.keys(net.stateDict())).toEqual([
        'layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias',
        'heads.a.weight', 'heads.a.bias', 'heads.b.1.weight', 'heads.b.1.bias',
      ]);
      expect(net.parameters().length).toBe(8);
      expect(net.namedModules().map(([n]) => n)).toEqual(['', 'layers', 'layers.0', 'layers.1', 'heads', 'heads.a', 'heads.b', 'heads.b.0', 'heads.b.1']);
      // a round trip through safetensors into a fresh network
      const bytes = io.save(net);
      const other = new Stack();
      io.load(bytes, other);
      for (const [k, t] of Object.entries(other.stateDict())) expect(flat(t.toArray())).toEqual(flat(net.stateDict()[k].toArray()));
      expect(String(net)).toContain('(layers): ModuleList(\n    (0): Linear');
      net.dispose(); other.dispose();
    });
  });

  it('its parameters are trained: an optimizer over the module changes every layer', () => {
    expectNoLeak(() => {
      wg.seed(3);
      const net = new Stack();
      const before = net.parameters().map((p) => flat(p.toArray()));
      const opt = new optim.SGD(net, { lr: 0.1 });
      const x = wg.keep(wg.rand([5, 3]));
      wg.tidy(() => { const [, g] = wg.valueAndGrad((m: Stack) => m.call(x))(net); opt.step(g); });
      net.parameters().forEach((p, i) => expect(flat(p.toArray())).not.toEqual(before[i]));
      opt.dispose(); net.dispose(); x.dispose();
    });
  });

  it('append, extend, insert, set, pop, at (negative too), iteration and length renumber as PyTorch', () => {
    expectNoLeak(() => {
      const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((n) => new nn.Linear(1, n));
      const list = new nn.ModuleList();
      expect(list.length).toBe(0);
      expect(list.append(a)).toBe(list);
      list.extend([b, c]);
      expect([...list]).toEqual([a, b, c]);
      list.insert(1, d);
      expect([...list]).toEqual([a, d, b, c]);
      expect(Object.keys(list.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias', '3.weight', '3.bias']);
      expect(list.stateDict()['1.weight'].shape).toEqual([4, 1]);
      expect(list.at(-1)).toBe(c);
      expect(list.at(0)).toBe(a);
      expect((list as any)[1]).toBe(d);
      list.insert(-1, e); // before the last, as Python's list.insert
      expect([...list]).toEqual([a, d, b, e, c]);
      expect(list.pop(1)).toBe(d);
      expect(list.pop()).toBe(c);
      expect([...list]).toEqual([a, b, e]);
      expect(list.length).toBe(3);
      expect((list as any)[3]).toBeUndefined();
      list.set(2, c);
      expect([...list]).toEqual([a, b, c]);
      expect(list.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2']);
      list.dispose();
      for (const m of [d, e]) m.dispose();
    });
  });

  it('errors are named: a non-module, an index out of range, forward on the container', () => {
    const list = new nn.ModuleList([new nn.Linear(1, 1)]);
    expectError(() => list.append({} as any), wg.ValueError, 'ModuleList.append: the module must be a Module, got');
    expectError(() => new nn.ModuleList([new nn.ReLU(), 3 as any]), wg.ValueError, 'ModuleList.extend: entry 1 must be a Module, got the number 3');
    expectError(() => new nn.ModuleList(5 as any), wg.ValueError, 'nn.ModuleList: expected an array (or iterable) of modules, got the number 5');
    expectError(() => list.at(1), wg.ValueError, 'ModuleList.at: index 1 is out of range for 1 module(s)');
    expectError(() => list.at(-2), wg.ValueError, 'ModuleList.at: index -2 is out of range');
    expectError(() => list.at(0.5), wg.ValueError, 'ModuleList.at: index must be an integer, got 0.5');
    expectError(() => list.insert(3, new nn.ReLU()), wg.ValueError, 'ModuleList.insert: index 3 is out of range');
    expectError(() => new nn.ModuleList().pop(), wg.ValueError, 'ModuleList.pop: the list is empty');
    expectError(() => list.call(wg.ones([1])), wg.ValueError, 'ModuleList: a ModuleList has no forward');
    expect(list.length).toBe(1);
    list.dispose();
    expectError(() => list.append(new nn.ReLU()), wg.DisposedError, 'ModuleList: the module was disposed; append');
  });
});

describe('nn.ModuleDict', () => {
  it('get / set / has / delete / keys / values / entries / size; iterating gives the keys, as PyTorch', () => {
    expectNoLeak(() => {
      const [p, q, r] = [new nn.Linear(2, 2), new nn.Linear(2, 3), new nn.Linear(2, 4)];
      const dict = new nn.ModuleDict([['p', p], ['q', q]]);
      expect(dict.size).toBe(2);
      expect(dict.get('q')).toBe(q);
      expect(dict.has('p')).toBe(true);
      expect(dict.set('keys', r)).toBe(dict); // any name without '.', even a method's
      expect([...dict]).toEqual(['p', 'q', 'keys']);
      expect([...dict.keys()]).toEqual(['p', 'q', 'keys']);
      expect([...dict.values()]).toEqual([p, q, r]);
      expect([...dict.entries()]).toEqual([['p', p], ['q', q], ['keys', r]]);
      expect(Object.keys(dict.stateDict())).toEqual(['p.weight', 'p.bias', 'q.weight', 'q.bias', 'keys.weight', 'keys.bias']);
      expect(dict.delete('q')).toBe(true);
      expect(dict.delete('q')).toBe(false);
      expect(dict.pop('p')).toBe(p);
      expect([...dict.keys()]).toEqual(['keys']);
      dict.update({ z: q });
      expect(Object.keys(dict.stateDict())).toEqual(['keys.weight', 'keys.bias', 'z.weight', 'z.bias']);
      dict.clear();
      expect(dict.size).toBe(0);
      for (const m of [p, q, r, dict]) m.dispose();
    });
  });

  it('nests under PyTorch names inside lists and Sequential, and loads back', () => {
    expectNoLeak(() => {
      const make = () => new nn.Sequential(new nn.ModuleDict({ enc: new nn.ModuleList([new nn.Linear(2, 2), new nn.LayerNorm([2])]) }));
      const a = make(), b = make();
      expect(Object.keys(a.stateDict())).toEqual(['0.enc.0.weight', '0.enc.0.bias', '0.enc.1.weight', '0.enc.1.bias']);
      b.loadStateDict(a.stateDict());
      expect(flat(b.stateDict()['0.enc.0.weight'].toArray())).toEqual(flat(a.stateDict()['0.enc.0.weight'].toArray()));
      a.dispose(); b.dispose();
    });
  });

  it('errors are named: a missing key (with the keys), a key with a dot, a non-module, forward', () => {
    const dict = new nn.ModuleDict({ a: new nn.ReLU() });
    expectError(() => dict.get('b'), wg.ValueError, "ModuleDict.get: no module under 'b' (keys: 'a')");
    expectError(() => dict.set('x.y', new nn.ReLU()), wg.ValueError, "ModuleDict.set: a key must be a non-empty string without '.', got \"x.y\"");
    expectError(() => dict.set('c', 1 as any), wg.ValueError, "ModuleDict.set: 'c' must be a Module, got the number 1");
    expectError(() => new nn.ModuleDict({ a: new nn.ReLU(), b: 'no' as any }), wg.ValueError, "ModuleDict.update: 'b' must be a Module");
    expectError(() => dict.call(), wg.ValueError, 'ModuleDict: a ModuleDict has no forward');
    expect([...dict]).toEqual(['a']);
    dict.dispose();
  });

  it('an array or plain object of modules in a field is an error that suggests ModuleList / ModuleDict', () => {
    class A extends nn.Module { constructor() { super(); (this as any).layers = [new nn.ReLU()]; } forward(x: Tensor) { return x; } }
    class B extends nn.Module { constructor() { super(); (this as any).heads = { a: new nn.ReLU() }; } forward(x: Tensor) { return x; } }
    expect(() => new A()).toThrow(/field 'layers' holds an array of modules, which would not be registered.*use nn\.ModuleList\(\[\.\.\.modules\]\)/);
    expect(() => new B()).toThrow(/field 'heads' holds a plain object of modules.*use nn\.ModuleDict\(/);
  });
});

describe('module.apply', () => {
  it('calls fn on every submodule, children first, then on the module, and returns it (PyTorch order)', () => {
    const net = new Stack();
    const seen: string[] = [];
    const names = new Map(net.namedModules().map(([n, m]) => [m, n]));
    expect(net.apply((m) => { seen.push(names.get(m)!); })).toBe(net);
    expect(seen).toEqual(['layers.0', 'layers.1', 'layers', 'heads.a', 'heads.b.0', 'heads.b.1', 'heads.b', 'heads', '']);
    expectError(() => net.apply(3 as any), wg.ValueError, 'Module.apply: fn must be a function of a module, got the number 3');
    net.dispose();
  });

  it('initialises in place: an optimizer made before apply keeps updating the same tensors', () => {
    expectNoLeak(() => {
      const net = new Stack();
      const opt = new optim.SGD(net, { lr: 0.5 });
      const ids = net.parameters().map((p) => p.id);
      net.apply((m) => {
        if (m instanceof nn.Linear) { init.constant_(m.weight, 0.25); if (m.bias) init.zeros_(m.bias); }
      });
      expect(net.parameters().map((p) => p.id)).toEqual(ids);
      expect(flat(net.layers.at(0).param('weight')!.toArray()).every((v) => v === 0.25)).toBe(true);
      wg.tidy(() => opt.step(net.parameters().map((p) => wg.onesLike(p))));
      expect(flat(net.layers.at(0).param('weight')!.toArray()).every((v) => v === 0.25 - 0.5)).toBe(true);
      expect(flat((net.heads.get('a') as any).bias.toArray())).toEqual([-0.5, -0.5]);
      opt.dispose(); net.dispose();
    });
  });
});

describe('nn.init in place (trailing underscore)', () => {
  const cases: [string, (t: Tensor) => Tensor, (shape: number[], dtype: 'float32' | 'float64') => Tensor][] = [
    ['uniform_', (t) => init.uniform_(t, -2, 3), (s, dtype) => init.uniformInit(s, -2, 3, { dtype })],
    ['normal_', (t) => init.normal_(t, 1, 0.5), (s, dtype) => init.normalInit(s, 1, 0.5, { dtype })],
    ['xavierUniform_', (t) => init.xavierUniform_(t, 2), (s, dtype) => init.xavierUniform(s, 2, { dtype })],
    ['xavierNormal_', (t) => init.xavierNormal_(t), (s, dtype) => init.xavierNormal(s, 1, { dtype })],
    ['kaimingUniform_', (t) => init.kaimingUniform_(t, Math.sqrt(5)), (s, dtype) => init.kaimingUniform(s, { a: Math.sqrt(5), dtype })],
    ['kaimingNormal_', (t) => init.kaimingNormal_(t, 0, 'fan_out', 'relu'), (s, dtype) => init.kaimingNormal(s, { mode: 'fan_out', nonlinearity: 'relu', dtype })],
    ['orthogonal_', (t) => init.orthogonal_(t, 1.5), (s, dtype) => init.orthogonal(s, 1.5, { dtype })],
  ];
  for (const [name, inPlace, fresh] of cases) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} (${dtype}) writes the seeded values into the same tensor (same object and id) and returns it`, () => {
        expectNoLeak(() => {
          const t = wg.keep(wg.zeros([6, 4], { dtype }));
          const id = t.id;
          wg.seed(42);
          expect(inPlace(t)).toBe(t);
          expect(t.id).toBe(id);
          wg.seed(42);
          const expected = wg.tidy(() => fresh([6, 4], dtype).data());
          expectSameBits(t.data(), expected, name);
          expect(flat(t.toArray()).some((v) => v !== 0)).toBe(true);
          t.dispose();
        });
      });
    }
  }

  it('the distributions: bounds and moments with a fixed seed', () => {
    expectNoLeak(() => {
      wg.seed(7);
      const t = wg.keep(wg.zeros([200, 100], { dtype: 'float64' }));
      const v = () => flat(t.toArray());
      const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
      const std = (a: number[]) => { const m = mean(a); return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length); };
      init.uniform_(t, -1, 3);
      expect(Math.min(...v())).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...v())).toBeLessThan(3);
      expect(Math.abs(mean(v()) - 1)).toBeLessThan(0.05);
      init.normal_(t, 2, 0.5);
      expect(Math.abs(mean(v()) - 2)).toBeLessThan(0.02);
      expect(Math.abs(std(v()) - 0.5)).toBeLessThan(0.01);
      init.normal_(t); // PyTorch's defaults: mean 0, std 1
      expect(Math.abs(mean(v()))).toBeLessThan(0.03);
      expect(Math.abs(std(v()) - 1)).toBeLessThan(0.02);
      // fan_in 100, fan_out 200
      init.xavierUniform_(t);
      const xa = Math.sqrt(6 / 300);
      expect(Math.max(...v().map(Math.abs))).toBeLessThanOrEqual(xa);
      expect(Math.max(...v().map(Math.abs))).toBeGreaterThan(0.99 * xa);
      init.xavierNormal_(t);
      expect(Math.abs(std(v()) / Math.sqrt(2 / 300) - 1)).toBeLessThan(0.02);
      init.kaimingUniform_(t); // leaky_relu with a = 0: gain √2, bound √(6 / fan_in)
      const kb = Math.sqrt(6 / 100);
      expect(Math.max(...v().map(Math.abs))).toBeLessThanOrEqual(kb);
      expect(Math.max(...v().map(Math.abs))).toBeGreaterThan(0.99 * kb);
      init.kaimingNormal_(t, 0, 'fan_in', 'relu');
      expect(Math.abs(std(v()) / Math.sqrt(2 / 100) - 1)).toBeLessThan(0.02);
      t.dispose();
      // orthogonal_: rows orthonormal (a wide matrix), times the gain
      const q = wg.keep(wg.zeros([3, 5], { dtype: 'float64' }));
      init.orthogonal_(q, 2);
      const g = wg.tidy(() => q.matmul(q.t()).toArray()) as number[][];
      g.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(i === j ? 4 : 0, 12)));
      q.dispose();
    });
  });

  it('zeros_, ones_, constant_ (float and int32), through a module and an optimizer that holds the tensor', () => {
    expectNoLeak(() => {
      const lin = new nn.Linear(3, 2);
      const opt = new optim.SGD(lin, { lr: 1 });
      const w = lin.weight;
      expect(init.ones_(w)).toBe(w);
      expect(flat(lin.weight.toArray())).toEqual([1, 1, 1, 1, 1, 1]);
      init.zeros_(lin.bias!);
      wg.tidy(() => opt.step([wg.fullLike(w, 0.5), wg.onesLike(lin.bias!)]));
      expect(flat(w.toArray())).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
      expect(flat(lin.bias!.toArray())).toEqual([-1, -1]);
      init.constant_(w, -3);
      expect(lin.weight).toBe(w);
      expect(flat(w.toArray())).toEqual([-3, -3, -3, -3, -3, -3]);
      const i = wg.keep(wg.zeros([3], { dtype: 'int32' }));
      expect(flat(init.constant_(i, 7).toArray())).toEqual([7, 7, 7]);
      expect(i.dtype).toBe('int32');
      expect(flat(init.ones_(i).toArray())).toEqual([1, 1, 1]);
      opt.dispose(); lin.dispose(); i.dispose();
    });
  });

  it('errors are named: not a tensor, random values into int32, bad parameters, a vector for fan-based inits', () => {
    const t = wg.keep(wg.zeros([3]));
    const i = wg.keep(wg.zeros([3, 3], { dtype: 'int32' }));
    expectError(() => init.normal_([1, 2] as any), wg.ValueError, 'nn.init.normal_: expected a Tensor to fill in place, got');
    expectError(() => init.uniform_(i), wg.ValueError, 'nn.init.uniform_: can only fill a float32 or float64 tensor with random values, got int32 [3, 3]');
    expectError(() => init.normal_(t, 0, -1), wg.ValueError, 'nn.init.normal_: expects std >= 0, got std=-1');
    expectError(() => init.uniform_(t, 2, 1), wg.ValueError, 'nn.init.uniform_: expects a <= b, got a=2 > b=1');
    expectError(() => init.constant_(t, 'x' as any), wg.ValueError, 'nn.init.constant_: val must be a number');
    expectError(() => init.xavierUniform_(t), wg.ValueError, 'fewer than 2 dimensions');
    expectError(() => init.kaimingNormal_(wg.zeros([2, 2]), 0, 'fan' as any), wg.ValueError, "mode 'fan' not supported");
    expectError(() => init.zeros_(t, 1 as any), wg.ValueError, 'nn.init.zeros_');
    expect(flat(t.toArray())).toEqual([0, 0, 0]);
    const gone = wg.zeros([2]);
    gone.dispose();
    expectError(() => init.ones_(gone), wg.DisposedError, 'nn.init.ones_');
    t.dispose(); i.dispose();
  });
});

describe('size(x, dim?) (PyTorch x.size(d))', () => {
  it('the shape, one dim, negative dims; an AxisError naming the dim otherwise', () => {
    expectNoLeak(() => wg.tidy(() => {
      const x = wg.zeros([2, 3, 4]);
      expect(wg.size(x)).toEqual([2, 3, 4]);
      expect(wg.size(x, 0)).toBe(2);
      expect(wg.size(x, 2)).toBe(4);
      expect(wg.size(x, -1)).toBe(4);
      expect(wg.size(x, -3)).toBe(2);
      const s = wg.size(x);
      s[0] = 9; // a copy
      expect(x.shape).toEqual([2, 3, 4]);
      expect(wg.size(wg.tensor(1))).toEqual([]);
    }));
    expectError(() => wg.size(wg.zeros([2, 3]), 2), wg.AxisError, 'size: dim 2 is out of range for a tensor of rank 2 (expected [-2, 1])');
    expectError(() => wg.size(wg.zeros([2, 3]), -3), wg.AxisError, 'size: dim -3 is out of range');
    expectError(() => wg.size(wg.tensor(1), 0), wg.AxisError, 'size: dim 0 is out of range: the tensor has no dimensions');
    expectError(() => wg.size(wg.zeros([2]), 'a' as any), wg.ValueError, 'size: dim must be an integer');
    expectError(() => wg.size([1, 2] as any), wg.ValueError, 'size: expected a Tensor');
  });

  it('x.size(dim?) and x.numel() as PyTorch, the same as size(x, dim?)', () => {
    expectNoLeak(() => wg.tidy(() => {
      const x = wg.zeros([2, 3, 4]);
      expect(x.size()).toEqual([2, 3, 4]);
      expect(x.size(1)).toBe(3);
      expect(x.size(-1)).toBe(4);
      expect(x.size(-3)).toBe(2);
      for (const d of [0, 1, 2, -1, -2, -3]) expect(x.size(d)).toBe(wg.size(x, d));
      const s = x.size();
      s[0] = 9; // a copy
      expect(x.shape).toEqual([2, 3, 4]);
      expect(x.numel()).toBe(24);
      expect(wg.tensor(1).size()).toEqual([]);
      expect(wg.tensor(1).numel()).toBe(1);
      expect(wg.zeros([3, 0, 2]).numel()).toBe(0);
      expect(wg.zeros([3, 0, 2]).size(1)).toBe(0);
    }));
    const x = wg.zeros([2, 3]);
    expectError(() => x.size(2), wg.AxisError, 'size: dim 2 is out of range for a tensor of rank 2 (expected [-2, 1])');
    expectError(() => x.size(-3), wg.AxisError, 'size: dim -3 is out of range');
    expectError(() => wg.tensor(1).size(0), wg.AxisError, 'size: dim 0 is out of range: the tensor has no dimensions');
    expectError(() => x.size(1.5), wg.ValueError, 'size: dim must be an integer');
    expectError(() => (x.size as any)(0, 1), wg.ValueError, 'size');
    expect(x.size(0)).toBe(2); // still working after the errors
    x.dispose();
    expectError(() => x.size(), wg.DisposedError, 'size');
    expectError(() => x.numel(), wg.DisposedError, 'numel');
  });
});
