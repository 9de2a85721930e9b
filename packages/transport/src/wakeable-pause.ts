/** A loop's pause between tries that stop() can cut short. */
export class WakeablePause {
  private wakeUp?: () => void;

  /** Resolves after `ms`, or at once when wake() is called meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
