interface Call<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export interface SameTickBatchOptions<T> {
  /** Most weight in one batch: bounds one Redis command's size and how long it holds Redis. */
  maxWeight?: number;
  /** An item's weight (1 by default): e.g. how many jobs a caller adds at once. */
  weigh?: (item: T) => number;
}

/**
 * Gathers the calls made in one tick of the event loop and runs them together: with 50
 * deliveries in flight, the Redis writes of those finishing at the same moment go as one
 * command (or one pipeline) and one round trip, instead of one each. `run` answers each item
 * in order; each caller's promise settles only when Redis has answered for the whole batch,
 * and if the batch fails, every caller in it gets the error, as it would have on its own.
 */
export class SameTickBatch<T, R> {
  #pending: Call<T, R>[] = [];
  #weight = 0;
  readonly #maxWeight: number;
  readonly #weigh: (item: T) => number;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    options: SameTickBatchOptions<T> = {},
  ) {
    this.#maxWeight = options.maxWeight ?? 200;
    this.#weigh = options.weigh ?? (() => 1);
  }

  call(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#weight += this.#weigh(item);
      if (this.#weight >= this.#maxWeight) this.#flush();
      // After the I/O callbacks of this tick: the other calls that come with this one.
      else if (this.#pending.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const calls = this.#pending;
    if (calls.length === 0) return;
    this.#pending = [];
    this.#weight = 0;
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
