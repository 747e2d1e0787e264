/**
 * A lazily imported chunk, loaded on first use and kept: `const loadWalker = once(() => import('./walker'))`. Every
 * call after the first gets the same promise; an `import()` per call would resolve the module again each time (under
 * tsx through its loader hooks: about a tenth of a create's CPU). The `import()` stays in the caller's file, so the
 * bundler still splits the chunk there. A failed load is not kept: the calls waiting on it get its error, and the next
 * call tries again, so a transient failure (a file descriptor limit, say) costs one request, not the process.
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    }));
}
