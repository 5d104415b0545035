// Matrix products: batched matmul with broadcast batch dims and transposed operands.
import { fail, E_NO_RULE } from "./tensor";

export function vjpMatmul(op: i32, r: u32, g: i32): void {
  fail(E_NO_RULE, op);
}
