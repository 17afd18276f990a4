import type { AdapterConfig } from "../../config/schema.js";
import { type RelayEvent, safeEventType } from "../../events.js";
import { readPath, splitPath } from "../../json-path.js";
import { text } from "../lenient.js";
import { InvalidPayload, type Source } from "../source.js";
import { checkUrlToken } from "../url-token.js";
import {
  checkHubSignatureHeader,
  checkStandardWebhookHeaders,
  verifyHubSignature,
  verifyStandardWebhook,
} from "./signatures.js";

type GenericConfig = AdapterConfig<"generic">;

/**
 * Any other system that posts signed JSON (docs/sources/generic.md). One POST is one event;
 * its type and ticket id are read from the JSON paths the config names, and routes can reach
 * any other field as `payload.<path>`.
 */
export function createGenericSource(sourceId: string, config: GenericConfig): Source {
  const typePath = splitPath(config.eventType);
  const ticketPath = config.ticketId ? splitPath(config.ticketId) : undefined;

  return {
    id: sourceId,
    type: "generic",

    // Before the body: the URL token, and signature headers that are there and fresh, so an
    // unsigned or stale POST is refused without reading it.
    authenticate(request) {
      const byUrl = checkUrlToken(config.urlToken, request.query);
      if (!byUrl.ok) return byUrl;
      return config.signature === "standard-webhooks"
        ? checkStandardWebhookHeaders(request.headers, config.tolerance)
        : checkHubSignatureHeader(request.headers);
    },

    verifyBody(request) {
      return config.signature === "standard-webhooks"
        ? verifyStandardWebhook(config.secret, request.headers, request.rawBody, config.tolerance)
        : verifyHubSignature(config.secret, request.headers, request.rawBody);
    },

    validate(body) {
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new InvalidPayload("expected a JSON object");
      }
      return { events: 1 };
    },

    normalize(payload, receipt) {
      const type = text.parse(readPath(payload, typePath));
      const event: RelayEvent = {
        id: `${receipt.id}.0`,
        source: receipt.source,
        sourceType: "generic",
        // Without a type at the configured path the event is still kept, routed as `unknown`.
        type: safeEventType(type),
        known: Boolean(type),
        receivedAt: receipt.receivedAt,
        raw: payload,
      };
      const ticketId = ticketPath && text.parse(readPath(payload, ticketPath));
      if (ticketId) event.ticketId = ticketId;
      return [event];
    },
  };
}
