import type { RelayEvent } from "../events.js";

/**
 * The fields a route's `match` can name, and where each is read from the normalized event.
 * The config schema checks `match` keys against this list, so a typo is a config error
 * instead of a route that silently never matches.
 */
export const matchFields = {
  source: (event) => event.source,
  sourceType: (event) => event.sourceType,
  event: (event) => event.type,
  community: (event) => event.community,
  ticketId: (event) => event.ticketId,
  status: (event) => event.status ?? event.ticket?.status,
  previousStatus: (event) => event.previousStatus,
  category: (event) => event.ticket?.category,
  sentiment: (event) => event.ticket?.sentiment,
  channel: (event) => event.ticket?.channel,
} satisfies Record<string, (event: RelayEvent) => string | undefined>;

export type MatchField = keyof typeof matchFields;
export const matchFieldNames = Object.keys(matchFields) as MatchField[];
