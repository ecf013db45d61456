// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and their verification, as pure functions.
// The service computes proofs from stored complete subtrees (`SubtreeHash`); the offline verifier checks them with
// the RFC's verification algorithms (§2.1.3.2, §2.1.4.2). Hashes are lower-case hex strings.
import { createHash } from 'node:crypto';

const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** MTH({d}) = SHA-256(0x00 || d). */
export const leafHash = (entry: string | Buffer): string =>
  sha256(LEAF, typeof entry === 'string' ? Buffer.from(entry, 'utf8') : entry).toString('hex');

/** SHA-256(0x01 || left || right). */
export const nodeHash = (left: string, right: string): string =>
  sha256(NODE, Buffer.from(left, 'hex'), Buffer.from(right, 'hex')).toString('hex');

/** MTH({}) = SHA-256(). */
export const EMPTY_ROOT = sha256().toString('hex');

/** The largest power of two smaller than n (n > 1): the RFC's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The hash of the complete subtree at `level` covering leaves [index·2^level, (index+1)·2^level). */
export type SubtreeHash = (level: number, index: number) => string;

const isPowerOfTwo = (n: number) => n > 0 && Number.isInteger(Math.log2(n));

/**
 * MTH(D[a:b]) from complete subtrees. In every range the RFC's recursions ask about, `a` is a multiple of the
 * largest power of two not above b − a, so a range is either one stored subtree or splits into one and a rest.
 */
export function rangeHash(get: SubtreeHash, a: number, b: number): string {
  const n = b - a;
  if (n <= 0) throw new Error(`empty range [${a}, ${b})`);
  if (isPowerOfTwo(n) && a % n === 0) return get(Math.log2(n), a / n);
  const k = splitPoint(n);
  return nodeHash(rangeHash(get, a, a + k), rangeHash(get, a + k, b));
}

/** The root of a tree of `size` leaves (RFC 9162 §2.1.1). */
export const rootHash = (get: SubtreeHash, size: number): string => (size === 0 ? EMPTY_ROOT : rangeHash(get, 0, size));

/** PATH(m, D[a:b]) of RFC 9162 §2.1.3.1: the audit path of leaf m (0-based) in the tree of leaves [a, b). */
function path(get: SubtreeHash, m: number, a: number, b: number): string[] {
  const n = b - a;
  if (n === 1) return [];
  const k = splitPoint(n);
  return m - a < k
    ? [...path(get, m, a, a + k), rangeHash(get, a + k, b)]
    : [...path(get, m, a + k, b), rangeHash(get, a, a + k)];
}

/** The inclusion proof of leaf `index` (0-based) in the tree of the first `size` leaves. */
export function inclusionPath(get: SubtreeHash, index: number, size: number): string[] {
  if (!(index >= 0 && index < size)) throw new Error(`leaf ${index} is not in a tree of ${size}`);
  return path(get, index, 0, size);
}

/** SUBPROOF(m, D[a:b], flag) of RFC 9162 §2.1.4.1. */
function subproof(get: SubtreeHash, m: number, a: number, b: number, complete: boolean): string[] {
  const n = b - a;
  if (m === n) return complete ? [] : [rangeHash(get, a, b)];
  const k = splitPoint(n);
  return m <= k
    ? [...subproof(get, m, a, a + k, complete), rangeHash(get, a + k, b)]
    : [...subproof(get, m - k, a + k, b, false), rangeHash(get, a, a + k)];
}

/** The consistency proof between the trees of the first `from` and the first `to` leaves (0 < from ≤ to). */
export function consistencyPath(get: SubtreeHash, from: number, to: number): string[] {
  if (!(from > 0 && from <= to)) throw new Error(`no consistency proof from ${from} to ${to}`);
  return subproof(get, from, 0, to, true);
}

/**
 * Runs a proof computation twice: once to learn which subtrees it reads, then, after `load` fetched them all at
 * once (one SQL statement), for real. The subtrees an algorithm reads depend on the sizes only, never on hashes.
 */
export async function withSubtrees<T>(
  compute: (get: SubtreeHash) => T,
  load: (keys: { level: number; index: number }[]) => Promise<Map<string, string>>,
): Promise<T> {
  const wanted = new Map<string, { level: number; index: number }>();
  compute((level, index) => {
    wanted.set(`${level}:${index}`, { level, index });
    return EMPTY_ROOT;
  });
  const found = await load([...wanted.values()]);
  return compute((level, index) => {
    const h = found.get(`${level}:${index}`);
    if (h === undefined) throw new MissingSubtreeError(level, index);
    return h;
  });
}

export class MissingSubtreeError extends Error {
  constructor(
    readonly level: number,
    readonly index: number,
  ) {
    super(`the log's stored tree lacks the subtree at level ${level}, index ${index}`);
  }
}

/**
 * Appending leaves to a tree kept as its complete subtrees: `frontier` holds the tree's right edge (one complete
 * subtree per set bit of its size, largest first); every subtree completed along the way is handed to `emit`.
 */
export interface Frontier {
  size: number;
  /** Complete subtrees on the right edge, left to right: [level, index, hash]. */
  edge: [number, number, string][];
}

export function frontierKeys(size: number): { level: number; index: number }[] {
  const keys: { level: number; index: number }[] = [];
  let start = 0;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (Math.floor(size / width) % 2 === 1) {
      keys.push({ level, index: start / width });
      start += width;
    }
  }
  return keys;
}

export function appendLeaf(f: Frontier, leaf: string, emit: (level: number, index: number, hash: string) => void) {
  let level = 0;
  let index = f.size;
  let hash = leaf;
  emit(level, index, hash);
  for (;;) {
    const last = f.edge[f.edge.length - 1];
    if (!last || last[0] !== level) break;
    f.edge.pop();
    hash = nodeHash(last[2], hash);
    level += 1;
    index = last[1] / 2;
    emit(level, index, hash);
  }
  f.edge.push([level, index, hash]);
  f.size += 1;
}

/** The root of the tree a frontier describes: its right-edge subtrees folded from the right. */
export function frontierRoot(f: Frontier): string {
  if (f.size === 0) return EMPTY_ROOT;
  let root = f.edge[f.edge.length - 1]![2];
  for (let i = f.edge.length - 2; i >= 0; i--) root = nodeHash(f.edge[i]![2], root);
  return root;
}

/** RFC 9162 §2.1.3.2: does `path` prove leaf `leaf` at `index` in the tree of `size` with root `root`? */
export function verifyInclusion(index: number, size: number, leaf: string, path: readonly string[], root: string) {
  if (index >= size || index < 0) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else r = nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r === root;
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree (size2, root2) extends the tree (size1, root1)? */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: string,
  root2: string,
  proof: readonly string[],
): boolean {
  if (size1 > size2 || size1 < 1) return false;
  if (size1 === size2) return proof.length === 0 && root1 === root2;
  let path = [...proof];
  if (path.length === 0) return false;
  // If first is an exact power of two, prepend first_hash to the path.
  if (isPowerOfTwo(size1)) path = [root1, ...path];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else sr = nodeHash(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr === root1 && sr === root2 && sn === 0;
}
