// A workerd / Cloudflare Workers worker that classifies an 8×8 glyph and explains the answer:
//   POST / {"input": [64 numbers in [0, 1], row-major]}
//   → {"prediction", "label", "scores", "probabilities", "saliency": [64]}
// where saliency is the gradient of the predicted class's score with respect to the input.
// Bad requests (not POST, oversized, malformed JSON, wrong input) get a 4xx with a message and
// the worker keeps serving. The .wasm is a precompiled module handed to init, as workerd requires;
// the weights are safetensors bytes read by wasmgrad's io.

import * as wg from './wasmgrad.js';
import wasm from './wasmgrad.wasm';
import weights from './weights.safetensors'; // an ArrayBuffer (a data module)
import { INPUT, loadParams, predict } from './model.js';

const MAX_BODY = 16 * 1024;
// An oversized body up to this size is read and thrown away before the 400 goes out, so that the
// client, still sending, reads the answer instead of a reset connection; beyond it, we just stop.
const DRAIN_LIMIT = 1024 * 1024;
let params;

class BadRequest extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function drain(reader, size) {
  while (size <= DRAIN_LIMIT) {
    const { done, value } = await reader.read();
    if (done) return;
    size += value.length;
  }
  await reader.cancel();
}

async function readBody(request) {
  if (request.body === null) throw new BadRequest(400, 'empty body: send {"input": [64 numbers]}');
  const reader = request.body.getReader();
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY) {
    await drain(reader, 0);
    throw new BadRequest(400, `body too large: ${declared} bytes, at most ${MAX_BODY}`);
  }
  // The declared length may be absent (chunked): count while reading.
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY) {
      await drain(reader, size);
      throw new BadRequest(400, `body too large: more than ${MAX_BODY} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  return new TextDecoder().decode(bytes);
}

function parseInput(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new BadRequest(400, `malformed JSON: ${e.message}`);
  }
  const input = body?.input;
  if (!Array.isArray(input)) throw new BadRequest(400, 'expected a JSON object {"input": [64 numbers]}');
  if (input.length !== INPUT) throw new BadRequest(400, `input must hold ${INPUT} numbers (an 8×8 glyph, row-major), got ${input.length}`);
  const bad = input.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new BadRequest(400, `input[${bad}] must be a finite number, got ${JSON.stringify(input[bad])}`);
  return input;
}

const json = (status, value) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

export default {
  async fetch(request) {
    try {
      if (request.method !== 'POST') throw new BadRequest(405, 'POST {"input": [64 numbers]} to get a prediction and its saliency map');
      const input = parseInput(await readBody(request));
      if (params === undefined) {
        await wg.init(wasm);
        params = loadParams(wg, weights);
      }
      return json(200, predict(wg, params, input));
    } catch (e) {
      if (e instanceof BadRequest) return json(e.status, { error: e.message });
      return json(500, { error: `internal error: ${e.message}` });
    }
  },
};
