import type { AdapterConfig } from "../../config/schema.js";
import { firstValue, secretsEqual } from "../secure-compare.js";
import { InvalidPayload, type Source } from "../source.js";
import { checkUrlToken } from "../url-token.js";
import { normalizeItem } from "./normalize.js";
import { envelope } from "./payloads.js";

/**
 * Socialboards webhooks (docs/sources/socialboards.md). A GET with `challenge` and `verifyToken`
 * verifies the endpoint; POSTs carry `{ CommunityName, EventType, Events: [...] }`, where each
 * item of Events is one event. Socialboards signs nothing, so an optional `?token=` in the
 * endpoint URL is what authenticates a POST.
 */
export function createSocialboardsSource(sourceId: string, config: AdapterConfig<"socialboards">): Source {
  return {
    id: sourceId,
    type: "socialboards",
    // "We format all payloads with JSON", and no header is documented.
    jsonWhateverContentType: true,

    answerChallenge(query) {
      const challenge = firstValue(query.challenge);
      if (challenge === undefined) return { ok: false, status: 400, error: "challenge is missing" };
      if (!secretsEqual(config.verifyToken, firstValue(query.verifyToken))) {
        return { ok: false, status: 403, error: "verifyToken does not match" };
      }
      return { ok: true, body: challenge };
    },

    authenticate(request) {
      return checkUrlToken(config.urlToken, request.query);
    },

    validate(body) {
      const parsed = envelope.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? issue.path.join(".") : "body";
        const what = issue?.code === "invalid_type" && issue.input === undefined ? "is missing" : issue?.message;
        throw new InvalidPayload(
          `not a Socialboards webhook: ${where} ${what} (expected CommunityName, EventType and an Events array)`,
        );
      }
      return { events: parsed.data.Events.length };
    },

    normalize(payload, receipt) {
      const parsed = envelope.parse(payload);
      return parsed.Events.map((_, index) => normalizeItem(parsed, index, receipt));
    },
  };
}
