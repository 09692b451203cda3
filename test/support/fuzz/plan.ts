import { casesFor, controlCase, type FuzzCase } from './cases';
import { operationsOf, type OpenApiDocument, type Operation } from './openapi';
import { baseRequest, type Fixtures, type SeedProblem } from './seeds';

export interface Plan {
  operations: Operation[];
  cases: FuzzCase[];
  /** One valid request per operation, in document order. */
  controls: FuzzCase[];
  seedProblems: SeedProblem[];
}

/**
 * Every case for every operation of the document, numbered in document order and then shuffled
 * with a seeded generator: the same seed sends the same cases in the same order, while requests
 * to one operation (and its fixture) are spread over the run.
 */
export function planFor(doc: OpenApiDocument, fixtures: Fixtures, seed: number): Plan {
  const operations = operationsOf(doc);
  const seedProblems: SeedProblem[] = [];
  const cases: FuzzCase[] = [];
  const bases = operations.map((op) => baseRequest(op, fixtures, seedProblems));
  operations.forEach((op, i) => cases.push(...casesFor(op, bases[i], cases.length)));
  const controls = operations.map((op, i) => controlCase(op, bases[i], cases.length + i));
  const random = mulberry32(seed);
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [cases[i], cases[j]] = [cases[j], cases[i]];
  }
  return { operations, cases, controls, seedProblems };
}

/** A small seeded PRNG (mulberry32): deterministic across runs and machines. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
