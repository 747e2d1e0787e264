import { describe, expect, it, vi } from 'vitest';
import { once } from './once';

describe('once', () => {
  it('loads on first use and hands every later call the same promise', async () => {
    const load = vi.fn(async () => ({ chunk: 1 }));
    const get = once(load);
    expect(load).not.toHaveBeenCalled();
    const [a, b] = await Promise.all([get(), get()]);
    expect(await get()).toBe(a);
    expect(b).toBe(a);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed load: the waiting calls get the error, the next call loads again', async () => {
    const load = vi.fn<() => Promise<string>>().mockRejectedValueOnce(new Error('EMFILE: too many open files')).mockResolvedValue('chunk');
    const get = once(load);
    const [first, second] = await Promise.allSettled([get(), get()]);
    expect(first).toMatchObject({ status: 'rejected', reason: { message: 'EMFILE: too many open files' } });
    expect(second).toMatchObject({ status: 'rejected' });
    expect(await get()).toBe('chunk');
    expect(await get()).toBe('chunk');
    expect(load).toHaveBeenCalledTimes(2);
  });
});
