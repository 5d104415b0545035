// Forward mode: tangents travel beside primals.
//
// While a forward level is open, each tensor may carry a tangent (its T_TAN slot). Ops record
// as usual (the primals are watched, so everything on their path records), and right after an
// op's record is complete its JVP rule runs: it reads the inputs' tangents and sets the output's,
// using the same recording ops as everything else — so a tangent computed inside a reverse sweep
// (forward-over-reverse, Hessian-vector products) needs no second implementation.
//
// A record is complete once the next record starts or control returns to the host, so the JVP
// of the latest record runs lazily at either point (flushJvp).

import {
  rec, T_TAN, F_TANGENT, flagsOf, setFlags, isLive, fail, E_NO_RULE, dimOf, rankOf,
} from "../core/tensor";
import { recordAt, recOp, recOut, recNumInputs, recInput, tapeLength } from "./tape";
import { Op } from "../core/vocabulary";
import { jvpRule } from "./rules.generated";

let forwardDepth: i32 = 0;
let pending: i32 = -1; // index of the record whose JVP has not run yet
let inRule = false; // a JVP rule's own ops get no tangents (no forward-over-forward)

@inline export function tangentOf(id: i32): i32 { return load<i32>(rec(id), T_TAN); }

/** Sets x's tangent; the tangent lives until the forward level ends. */
export function setTangent(x: i32, t: i32): void {
  if (x == 0) return;
  store<i32>(rec(x), t, T_TAN);
  if (t != 0) setFlags(t, flagsOf(t) | F_TANGENT);
}

/** Called when record `i` has been started: its JVP runs once the record is complete. */
export function noteRecord(i: i32): void {
  if (forwardDepth > 0 && !inRule) pending = i;
}

/** Runs the JVP rule of the latest record, if it has one pending and a tangent flows in. */
export function flushJvp(): void {
  if (pending < 0) return;
  const r = recordAt(pending);
  pending = -1;
  let any = false;
  for (let k = 0, n = recNumInputs(r); k < n; k++) {
    const x = recInput(r, k);
    if (x != 0 && tangentOf(x) != 0) { any = true; break; }
  }
  if (!any) return;
  inRule = true;
  const op = recOp(r);
  jvpRule(op, r);
  inRule = false;
}

/** Opens a forward level; returns the tape position it starts at. */
export function forwardBegin(): i32 {
  flushJvp();
  forwardDepth++;
  return tapeLength();
}

/** Closes a forward level: every tangent set since `mark` is dropped (its tensor is ordinary again). */
export function forwardEnd(mark: i32): void {
  flushJvp();
  if (forwardDepth > 0) forwardDepth--;
  for (let i = mark, n = tapeLength(); i < n; i++) clearTangent(recOut(recordAt(i)));
}

export function clearTangent(x: i32): void {
  if (!isLive(x)) return;
  const t = tangentOf(x);
  if (t != 0 && isLive(t)) setFlags(t, flagsOf(t) & ~F_TANGENT);
  store<i32>(rec(x), 0, T_TAN);
}

export function forwardDepthNow(): i32 { return forwardDepth; }
export function inJvpRule(): bool { return inRule; }

/** True when shapes of a and b agree exactly. */
export function sameShape(a: i32, b: i32): bool {
  if (rankOf(a) != rankOf(b)) return false;
  for (let k = 0; k < rankOf(a); k++) if (dimOf(a, k) != dimOf(b, k)) return false;
  return true;
}
