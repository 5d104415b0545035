// examples/edge: the saliency worker in workerd on a loopback port, answering real HTTP requests
// with the same bits as Node's computation, rejecting bad requests with a 4xx and a message (405
// wrong method, 415 wrong or missing Content-Type, 413 body too large, declared or counted, 400 bad
// JSON or input, including values outside float32's finite range), and serving on afterwards.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
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

/**
 * POSTs `body` to the worker with `Content-Type: application/json` (or `contentType`; a string body
 * with `contentType: null` would still get fetch's text/plain, so the missing header is tested raw).
 */
const post = (body: BodyInit, { contentType = 'application/json', ...init }: RequestInit & { contentType?: string | null } = {}): Promise<Response> => {
  const headers = new Headers(init.headers);
  if (contentType !== null) headers.set('content-type', contentType);
  return fetch(`${server.url}/`, { method: 'POST', body, signal: AbortSignal.timeout(20_000), ...init, headers });
};

interface RawResponse { status: number; headers: Record<string, string>; body: string; ms: number }

/**
 * Writes `head` (and then `body`, which need not be all that `head` promises) on a fresh TCP
 * connection, without an HTTP client in between, and resolves with the response once its body is
 * complete; rejects if none comes within `ms`. The connection is closed either way.
 */
function raw(head: string, body: string | Uint8Array = '', ms = 2_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket = connect(server.port, '127.0.0.1');
    let got = Buffer.alloc(0), settled = false;
    const settle = (f: () => void): void => { if (!settled) { settled = true; clearTimeout(timer); socket.destroy(); f(); } };
    const timer = setTimeout(() => settle(() => reject(new Error(`no complete response within ${ms} ms; got ${JSON.stringify(got.toString())}`))), ms);
    const parse = (): RawResponse | undefined => {
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine, ...lines] = got.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      let rest = got.subarray(end + 4);
      if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
        const parts: Buffer[] = [];
        for (;;) {
          const eol = rest.indexOf('\r\n');
          if (eol < 0) return undefined;
          const n = parseInt(rest.subarray(0, eol).toString(), 16);
          if (rest.length < eol + 2 + n + 2) return undefined;
          if (n === 0) break;
          parts.push(rest.subarray(eol + 2, eol + 2 + n));
          rest = rest.subarray(eol + 2 + n + 2);
        }
        rest = Buffer.concat(parts);
      } else if (rest.length < Number(headers['content-length'] ?? 0)) return undefined;
      return { status: Number(statusLine.split(' ')[1]), headers, body: rest.toString(), ms: performance.now() - start };
    };
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const res = parse();
      if (res) settle(() => resolve(res));
    });
    socket.on('close', () => settle(() => reject(new Error(`connection closed; got ${JSON.stringify(got.toString())}`))));
    socket.on('error', () => {}); // a reset after the answer is no failure; the close handler reports one before
    socket.write(head);
    if (body.length) socket.write(body);
  });
}

const sample = JSON.stringify({ input: new Array(64).fill(0.25) });

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

  /** An input of zeros with `v` at index `at`. */
  const withValue = (at: number, v: number): number[] => { const input = new Array(INPUT).fill(0); input[at] = v; return input; };
  const F32_MAX = 3.4028234663852886e38;
  // The smallest double that Math.fround rounds to Infinity: F32_MAX plus half its last place.
  const F32_OVERFLOW = 3.4028235677973366e38;
  const MUST = 'the values must be finite float32 numbers \\(magnitude below 3\\.4028235677973366e\\+38, which float32 rounds to Infinity\\)';

  const rejects: [string, () => Promise<Response>, number, RegExp][] = [
    ['a GET', () => fetch(`${server.url}/`, { signal: AbortSignal.timeout(20_000) }), 405, /^POST \{"input": \[64 numbers\]\}/],
    ['an oversized body (declared length)', () => post(JSON.stringify({ input: new Array(20_000).fill(0.5) })), 413,
      /^body too large: \d+ bytes, at most 16384$/],
    ['an oversized body (chunked, no length)', () => post(new ReadableStream({
      start(c) { for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode(' '.repeat(1024))); c.close(); },
    }), { duplex: 'half' } as RequestInit), 413, /^body too large: more than 16384 bytes$/],
    ['a text/plain body', () => post(sample, { contentType: 'text/plain' }), 415,
      /^unsupported Content-Type "text\/plain": send application\/json$/],
    ['a form body', () => post(sample, { contentType: 'application/x-www-form-urlencoded' }), 415,
      /^unsupported Content-Type "application\/x-www-form-urlencoded": send application\/json$/],
    ['a look-alike type (application/jsonx)', () => post(sample, { contentType: 'application/jsonx' }), 415,
      /^unsupported Content-Type "application\/jsonx": send application\/json$/],
    ['malformed JSON', () => post('{"input": [0.1, 0.2'), 400, /^malformed JSON: /],
    ['an empty body', () => post(''), 400, /^malformed JSON: /],
    ['a JSON array', () => post('[1, 2, 3]'), 400, /^expected a JSON object \{"input": \[64 numbers\]\}$/],
    ['a short input', () => post(JSON.stringify({ input: [1, 2, 3] })), 400, /^input must hold 64 numbers \(an 8×8 glyph, row-major\), got 3$/],
    ['a non-number', () => post(JSON.stringify({ input: [...new Array(63).fill(0), 'x'] })), 400,
      new RegExp(`^input\\[63\\] is "x", not a number: ${MUST}$`)],
    ['a null (what JSON makes of NaN)', () => post(JSON.stringify({ input: [NaN, ...new Array(63).fill(0)] })), 400,
      new RegExp(`^input\\[0\\] is null, not a number: ${MUST}$`)],
    ...([[3, 3.5e38, '3\\.5e\\+38'], [7, 1e39, '1e\\+39'], [8, -1e39, '-1e\\+39'], [20, 1e300, '1e\\+300'], [63, -1e300, '-1e\\+300'],
      [0, F32_OVERFLOW, '3\\.4028235677973366e\\+38'], [1, -F32_OVERFLOW, '-3\\.4028235677973366e\\+38']] as [number, number, string][])
      .map(([at, v, shown]): [string, () => Promise<Response>, number, RegExp] => [`${v} (Math.fround: ${Math.fround(v)})`,
        () => post(JSON.stringify({ input: withValue(at, v) })), 400,
        new RegExp(`^input\\[${at}\\] is ${shown}, outside float32's finite range: ${MUST}$`)]),
    ['1e400 (JSON.parse: Infinity)', () => post(`{"input": [${new Array(63).fill(0).join(', ')}, 1e400]}`), 400,
      new RegExp(`^input\\[63\\] is Infinity, outside float32's finite range: ${MUST}$`)],
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

  it('accepts values up to float32\'s largest finite magnitude, as Node computes them', async () => {
    for (const v of [F32_MAX, -F32_MAX, F32_OVERFLOW - 2 ** 75, 1e-50]) { // the third rounds down to F32_MAX
      expect(Number.isFinite(Math.fround(v))).toBe(true);
      const input = withValue(9, v);
      const res = await post(JSON.stringify({ input }));
      expect(res.status).toBe(200);
      // Through JSON, as the worker sends it (a non-finite score would travel as null).
      expect(await res.json()).toEqual(JSON.parse(JSON.stringify(predict(wg, params, input))));
    }
  });

  it('accepts application/json with parameters, in any case', async () => {
    const { input } = samples()[2];
    for (const contentType of ['application/json; charset=utf-8', 'Application/JSON;Charset=UTF-8', 'APPLICATION/JSON ; charset="utf-8"']) {
      const res = await post(JSON.stringify({ input }), { contentType });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(predict(wg, params, input));
    }
  });

  it('rejects a body without a Content-Type with 415 and a message, then keeps serving', async () => {
    const res = await raw(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${sample.length}\r\nConnection: close\r\n\r\n`, sample);
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body).error).toBe('missing Content-Type: send application/json');
    await expectServing();
  });

  it('answers a declared Content-Length of 10^12 with 413 at once, without waiting for the body', async () => {
    const res = await raw('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
      + 'Content-Length: 1000000000000\r\n\r\n', '{"input": [0.1, ', 2_000);
    expect(res.status).toBe(413);
    expect(res.ms).toBeLessThan(2_000);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body).error).toBe('body too large: 1000000000000 bytes, at most 16384');
    await expectServing();
  });

  it('answers a chunked body that grows past the limit with 413', async () => {
    const chunk = ' '.repeat(4096);
    const chunks = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
    const res = await raw('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
      + 'Transfer-Encoding: chunked\r\n\r\n', chunks, 5_000);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toBe('body too large: more than 16384 bytes');
    await expectServing();
  });
});
