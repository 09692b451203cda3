/**
 * Tiny deterministic 64-bit (two 32-bit lanes) FNV-1a style hasher — no crypto, no Node built-ins.
 * Not cryptographic: it is for replay/restore equality checks only.
 */
export class Hasher {
  private a = 0x811c9dc5;
  private b = 0x9747b28c;

  /** Feeds the UTF-16 code units of `s`, followed by a separator so "ab","c" ≠ "a","bc". */
  str(s: string): this {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = Math.imul(a ^ 0x1f, 0x01000193);
    b = Math.imul(b ^ 0x1f, 0x5bd1e995);
    this.a = a;
    this.b = b ^ (b >>> 13);
    return this;
  }

  /** Feeds a number via its decimal representation. */
  num(n: number): this {
    return this.str(String(n));
  }

  /** 16 lowercase hex chars. */
  digest(): string {
    let a = this.a;
    let b = this.b;
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    b ^= b >>> 16;
    b = Math.imul(b, 0xc2b2ae35);
    b ^= b >>> 16;
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }
}
