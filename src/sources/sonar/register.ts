/**
 * Creates the webhook on Sonar through its Create Webhook API, so a user does not hand-craft
 * the request (docs/sources/sonar.md, "Registering the webhook"):
 *   POST <api>/webhooks, header X-Token, body { webhook: { name, active, settings, url, http_method } }
 */

/** Every event Sonar's Create Webhook API can subscribe to, in the order its docs list them. */
export const sonarEventTypes = [
  "new_assigned_message",
  "new_unassigned_message",
  "outbound_message",
  "customer_subscribed",
  "customer_unsubscribed",
  "user_assignment",
  "customer_created",
  "tag_added_to_message",
  "tag_removed_from_message",
  "customer_double_opted_in",
  "customer_state_changed",
] as const;

export const defaultSonarApiUrl = "https://www.sendsonar.com/api/v1";

export interface SonarRegistration {
  /** Base of Sonar's API, e.g. https://www.sendsonar.com/api/v1 */
  apiUrl: string;
  apiToken: string;
  name: string;
  /** The full endpoint Sonar will post to, token included. */
  endpoint: string;
  events: readonly string[];
}

export interface SonarRegistrationResult {
  ok: boolean;
  status: number;
  /** Sonar's answer, parsed when it is JSON. */
  body: unknown;
}

export async function registerSonarWebhook(registration: SonarRegistration): Promise<SonarRegistrationResult> {
  const settings = Object.fromEntries(registration.events.map((event) => [event, "true"]));
  const response = await fetch(`${registration.apiUrl.replace(/\/+$/, "")}/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", "x-token": registration.apiToken },
    // `active` and the settings are strings, as in Sonar's own examples.
    body: JSON.stringify({
      webhook: { name: registration.name, active: "true", settings, url: registration.endpoint, http_method: "POST" },
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the error message.
  }
  return { ok: response.ok, status: response.status, body };
}

/**
 * The URL Sonar should post to: the relay's public base URL plus `/webhooks/<source id>`, and
 * `?token=` when the source has a urlToken. A URL that already names the path is kept.
 */
export function sonarEndpoint(publicUrl: string, sourceId: string, urlToken: string | undefined): string {
  const url = new URL(publicUrl);
  if (!url.pathname.includes("/webhooks/")) {
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/webhooks/${encodeURIComponent(sourceId)}`;
  }
  if (urlToken !== undefined) url.searchParams.set("token", urlToken);
  return url.toString();
}
