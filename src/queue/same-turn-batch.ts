interface Call<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the calls made in one turn of the event loop and runs them together: with 50
 * deliveries in flight, the Redis writes of those finishing at the same moment go as one
 * command (or one pipeline) and one round trip, instead of one each. `run` answers each item
 * in order; each caller's promise settles only when Redis has answered for the whole batch,
 * and if the batch fails, every caller in it gets the error, as it would have on its own.
 */
export class SameTurnBatch<T, R> {
  #pending: Call<T, R>[] = [];

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    /** Most items in one batch: bounds one Redis command's size and how long it holds Redis. */
    private readonly maxItems = 200,
  ) {}

  call(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.maxItems) this.#flush();
      // After the I/O callbacks of this turn: the other calls that come with this one.
      else if (this.#pending.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const calls = this.#pending;
    if (calls.length === 0) return;
    this.#pending = [];
    this.run(calls.map((call) => call.item)).then(
      (results) => {
        for (const [index, call] of calls.entries()) call.resolve(results[index] as R);
      },
      (error: unknown) => {
        for (const call of calls) call.reject(error);
      },
    );
  }
}
