// examples/edge: the saliency worker in workerd on a loopback port, answering real HTTP requests
// with the same bits as Node's computation, rejecting bad requests with a 4xx and a message, and
// serving on afterwards.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { wg } from './helpers.js';
import { root, startWorkerd, type Workerd } from './runtimes/harness.js';
// @ts-expect-error plain JS module shared with the worker
import { INPUT, HIDDEN, CLASSES, glyph, loadParams, predict } from '../examples/edge/model.js';

const weights = new Uint8Array(readFileSync(path.join(root, 'examples/edge/weights.safetensors')));
let server: Workerd;
let params: Record<string, wg.Tensor>;

beforeAll(async () => {
  await wg.init();
  params = loadParams(wg, weights);
  server = await startWorkerd('examples/edge/config.capnp');
}, 60_000);
afterAll(async () => { await server?.stop(); }, 30_000);

const post = (body: BodyInit, init: RequestInit = {}): Promise<Response> =>
  fetch(`${server.url}/`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(20_000), ...init });

/** Plain-JS forward pass and input gradient of the committed network, in float64. */
function reference(input: number[]): { scores: number[]; saliency: number[] } {
  // The safetensors layout read by hand: u64 header length, JSON header, little-endian data.
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(weights.subarray(8, 8 + headerLength)));
  const f32 = (name: string): Float32Array => {
    const [begin, end] = header[name].data_offsets;
    expect(header[name].dtype).toBe('F32');
    return new Float32Array(weights.slice(8 + headerLength + begin, 8 + headerLength + end).buffer);
  };
  const w1 = f32('fc1.weight'), b1 = f32('fc1.bias'), w2 = f32('fc2.weight'), b2 = f32('fc2.bias');
  const x = input.map(Math.fround);
  const hidden = Array.from({ length: HIDDEN }, (_, j) => b1[j] + x.reduce((s, v, i) => s + v * w1[j * INPUT + i], 0));
  const scores = Array.from({ length: CLASSES.length }, (_, c) =>
    b2[c] + hidden.reduce((s, v, j) => s + Math.max(v, 0) * w2[c * HIDDEN + j], 0));
  const c = scores.indexOf(Math.max(...scores));
  const saliency = x.map((_, i) => hidden.reduce((s, v, j) => s + (v > 0 ? w2[c * HIDDEN + j] * w1[j * INPUT + i] : 0), 0));
  return { scores, saliency };
}

const samples = (): { cls: number; input: number[] }[] => {
  const random = wg.seededRandom(99);
  return Array.from({ length: 8 }, (_, i) => ({ cls: i % 4, input: glyph(i % 4, random) }));
};

async function expectServing(): Promise<void> {
  const { input } = samples()[1];
  const res = await post(JSON.stringify({ input }));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual(predict(wg, params, input));
}

describe('examples/edge in workerd', () => {
  it('answers with the prediction and the saliency map, bit for bit as Node computes them', { timeout: 60_000 }, async () => {
    for (const { cls, input } of samples()) {
      const res = await post(JSON.stringify({ input }));
      expect(res.status).toBe(200);
      const got = await res.json();
      const node = predict(wg, params, input);
      expect(got).toEqual(node);
      expect(got.prediction).toBe(cls);
      expect(got.label).toBe(CLASSES[cls]);
      expect(got.saliency).toHaveLength(INPUT);
      expect(got.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
      // Against an independent plain-JS computation of the network and its input gradient.
      const ref = reference(input);
      got.scores.forEach((s: number, k: number) => expect(s).toBeCloseTo(ref.scores[k], 4));
      got.saliency.forEach((s: number, k: number) => expect(s).toBeCloseTo(ref.saliency[k], 4));
    }
  });

  it('serves concurrent requests', { timeout: 60_000 }, async () => {
    const all = samples();
    const answers = await Promise.all(all.concat(all).map(({ input }) => post(JSON.stringify({ input })).then((r) => r.json())));
    answers.forEach((a, i) => expect(a).toEqual(predict(wg, params, all[i % all.length].input)));
  });

  const rejects: [string, () => Promise<Response>, number, RegExp][] = [
    ['a GET', () => fetch(`${server.url}/`, { signal: AbortSignal.timeout(20_000) }), 405, /^POST \{"input": \[64 numbers\]\}/],
    ['an oversized body (declared length)', () => post(JSON.stringify({ input: new Array(20_000).fill(0.5) })), 400,
      /^body too large: \d+ bytes, at most 16384$/],
    ['an oversized body (chunked, no length)', () => post(new ReadableStream({
      start(c) { for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode(' '.repeat(1024))); c.close(); },
    }), { duplex: 'half' } as RequestInit), 400, /^body too large: more than 16384 bytes$/],
    ['malformed JSON', () => post('{"input": [0.1, 0.2'), 400, /^malformed JSON: /],
    ['an empty body', () => post(''), 400, /^malformed JSON: /],
    ['a JSON array', () => post('[1, 2, 3]'), 400, /^expected a JSON object \{"input": \[64 numbers\]\}$/],
    ['a short input', () => post(JSON.stringify({ input: [1, 2, 3] })), 400, /^input must hold 64 numbers \(an 8×8 glyph, row-major\), got 3$/],
    ['a non-number', () => post(JSON.stringify({ input: [...new Array(63).fill(0), 'x'] })), 400, /^input\[63\] must be a finite number, got "x"$/],
    ['a null (what JSON makes of NaN)', () => post(JSON.stringify({ input: [NaN, ...new Array(63).fill(0)] })), 400,
      /^input\[0\] must be a finite number, got null$/],
  ];
  for (const [what, send, status, message] of rejects) {
    it(`rejects ${what} with ${status} and a message, then keeps serving`, { timeout: 60_000 }, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect((await res.json()).error).toMatch(message);
      await expectServing();
    });
  }
});
