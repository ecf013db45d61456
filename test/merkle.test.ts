// RFC 9162 hashing and proofs: the roots of trees kept as stored complete subtrees (as the sealer keeps them) equal
// the RFC's recursive definition, and every inclusion and consistency proof verifies with the RFC's verification
// algorithms; a proof for another leaf, size or root, or with one hash changed, does not.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  EMPTY_ROOT,
  appendLeaf,
  consistencyPath,
  frontierKeys,
  frontierRoot,
  inclusionPath,
  leafHash,
  nodeHash,
  rootHash,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
  type Frontier,
} from '../src/audit/merkle.js';

/** MTH(D[n]) exactly as RFC 9162 §2.1.1 defines it, over the leaf hashes. */
function reference(leaves: string[]): string {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return nodeHash(reference(leaves.slice(0, k)), reference(leaves.slice(k)));
}

/** A tree of `n` leaves grown leaf by leaf, keeping every complete subtree, as the sealer stores them. */
function grow(n: number) {
  const nodes = new Map<string, string>();
  const f: Frontier = { size: 0, edge: [] };
  const leaves: string[] = [];
  const roots: string[] = [EMPTY_ROOT];
  for (let i = 0; i < n; i++) {
    const leaf = leafHash(`entry ${i}`);
    leaves.push(leaf);
    appendLeaf(f, leaf, (level, index, hash) => nodes.set(`${level}:${index}`, hash));
    roots.push(frontierRoot(f));
  }
  const get = (level: number, index: number) => {
    const h = nodes.get(`${level}:${index}`);
    if (h === undefined) throw new Error(`no subtree ${level}:${index}`);
    return h;
  };
  return { leaves, get, roots, f };
}

const flip = (h: string) => (h[0] === '0' ? '1' : '0') + h.slice(1);

describe('RFC 9162 Merkle tree', () => {
  test('the known test vector: the empty tree and one leaf', () => {
    expect(EMPTY_ROOT).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // SHA-256 of the single byte 0x00: the leaf hash of an empty entry.
    expect(leafHash('')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });

  test('roots from stored subtrees and from the frontier equal the RFC definition at every size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (n) => {
        const t = grow(n);
        for (let m = 1; m <= n; m++) expect(rootHash(t.get, m)).toBe(reference(t.leaves.slice(0, m)));
        expect(t.roots[n]).toBe(reference(t.leaves));
        expect(t.f.edge.map(([level, index]) => ({ level, index }))).toEqual(frontierKeys(n));
      }),
      { numRuns: 25 },
    );
  });

  test('inclusion proofs verify, and fail for another leaf, index or root', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        ([n, i]) => {
          const t = grow(n);
          const root = t.roots[n]!;
          const proof = inclusionPath(t.get, i, n);
          expect(verifyInclusion(i, n, t.leaves[i]!, proof, root)).toBe(true);
          expect(verifyInclusion(i, n, leafHash('forged'), proof, root)).toBe(false);
          expect(verifyInclusion(i, n, t.leaves[i]!, proof, flip(root))).toBe(false);
          if (n > 1) {
            const j = (i + 1) % n;
            expect(verifyInclusion(j, n, t.leaves[i]!, proof, root)).toBe(false);
            expect(proof.length).toBeGreaterThan(0);
            const k = i % proof.length;
            expect(
              verifyInclusion(
                i,
                n,
                t.leaves[i]!,
                proof.map((p, x) => (x === k ? flip(p) : p)),
                root,
              ),
            ).toBe(false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test('consistency proofs verify between any two sizes, and fail for a changed prefix, root or proof', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 400 })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)))
          .map(([m, n]) => [m, n] as const),
        ([m, n]) => {
          const t = grow(n);
          const proof = consistencyPath(t.get, m, n);
          expect(verifyConsistency(m, n, t.roots[m]!, t.roots[n]!, proof)).toBe(true);
          expect(verifyConsistency(m, n, flip(t.roots[m]!), t.roots[n]!, proof)).toBe(false);
          expect(verifyConsistency(m, n, t.roots[m]!, flip(t.roots[n]!), proof)).toBe(false);
          if (m < n) {
            expect(proof.length).toBeGreaterThan(0);
            for (let k = 0; k < proof.length; k++)
              expect(
                verifyConsistency(
                  m,
                  n,
                  t.roots[m]!,
                  t.roots[n]!,
                  proof.map((p, x) => (x === k ? flip(p) : p)),
                ),
              ).toBe(false);
            // A tree whose first m leaves differ (one rewritten leaf) is not an extension of the original.
            const other = [...t.leaves];
            other[m - 1] = leafHash('rewritten');
            expect(verifyConsistency(m, n, reference(other.slice(0, m)), t.roots[n]!, proof)).toBe(false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
