/** What the idle check reads of a server each time it runs. */
export interface IdleState {
  running: boolean;
  /** Requests in flight: a busy server is never idle. */
  inFlight: number;
  lastUsed: number;
}

/**
 * Stops a server after `idleMs` without requests (`idleTimeoutSec`); the next request starts it
 * again. One timer, re-armed for what is left of the idle time whenever it finds the server used.
 */
export class IdleStop {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly read: () => IdleState,
    private readonly stop: (idleForMs: number) => void,
  ) {}

  /** Arms the check (when the server starts running); nothing when idle stops are off. */
  schedule(): void {
    if (this.idleMs <= 0) return;
    clearTimeout(this.timer);
    const { lastUsed } = this.read();
    this.timer = setTimeout(
      () => {
        const state = this.read();
        if (!state.running) return;
        const idleFor = Date.now() - state.lastUsed;
        if (state.inFlight > 0 || idleFor < this.idleMs) return this.schedule();
        this.stop(idleFor);
      },
      Math.max(1000, this.idleMs - (Date.now() - lastUsed)),
    );
    this.timer.unref();
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
