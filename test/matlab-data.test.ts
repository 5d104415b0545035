// MATLAB's data helpers (src/matlab/data.ts): onehotencode / onehotdecode with MATLAB's
// documentation example, and minibatchqueue with next, hasdata, reset and shuffle (functions and
// methods) over tensors, arrays of columns, iterables and MATLAB-style datastores: mini-batch
// sizes, 'collate' layout, PartialMiniBatch, MiniBatchFcn, OutputCast, MiniBatchFormat, the
// seeded shuffle, memory over an epoch, a MATLAB-style training loop, and bad input named.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, flat, expectNoLeak } from './helpers.js';
import { expectError } from './nn-helpers.js';
import { onehotencode, onehotdecode, minibatchqueue, next, hasdata, reset, shuffle, type MiniBatchQueue } from '../src/matlab/data.js';
import { crossentropy } from '../src/matlab/losses.js';
import { dims } from '../src/matlab/dlarray.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

/** expectError with the call in a tidy, so the arguments it makes are freed with it. */
const bad = (fn: () => unknown, cls: new (...a: any[]) => Error, parts: (string | RegExp)[]) => expectError(() => wg.tidy(fn), cls, parts);

describe('onehotencode / onehotdecode', () => {
  it('MATLAB\'s example: a column of colour labels, featureDim 2 in MATLAB (1 here), classes in sorted order', () => {
    expectNoLeak(() => wg.tidy(() => {
      const colors = ['red', 'blue', 'red', 'green', 'yellow', 'blue'].map((c) => [c]); // 6×1
      const encoded = onehotencode(colors, 1);
      expect(encoded.shape).toEqual([6, 4]);
      expect(encoded.dtype).toBe('float32'); // MATLAB's default 'single'
      // categories(categorical(colors)) = blue, green, red, yellow
      expect(encoded.toArray()).toEqual([[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]);
      const classes = ['blue', 'green', 'red', 'yellow'];
      expect(onehotdecode(encoded, classes, 1)).toEqual(['red', 'blue', 'red', 'green', 'yellow', 'blue']);
    }));
  });

  it('flat labels: featureDim 0 gives [K, B] (\'CB\'), 1 gives [B, K], for every B including 1', () => {
    expectNoLeak(() => wg.tidy(() => {
      expect(onehotencode(['b', 'a', 'c', 'a'], 0).toArray()).toEqual([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 1, 0]]);
      expect(onehotencode(['b', 'a', 'c', 'a'], 1).shape).toEqual([4, 3]);
      expect(onehotencode(['b'], 0, { ClassNames: ['a', 'b'] }).toArray()).toEqual([[0], [1]]);
      expect(onehotencode('b', 0, { ClassNames: ['a', 'b'] }).toArray()).toEqual([0, 1]);
      // [1, B] (MATLAB's row) with featureDim 0: the singleton is replaced
      expect(onehotencode([['b', 'a']], 0).toArray()).toEqual([[0, 1], [1, 0]]);
      // a 2-D label image with featureDim 2 (MATLAB's 3): [H, W] → [H, W, K]
      expect(onehotencode([[1, 2], [2, 3]], 2).toArray()).toEqual([[[1, 0, 0], [0, 1, 0]], [[0, 1, 0], [0, 0, 1]]]);
    }));
  });

  it('ClassNames, numbers sorted numerically, int32 tensors, undefined labels as NaN, typename', () => {
    expectNoLeak(() => wg.tidy(() => {
      expect(onehotencode([10, 2, 33], 0).toArray()).toEqual([[0, 1, 0], [1, 0, 0], [0, 0, 1]]);
      expect(onehotencode(wg.tensor([2, 0, 1], { dtype: 'int32' }), 0, { ClassNames: [0, 1, 2, 3] }).toArray())
        .toEqual([[0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 0]]);
      expect(onehotencode(['x', 'y'], 0, { ClassNames: ['y', 'x'] }).toArray()).toEqual([[0, 1], [1, 0]]);
      const undef = onehotencode(['a', null, 'z'], 0, 'ClassNames', ['a', 'b']).toArray() as number[][];
      expect(undef.map((r) => r[0])).toEqual([1, 0]);
      expect(undef.map((r) => r[1]).every(Number.isNaN)).toBe(true);
      expect(undef.map((r) => r[2]).every(Number.isNaN)).toBe(true);
      const d = onehotencode(['a', 'b'], 0, 'double');
      expect(d.dtype).toBe('float64');
      expect(onehotencode(['a', 'b'], 0, 'logical').toArray()).toEqual([[true, false], [false, true]]);
      expect(onehotencode(['a', 'b'], 0, 'int32', { ClassNames: ['b', 'a'] }).toArray()).toEqual([[0, 1], [1, 0]]);
    }));
  });

  it('onehotdecode: the largest score (the first on a tie, NaN ignored, all-NaN undefined), featureDim 0, typename', () => {
    expectNoLeak(() => wg.tidy(() => {
      const scores = wg.tensor([[0.1, 0.5, NaN, NaN], [0.7, 0.5, 0.2, NaN], [0.2, 0, 0.1, NaN]]); // [K, B]
      expect(onehotdecode(scores, ['cat', 'dog', 'fish'], 0)).toEqual(['dog', 'cat', 'dog', undefined]);
      expect(onehotdecode(scores, [3, 1, 2], 0, 'string')).toEqual(['1', '3', '1', undefined]);
      expect(onehotdecode([[0, 1], [1, 0]], ['1', '2'], 1, 'double')).toEqual([2, 1]);
      expect(onehotdecode([0.2, 0.8], ['a', 'b'], 0)).toBe('b');
      // round trip through onehotencode
      const labels = ['c', 'a', 'b', 'c', 'a'];
      expect(onehotdecode(onehotencode(labels, 0), ['a', 'b', 'c'], 0)).toEqual(labels);
    }));
  });

  it('bad input is named', () => {
    bad(() => onehotencode(['a', 'b'], 2), wg.ValueError, ['onehotencode', 'featureDim must be an integer in [0, 1]', 'labels have shape [2]']);
    bad(() => onehotencode(['a', 1], 0), wg.ValueError, ['onehotencode', 'labels mix string and number']);
    bad(() => onehotencode(['a', 'b'], 0, { ClassNames: [1, 2] }), wg.ValueError, ['onehotencode', 'the labels are strings but ClassNames holds numbers']);
    bad(() => onehotencode(['a', 'b'], 0, { ClassNames: ['a', 'a'] }), wg.ValueError, ['onehotencode', 'ClassNames lists "a" more than once']);
    bad(() => onehotencode(['a', 'z'], 0, 'int32', { ClassNames: ['a'] }), wg.ValueError, ['onehotencode', 'label "z"', "typename 'int32' cannot hold"]);
    bad(() => onehotencode(['a', 'b'], 0, 'half'), wg.ValueError, ['onehotencode', "typename must be 'single', 'double'", 'the string "half"']);
    bad(() => onehotencode([['a'], ['b', 'c']], 0), wg.ShapeError, ['onehotencode', 'labels is not rectangular']);
    bad(() => onehotencode(['a'], 0, { ClassName: ['a'] } as any), wg.ValueError, ['onehotencode', "unknown option 'ClassName'", "Did you mean 'ClassNames'?"]);
    bad(() => onehotdecode([[1, 0], [0, 1]], ['a', 'b', 'c'], 0), wg.ShapeError, ['onehotdecode', 'classes has 3 entries', 'has 2 along featureDim 0']);
    bad(() => onehotdecode([[1, 0]], ['a', 'b'], 2), wg.ValueError, ['onehotdecode', 'featureDim must be an integer in [0, 1]']);
    bad(() => onehotdecode([[1, 0]], ['a', 'b'], 1, 'table'), wg.ValueError, ['onehotdecode', "typename must be 'categorical', 'string', 'double' or 'single'"]);
  });
});

/** X [N, 2] with rows [2i, 2i + 1] and labels 0, 1, 2, 0, … (float64 and int32). */
const data = (n: number) => ({
  X: wg.tensor(Array.from({ length: 2 * n }, (_, i) => i), { shape: [n, 2], dtype: 'float64' }),
  T: wg.tensor(Array.from({ length: n }, (_, i) => i % 3), { dtype: 'int32' }),
});

/** The observation indices of a collated [2, b] batch of `data`'s X. */
const rowsOf = (x: Tensor) => (x.toArray() as number[][])[0].map((v) => v / 2);

describe('minibatchqueue', () => {
  it('over tensors [X, T]: mini-batches of MiniBatchSize in order, collated with the observations last; hasdata and next', () => {
    const { X, T } = data(10);
    const mbq = minibatchqueue([X, T], { MiniBatchSize: 4 });
    expect(mbq.MiniBatchSize).toBe(4);
    expect(mbq.NumOutputs).toBe(2);
    expect(mbq.PartialMiniBatch).toBe('return');
    expect(mbq.MiniBatchFcn).toBe('collate');
    expect(mbq.OutputCast).toEqual(['single', 'single']);
    const sizes: number[] = [];
    const seen: number[] = [];
    while (hasdata(mbq)) {
      const [x, t] = next(mbq) as Tensor[];
      expect(x.dtype).toBe('float32');
      expect(x.shape[0]).toBe(2);
      expect(t.shape).toEqual([1, x.shape[1]]); // a scalar per observation: [1, b]
      sizes.push(x.shape[1]);
      const rows = rowsOf(x);
      expect((x.toArray() as number[][])[1]).toEqual(rows.map((r) => 2 * r + 1));
      expect((t.toArray() as number[][])[0]).toEqual(rows.map((r) => r % 3));
      seen.push(...rows);
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(hasdata(mbq)).toBe(false);
    bad(() => next(mbq), wg.ValueError, ['minibatchqueue: no data left', 'reset(mbq) or shuffle(mbq)']);
    // reset: the same order again
    reset(mbq);
    expect(rowsOf((next(mbq) as Tensor[])[0])).toEqual([0, 1, 2, 3]);
    mbq.dispose();
    wg.dispose([X, T]);
  });

  it('defaults: MiniBatchSize 128, one output for a Tensor; PartialMiniBatch \'discard\'', () => {
    const X = wg.ones([300, 3]);
    const mbq = minibatchqueue(X);
    expect(mbq.MiniBatchSize).toBe(128);
    expect(mbq.NumOutputs).toBe(1);
    const sizes: number[] = [];
    for (const [x] of mbq) sizes.push((x as Tensor).shape[1]);
    expect(sizes).toEqual([128, 128, 44]);
    const discard = minibatchqueue(X, 'MiniBatchSize', 128, 'PartialMiniBatch', 'discard');
    const kept: number[] = [];
    for (const [x] of discard) kept.push((x as Tensor).shape[1]);
    expect(kept).toEqual([128, 128]);
    mbq.dispose();
    discard.dispose();
    X.dispose();
  });

  it('the method forms are the functions; the functions take only a queue', () => {
    const { X, T } = data(6);
    const a = minibatchqueue([X, T], { MiniBatchSize: 4 });
    expect(a.hasdata()).toBe(true);
    expect(rowsOf((a.next() as Tensor[])[0])).toEqual([0, 1, 2, 3]);
    a.reset();
    expect(rowsOf((a.next() as Tensor[])[0])).toEqual([0, 1, 2, 3]);
    bad(() => next({} as any), wg.ValueError, ['next: expected a minibatchqueue', 'an object']);
    bad(() => hasdata(X as any), wg.ValueError, ['hasdata: expected a minibatchqueue', 'a Tensor']);
    bad(() => reset(undefined as any), wg.ValueError, ['reset: expected a minibatchqueue']);
    bad(() => shuffle(a, 1 as any), wg.ValueError, ['shuffle: takes 1 argument']);
    a.dispose();
    wg.dispose([X, T]);
  });

  it('shuffle: a seeded new order (wg.seed, as MATLAB\'s rng), every observation once per epoch, and a reset', () => {
    const { X, T } = data(10);
    const mbq = minibatchqueue([X, T], { MiniBatchSize: 3 });
    const epoch = (): number[] => {
      const rows: number[] = [];
      while (hasdata(mbq)) {
        const [x, t] = next(mbq) as Tensor[];
        const r = rowsOf(x);
        expect((t.toArray() as number[][])[0]).toEqual(r.map((i) => i % 3)); // columns stay aligned
        rows.push(...r);
      }
      return rows;
    };
    wg.seed(7);
    shuffle(mbq);
    const first = epoch();
    expect([...first].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    reset(mbq);
    expect(epoch()).toEqual(first); // reset keeps the order
    mbq.shuffle();
    const second = epoch();
    expect(second).not.toEqual(first);
    wg.seed(7);
    shuffle(mbq);
    expect(epoch()).toEqual(first); // same seed, same order
    // shuffle mid-epoch starts again
    shuffle(mbq);
    next(mbq);
    shuffle(mbq);
    expect(epoch().length).toBe(10);
    mbq.dispose();
    wg.dispose([X, T]);
  });

  it('OutputCast, MiniBatchFormat (formatted dlarrays, labels checked against each output), OutputAsDlarray; images collate to \'SSCB\'', () => {
    const images = wg.tensor(Array.from({ length: 5 * 2 * 3 }, (_, i) => i), { shape: [5, 2, 3, 1] }); // [N, H, W, C]
    const labels = wg.tensor([0, 1, 0, 1, 1], { dtype: 'int32' });
    const mbq = minibatchqueue([images, labels], { MiniBatchSize: 2, MiniBatchFormat: ['SSCB', 'CB'], OutputCast: ['double', 'int32'] });
    expect(mbq.MiniBatchFormat).toEqual(['SSCB', 'CB']);
    expect(mbq.OutputCast).toEqual(['double', 'int32']);
    const [x, y] = next(mbq) as Tensor[];
    expect(x.shape).toEqual([2, 3, 1, 2]);
    expect(dims(x)).toBe('SSCB');
    expect(x.dtype).toBe('float64');
    expect(flat(x.toArray())).toEqual([0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]); // image 0 and image 1, observations last
    expect(y.dtype).toBe('int32');
    expect(dims(y)).toBe('CB');
    expect(y.toArray()).toEqual([[0, 1]]);
    mbq.dispose();
    // MATLAB's next() example: grayscale images [N, H, W] collate to [H, W, B]; 'SSBC' puts them in
    // MATLAB's canonical order, [H, W, 1, B] labelled 'SSCB'
    const gray = wg.tensor(Array.from({ length: 4 * 2 * 3 }, (_, i) => i), { shape: [4, 2, 3] });
    const four = labels.narrow(0, 0, 4);
    const q = minibatchqueue([gray, four], { MiniBatchSize: 2, MiniBatchFormat: ['SSBC', 'CB'] });
    const [g, l] = next(q) as Tensor[];
    expect(g.shape).toEqual([2, 3, 1, 2]);
    expect(dims(g)).toBe('SSCB');
    expect(l.shape).toEqual([1, 2]);
    expect(dims(l)).toBe('CB');
    q.dispose();
    wg.dispose([gray, four]);
    const unformatted = minibatchqueue([labels]);
    expect(dims(unformatted.next()[0] as Tensor)).toBe(''); // no MiniBatchFormat: unformatted
    unformatted.dispose();
    const wrong = minibatchqueue([images], { MiniBatchFormat: 'CB' });
    bad(() => next(wrong), wg.ValueError, ['minibatchqueue: output 0 has shape [2, 3, 1, 5]', "MiniBatchFormat 'CB' does not fit"]);
    wrong.dispose();
    const plain = minibatchqueue([labels], { OutputAsDlarray: false, MiniBatchSize: 5 });
    expect(next(plain)).toEqual([[[0, 1, 0, 1, 1]]]);
    plain.dispose();
    wg.dispose([images, labels]);
  });

  it('JS array columns: numbers become tensors, class names stay arrays; MiniBatchFcn gets one array of observations per variable', () => {
    const X = wg.tensor([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]);
    const names = ['cat', 'dog', 'cat', 'bird', 'dog'];
    const plain = minibatchqueue([X, names, [0.5, 1, 1.5, 2, 2.5]], { MiniBatchSize: 3 });
    const [x, n, w] = next(plain) as [Tensor, string[], Tensor];
    expect(x.toArray()).toEqual([[1, 3, 5], [2, 4, 6]]);
    expect(n).toEqual(['cat', 'dog', 'cat']);
    expect(w.toArray()).toEqual([[0.5, 1, 1.5]]);
    plain.dispose();
    bad(() => minibatchqueue([X, names], { MiniBatchFormat: ['CB', 'CB'] }).next(), wg.ValueError, ['output 1 is an array, not a tensor', "MiniBatchFormat 'CB'"]);
    // MATLAB's preprocessing pattern: concatenate the observations, one-hot encode the labels
    const classes = ['bird', 'cat', 'dog'];
    const mbq = minibatchqueue([X, names], {
      MiniBatchSize: 2,
      MiniBatchFcn: (xs: Tensor[], ys: string[]) => [wg.stack(xs, 1), onehotencode(ys, 0, { ClassNames: classes })],
      MiniBatchFormat: ['CB', 'CB'],
    });
    const batches: [number[][], number[][]][] = [];
    for (const [a, b] of mbq) batches.push([(a as Tensor).toArray(), (b as Tensor).toArray()]);
    expect(batches).toEqual([
      [[[1, 3], [2, 4]], [[0, 0], [1, 0], [0, 1]]],
      [[[5, 7], [6, 8]], [[0, 1], [1, 0], [0, 0]]],
      [[[9], [10]], [[0], [0], [1]]],
    ]);
    mbq.dispose();
    // numOutputs other than the variables: the function's outputs
    const three = minibatchqueue([X], 3, { MiniBatchFcn: (xs: Tensor[]) => [wg.stack(xs, 1), xs.length, wg.stack(xs, 1).sum()], MiniBatchSize: 5 });
    const [s, count, total] = next(three) as [Tensor, number, Tensor];
    expect(s.shape).toEqual([2, 5]);
    expect(count).toBe(5);
    expect(total.item()).toBe(55);
    three.dispose();
    const wrongCount = minibatchqueue([X], 2, { MiniBatchFcn: (xs: Tensor[]) => [wg.stack(xs, 1)] });
    bad(() => next(wrongCount), wg.ValueError, ['MiniBatchFcn must return an array of 2 outputs', 'an array of 1']);
    X.dispose();
  });

  it('iterables and MATLAB-style datastores: each read one observation (an array is a row of variables); shuffle through the datastore', () => {
    const rows = Array.from({ length: 5 }, (_, i) => [[i, 10 * i], `c${i % 2}`]);
    const iterable = { *[Symbol.iterator]() { for (const [v, c] of rows) yield [wg.tensor(v as number[]), c]; } };
    const before = wg.memory().liveTensors;
    const mbq = minibatchqueue(iterable, { MiniBatchSize: 2 });
    expect(mbq.NumOutputs).toBe(2);
    const got: [number[][], string[]][] = [];
    while (hasdata(mbq)) { const [a, b] = next(mbq) as [Tensor, string[]]; got.push([a.toArray(), b]); }
    expect(got).toEqual([[[[0, 1], [0, 10]], ['c0', 'c1']], [[[2, 3], [20, 30]], ['c0', 'c1']], [[[4], [40]], ['c0']]]);
    reset(mbq);
    expect(((next(mbq) as Tensor[])[0]).toArray()).toEqual([[0, 1], [0, 10]]);
    bad(() => shuffle(mbq), wg.ValueError, ['this datastore cannot be shuffled', 'no shuffle() method']);
    mbq.dispose();
    expect(wg.memory().liveTensors).toBe(before); // the tensors the iterable made were freed
    // a datastore: read / hasdata / reset / shuffle (returning a shuffled copy, as MATLAB's)
    const store = (values: number[]): any => {
      let i = 0;
      return {
        read: () => values[i++], hasdata: () => i < values.length, reset: () => { i = 0; },
        shuffle: () => store([...values].reverse()),
      };
    };
    const ds = minibatchqueue(store([1, 2, 3, 4, 5]), { MiniBatchSize: 2, PartialMiniBatch: 'discard' });
    const seen: number[][] = [];
    for (const [a] of ds) seen.push(flat((a as Tensor).toArray()));
    expect(seen).toEqual([[1, 2], [3, 4]]);
    shuffle(ds);
    expect(flat(((next(ds) as Tensor[])[0]).toArray())).toEqual([5, 4]);
    ds.dispose();
    // a generator object can be read once only
    bad(() => minibatchqueue((function* () { yield 1; })()), wg.ValueError, ['one-shot iterator', 'starts anew']);
    bad(() => minibatchqueue([] as any), wg.ValueError, ['ds is an empty array']);
    bad(() => minibatchqueue(new Set()), wg.ValueError, ['the datastore is empty']);
    const uneven = { *[Symbol.iterator]() { yield [1, 2]; yield [3]; } };
    bad(() => minibatchqueue(uneven, { MiniBatchSize: 2 }).next(), wg.ValueError, ['an observation with 1 variable', 'the first had 2']);
  });

  it('memory: batches belong to the queue, freed by the next next(), reset, shuffle or dispose; an epoch leaves nothing', () => {
    const { X, T } = data(20);
    const before = wg.memory().liveTensors;
    const mbq = minibatchqueue([X, T], { MiniBatchSize: 6 });
    const [x0] = next(mbq) as Tensor[];
    expect(x0.isAlive).toBe(true);
    const [x1] = next(mbq) as Tensor[];
    expect(x0.isAlive).toBe(false);
    reset(mbq);
    expect(x1.isAlive).toBe(false);
    for (let e = 0; e < 3; e++) {
      shuffle(mbq);
      while (hasdata(mbq)) {
        const [x, t] = next(mbq) as Tensor[];
        expect(x.isAlive && t.isAlive).toBe(true);
        expect(wg.memory().liveTensors - before).toBe(2); // only the batch held
      }
    }
    mbq.dispose();
    expect(wg.memory().liveTensors).toBe(before);
    // a loop whose body runs in tidy, as hot loops should
    const before2 = wg.memory().liveTensors;
    const q2 = minibatchqueue([X, T], { MiniBatchSize: 6 });
    for (let e = 0; e < 3; e++) {
      shuffle(q2);
      while (hasdata(q2)) wg.tidy(() => { const [x, t] = next(q2) as Tensor[]; return x.add(t).sum().item(); });
    }
    q2.dispose();
    expect(wg.memory().liveTensors).toBe(before2);
    wg.dispose([X, T]);
  });

  it('a MATLAB-style training loop: minibatchqueue → dlfeval → crossentropy → dlgradient; the loss falls; nothing leaks', () => {
    // two classes, separable: class 1 when x0 + x1 > 0
    const n = 64;
    const pts = Array.from({ length: n }, (_, i) => [Math.cos(i * 2.4) * (1 + (i % 5) / 5), Math.sin(i * 2.4) * (1 + (i % 3) / 3)]);
    const X = wg.tensor(pts, { dtype: 'float64' });
    const labels = pts.map(([a, b]) => (a + b > 0 ? 'up' : 'down'));
    const before = wg.memory().liveTensors;
    let W = wg.zeros([2, 2], { dtype: 'float64' });
    const mbq = minibatchqueue([X, labels], {
      MiniBatchSize: 16, OutputCast: 'double', MiniBatchFormat: ['CB', 'CB'],
      MiniBatchFcn: (xs: Tensor[], ys: string[]) => [wg.stack(xs, 1), onehotencode(ys, 0, 'double', { ClassNames: ['down', 'up'] })],
    });
    const modelLoss = (w: Tensor, x: Tensor, t: Tensor) => {
      const loss = crossentropy(wg.softmax(w.matmul(x), 0), t);
      return [loss, wg.dlgradient(loss, w)];
    };
    const epochLoss: number[] = [];
    wg.seed(3);
    for (let epoch = 0; epoch < 5; epoch++) {
      shuffle(mbq);
      let total = 0;
      while (hasdata(mbq)) {
        const [x, t] = next(mbq) as Tensor[];
        const [loss, g] = wg.dlfeval(modelLoss, W, x, t) as Tensor[];
        total += loss.item() as number;
        const W2 = W.sub(g);
        wg.dispose([W, loss, g]);
        W = W2;
      }
      epochLoss.push(total);
    }
    expect(epochLoss[4]).toBeLessThan(epochLoss[0] * 0.6);
    mbq.dispose();
    W.dispose();
    expect(wg.memory().liveTensors).toBe(before);
    X.dispose();
  });

  it('bad options and data are named', () => {
    const { X, T } = data(4);
    bad(() => minibatchqueue(X, { MiniBatchSize: 0 }), wg.ValueError, ['minibatchqueue: MiniBatchSize must be a positive integer', 'the number 0']);
    bad(() => minibatchqueue([X, wg.ones([3])]), wg.ShapeError, ['minibatchqueue: the columns have [4, 3] observations']);
    bad(() => minibatchqueue([X, 5 as any]), wg.ValueError, ['column 1 is the number 5', 'wrap it']);
    bad(() => minibatchqueue(X, { PartialMiniBatch: 'keep' as any }), wg.ValueError, ["PartialMiniBatch must be 'return' or 'discard'", "'keep'"]);
    bad(() => minibatchqueue(X, { OutputEnvironment: 'gpu' }), wg.ValueError, ["OutputEnvironment 'gpu'", 'no GPU']);
    bad(() => minibatchqueue(X, { OutputCast: 'uint8' }), wg.ValueError, ["OutputCast must be 'single'", 'the string "uint8"']);
    bad(() => minibatchqueue([X, T], { OutputCast: ['single'] }), wg.ValueError, ['OutputCast has 1 entries but there are 2 outputs']);
    bad(() => minibatchqueue([X, T], 3), wg.ValueError, ['numOutputs is 3 but ds has 2 variables', 'without a MiniBatchFcn']);
    bad(() => minibatchqueue(X, { MiniBatchFcn: 'stack' as any }), wg.ValueError, ["MiniBatchFcn must be 'collate' or a function"]);
    bad(() => minibatchqueue(X, { MiniBatchFormat: 'XY' }), wg.ValueError, ["MiniBatchFormat 'XY' has the label 'X'"]);
    bad(() => minibatchqueue(X, { MiniBatchSise: 2 } as any), wg.ValueError, ["unknown option 'MiniBatchSise'", "Did you mean 'MiniBatchSize'?"]);
    // names are case-insensitive, as MATLAB's
    const q = minibatchqueue(X, { minibatchsize: 2 } as any);
    expect(q.MiniBatchSize).toBe(2);
    q.dispose();
    bad(() => minibatchqueue(42 as any), wg.ValueError, ['ds must be a Tensor, an array of columns, an iterable or a datastore', 'the number 42']);
    wg.dispose([X, T]);
  });
});

// the queue type is exported for annotations
const typed: MiniBatchQueue | undefined = undefined;
void typed;
void expectClose;
