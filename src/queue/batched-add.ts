import type { JobsOptions } from "bullmq";
import { SameTickBatch } from "./same-tick-batch.js";

/** One job to add, as `Queue.addBulk` takes it. */
export interface JobToAdd<T> {
  name: string;
  data: T;
  opts?: JobsOptions;
}

/** The part of a BullMQ `Queue` this uses: a job's id is the existing one's for a duplicate. */
export interface BulkAdder<T> {
  addBulk(jobs: JobToAdd<T>[]): Promise<{ id?: string }[]>;
}

/**
 * Most jobs one `addBulk` carries: one Redis pipeline the size of a burst of big webhooks
 * would hold Redis, and this process's memory, at once.
 */
const maxJobsPerBulk = 500;

/**
 * Adds jobs to a queue, gathering the adds asked for in one tick of the event loop into one
 * `addBulk`: one write and one round trip to Redis for the deliveries of many routed webhooks,
 * instead of one each. Each caller's promise still settles only once Redis has answered for its
 * own jobs; if the pipeline fails, every caller in it gets the error, as it would have on its own.
 */
export class BatchedAdd<T> {
  /** Each caller's jobs are one item, weighed by how many jobs it holds. */
  readonly #adds: SameTickBatch<JobToAdd<T>[], (string | undefined)[]>;

  constructor(private readonly queue: BulkAdder<T>) {
    this.#adds = new SameTickBatch(
      async (callers) => {
        const added = await queue.addBulk(callers.flat());
        let offset = 0;
        return callers.map((jobs) => {
          offset += jobs.length;
          return added.slice(offset - jobs.length, offset).map((job) => job.id);
        });
      },
      { maxWeight: maxJobsPerBulk, weigh: (jobs) => jobs.length },
    );
  }

  /** Adds one job; resolves with its id in Redis, which is the existing job's for a duplicate. */
  async add(job: JobToAdd<T>): Promise<string | undefined> {
    const [id] = await this.addAll([job]);
    return id;
  }

  /** Adds these jobs, in order; resolves with their ids once Redis holds every one of them. */
  addAll(jobs: JobToAdd<T>[]): Promise<(string | undefined)[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    if (jobs.length >= maxJobsPerBulk) return this.#addInBulks(jobs);
    return this.#adds.call(jobs);
  }

  async #addInBulks(jobs: JobToAdd<T>[]): Promise<(string | undefined)[]> {
    const ids: (string | undefined)[] = [];
    for (let start = 0; start < jobs.length; start += maxJobsPerBulk) {
      const added = await this.queue.addBulk(jobs.slice(start, start + maxJobsPerBulk));
      ids.push(...added.map((job) => job.id));
    }
    return ids;
  }
}
