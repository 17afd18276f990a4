import type { IncomingMessage } from "node:http";

/**
 * The request body bytes one server holds at once, across all its requests. `bodyLimit` bounds
 * one request; without this, 600 senders each holding 900 KB of a 1 MB body open kept 540 MB
 * resident, and the heap did not give it back. Past the budget a body is refused with 503, which
 * a platform sends again, instead of the process growing until it is killed.
 */
export class BodyBudget {
  #held = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes held by requests not yet finished. */
  get held(): number {
    return this.#held;
  }

  /** One request's share, given back at once by `release` whichever way the request ends. */
  share(): BodyShare {
    return new BodyShare(this);
  }

  /** @internal Takes `bytes` if they fit; the share keeps count of what it took. */
  take(bytes: number): boolean {
    if (this.#held + bytes > this.limitBytes) return false;
    this.#held += bytes;
    return true;
  }

  /** @internal */
  giveBack(bytes: number): void {
    this.#held -= bytes;
  }
}

export class BodyShare {
  #taken = 0;
  #released = false;

  constructor(private readonly budget: BodyBudget) {}

  /** Takes `bytes` more for this request; false when the budget cannot spare them. */
  take(bytes: number): boolean {
    if (this.#released || !this.budget.take(bytes)) return false;
    this.#taken += bytes;
    return true;
  }

  /** Gives back all this request took; later calls do nothing, so every ending path may call it. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.budget.giveBack(this.#taken);
    this.#taken = 0;
  }
}

/**
 * A request's share travels with the request, so that every body reader (webhooks, the admin
 * API) counts against its server's budget without each route being handed it. Weak: a share
 * goes with its request.
 */
const shares = new WeakMap<IncomingMessage, BodyShare>();

export function attachBodyShare(request: IncomingMessage, share: BodyShare): void {
  shares.set(request, share);
}

/** The request's share of its server's budget; none for a server that has no budget. */
export function bodyShareOf(request: IncomingMessage): BodyShare | undefined {
  return shares.get(request);
}
