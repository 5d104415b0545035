// A workerd / Cloudflare Workers worker that classifies an 8×8 glyph and explains the answer:
//   POST / {"input": [64 numbers, row-major; the glyphs it was trained on are in [0, 1]]}
//   with Content-Type: application/json (parameters such as `; charset=utf-8` allowed, any case)
//   → 200 {"prediction", "label", "scores", "probabilities", "saliency": [64]}
// where saliency is the gradient of the predicted class's score with respect to the input.
// Bad requests get a JSON {"error": message} and the worker keeps serving:
//   405 Method Not Allowed       not a POST;
//   415 Unsupported Media Type   a Content-Type other than application/json, or none at all (a
//                                body whose type is unknown is not guessed at);
//   413 Payload Too Large        a declared Content-Length over 16 KiB, answered at once without
//                                reading the body, or a body (chunked, no length) that passes
//                                16 KiB while being read;
//   400 Bad Request              malformed JSON, not {"input": [...]}, not 64 entries, or an entry
//                                that is not a number or lies outside float32's finite range
//                                (Math.fround(x) finite, i.e. |x| < 3.4028235677973366e38, which
//                                float32 rounds to Infinity; the network computes in float32).
// The .wasm is a precompiled module handed to init, as workerd requires; the weights are
// safetensors bytes read by wasmgrad's io.

import * as wg from './wasmgrad.js';
import wasm from './wasmgrad.wasm';
import weights from './weights.safetensors'; // an ArrayBuffer (a data module)
import { INPUT, loadParams, predict } from './model.js';

const MAX_BODY = 16 * 1024;
// A body found too large while being read (no declared length) is read on and thrown away up to
// this size before the 413 goes out, so that a client still sending reads the answer instead of a
// reset connection; beyond it, we just stop. A declared length over MAX_BODY is refused before any
// of the body is read: nothing would be gained by waiting for it.
const DRAIN_LIMIT = 1024 * 1024;
// The smallest magnitude that float32 rounds to Infinity: its largest finite value,
// 3.4028234663852886e38, plus half its last place (the tie rounds to even, upwards).
const F32_OVERFLOW = 3.4028235677973366e38;
let params;

class BadRequest extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function checkContentType(request) {
  const type = request.headers.get('content-type');
  if (type === null) throw new BadRequest(415, 'missing Content-Type: send application/json');
  // The media type is what precedes any parameters; types are case-insensitive (RFC 9110 §8.3.1).
  if (type.split(';')[0].trim().toLowerCase() !== 'application/json') {
    throw new BadRequest(415, `unsupported Content-Type ${JSON.stringify(type)}: send application/json`);
  }
}

function checkDeclaredLength(request) {
  const header = request.headers.get('content-length');
  if (header === null) return;
  const declared = Number(header);
  if (declared > MAX_BODY) throw new BadRequest(413, `body too large: ${header} bytes, at most ${MAX_BODY}`);
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
  // The declared length may be absent (chunked), or understate: count while reading.
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY) {
      await drain(reader, size);
      throw new BadRequest(413, `body too large: more than ${MAX_BODY} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  return new TextDecoder().decode(bytes);
}

const MUST = `the values must be finite float32 numbers (magnitude below ${F32_OVERFLOW}, which float32 rounds to Infinity)`;

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
  input.forEach((v, i) => {
    if (typeof v !== 'number') throw new BadRequest(400, `input[${i}] is ${JSON.stringify(v)}, not a number: ${MUST}`);
    // The network computes in float32: a double that float32 rounds to ±Infinity (from
    // F32_OVERFLOW on; JSON's 1e400 parses to Infinity itself) would poison every score.
    if (!Number.isFinite(Math.fround(v))) throw new BadRequest(400, `input[${i}] is ${v}, outside float32's finite range: ${MUST}`);
  });
  return input;
}

const json = (status, value) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

export default {
  async fetch(request) {
    try {
      if (request.method !== 'POST') throw new BadRequest(405, 'POST {"input": [64 numbers]} to get a prediction and its saliency map');
      checkContentType(request);
      checkDeclaredLength(request);
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
