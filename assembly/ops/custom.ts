// Ops whose rules are JavaScript functions: customGrad, customJvp and checkpoint.
//
// The forward value is computed by the host with recording paused; one `custom` record then
// stands for the whole function (inputs → output, attribute 0 = the host's rule handle). When
// the sweep or forward mode reaches it, wasm calls back into the host, whose rule computes with
// ordinary (recording) wasmgrad ops — so custom rules differentiate again like built-in ones.

import { Op } from "../core/vocabulary";
import { needsGrad, fail, E_HOST } from "../core/tensor";
import { recording, recordOp, TO_TAPE, recordInput, recordAttr, recAttr, recordIndexOf, accumulate } from "../engine/tape";
import { sumTo } from "./reduce";

// kind 0: VJP (g is the output's adjoint); kind 1: JVP (set the output's tangent).
@external("host", "customRule")
declare function hostRule(kind: i32, handle: i32, record: i32, g: i32): i32;

/** Records a custom op over the `n` input ids at `ids` producing `out`, when any input needs it. */
export function recordCustom(handle: i32, out: i32, ids: u32, n: i32): void {
  if (!recording()) return;
  let any = false;
  for (let k = 0; k < n; k++) if (needsGrad(load<i32>(ids + (<u32>k << 2)))) { any = true; break; }
  if (!any || !recordOp(TO_TAPE, Op.custom, out)) return;
  for (let k = 0; k < n; k++) recordInput(load<i32>(ids + (<u32>k << 2)));
  recordAttr(<f64>handle);
}

export function vjpCustom(op: i32, r: u32, g: i32): void {
  if (hostRule(0, <i32>recAttr(r, 0), recordIndexOf(r), g) != 0) fail(E_HOST, op);
}

export function jvpCustom(op: i32, r: u32): void {
  if (hostRule(1, <i32>recAttr(r, 0), recordIndexOf(r), 0) != 0) fail(E_HOST, op);
}

/** The host's custom VJP adds its contribution for input x through here. */
export function accumulateInto(x: i32, contrib: i32): void {
  accumulate(x, sumTo(contrib, x));
}
