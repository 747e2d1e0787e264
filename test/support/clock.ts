/** A clock for the local API that tests move forward instead of sleeping: real time plus an offset. */
export class TestClock {
  private offset = 0;

  readonly now = (): number => Date.now() + this.offset;

  advance(ms: number): void {
    this.offset += Math.max(0, ms);
  }
}
