/** What a secret is shown as. */
export const secretMask = "••••••";

/**
 * Keys whose value is a credential wherever they sit in the config (config/schema.ts,
 * config/redis-schema.ts): source tokens and secrets, Slack tokens, signing secrets, the admin
 * token, Redis passwords. `smtp` is a URL, of which only the password is masked.
 */
const secretKeys = new Set(["token", "verifyToken", "urlToken", "secret", "signingSecret", "password", "apiKey"]);
/** Keys whose every value is a credential, or may be one: an HTTP target's headers (Authorization, X-Api-Key …). */
const secretValueMaps = new Set(["headers"]);
/**
 * A secret this long or longer is also cut out of the middle of other text (a URL, a template,
 * a warning); a shorter one only where it is a whole value, since removing "u" or "1" from
 * every line would mangle the page and hide nothing.
 */
const minimumInnerLength = 6;

/** `scheme://user:password@host`: the password's place. */
const userinfoPassword = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)([^/?#@]*)@/i;
/** `?key=value&…` of a URL: each value's place. */
const queryValue = /([?&][^=&#]*=)([^&#]*)/g;

export interface MaskedConfig {
  /** The config, every secret replaced by `secretMask`. */
  config: unknown;
  /** The same masking for other text about the config: a warning that might quote a value. */
  maskText(text: string): string;
}

/**
 * The config with every secret masked, first by where it is (a key that holds a credential, a
 * URL's password or query values), then by what it is: a value anywhere else that equals (or
 * contains) one of those secrets is masked too, since `${VAR}` lets one secret fill any key.
 */
export function maskConfig(config: unknown): MaskedConfig {
  const secrets = new Set<string>();
  const byPlace = maskByPlace(config, secrets, false);
  const inner = [...secrets]
    .filter((secret) => secret.length >= minimumInnerLength)
    .sort((a, b) => b.length - a.length);
  const maskText = (text: string) =>
    secrets.has(text) ? secretMask : inner.reduce((clean, secret) => clean.replaceAll(secret, secretMask), text);
  return { config: mapStrings(byPlace, maskText), maskText };
}

function maskByPlace(value: unknown, secrets: Set<string>, secretHere: boolean): unknown {
  if (typeof value === "string") return secretHere ? remember(value, secrets) : maskUrl(value, secrets);
  if (Array.isArray(value)) return value.map((item) => maskByPlace(item, secrets, secretHere));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        if (secretValueMaps.has(key) && item !== null && typeof item === "object" && !Array.isArray(item)) {
          return [
            key,
            Object.fromEntries(Object.entries(item).map(([name, v]) => [name, maskByPlace(v, secrets, true)])),
          ];
        }
        return [key, maskByPlace(item, secrets, secretHere || secretKeys.has(key))];
      }),
    );
  }
  return value;
}

/** A secret value: remembered, to be found elsewhere, and masked. An empty one hides nothing. */
function remember(secret: string, secrets: Set<string>): string {
  if (secret === "") return secret;
  secrets.add(secret);
  return secretMask;
}

/**
 * An address's password (`smtp://user:password@host`, `redis://:password@host`) and its query
 * values (`?token=…`, where API keys go), masked; the rest (scheme, host, path) shown, as the
 * relay's own logs show it.
 */
function maskUrl(text: string, secrets: Set<string>): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  const withoutPassword = text.replace(userinfoPassword, (_, before: string, password: string) => {
    if (password === "") return `${before}@`;
    remember(password, secrets);
    remember(decoded(password), secrets);
    return `${before}${secretMask}@`;
  });
  return withoutPassword.replace(queryValue, (_, before: string, value: string) => {
    if (value === "") return before;
    // Short query values ("json", "1") are settings, not keys: masked here, but not hunted elsewhere.
    if (value.length >= minimumInnerLength) {
      remember(value, secrets);
      remember(decoded(value), secrets);
    }
    return `${before}${secretMask}`;
  });
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === "string") return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  }
  return value;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}
