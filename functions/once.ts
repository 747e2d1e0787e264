/**
 * A lazily imported chunk, loaded on first use and kept: `const loadWalker = once(() => import('./walker'))`. Every
 * call after the first gets the same promise; an `import()` per call would resolve the module again each time (under
 * tsx through its loader hooks: about a tenth of a create's CPU). The `import()` stays in the caller's file, so the
 * bundler still splits the chunk there. A failed import is kept too: in Lambda a chunk that cannot load fails for
 * the life of the process.
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
