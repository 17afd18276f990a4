/**
 * How the HTTP target words a failure for the log and the failed set: on one line, short, and
 * without the secrets a URL's query string may carry.
 */

/** How much of a failing answer's body goes into the failure reason, on one line. */
const snippetLength = 200;

/** One line of at most `snippetLength` characters, control characters and all whitespace runs as single spaces. */
export function snippetOf(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const line = text.replace(/[\s\u0000-\u001f\u007f]+/g, " ").trim();
  return line.length > snippetLength ? `${line.slice(0, snippetLength - 1)}…` : line;
}

/**
 * Why a request got no answer, in words and with the system's code (`connection refused
 * (ECONNREFUSED)`), instead of a bare `connect ECONNREFUSED 10.0.0.5:443` or `fetch failed`.
 */
export function whyRequestFailed(error: unknown): string {
  const { cause, message } = error as { cause?: { message?: string }; message?: string };
  const found = networkCodeOf(error);
  if (found) return networkErrors[found] ? `${networkErrors[found]} (${found})` : found;
  return cause?.message ?? message ?? String(error);
}

/** The system's code for a request that got no answer (`ECONNREFUSED`), if it has one. */
export function networkCodeOf(error: unknown): string | undefined {
  const { code, errors, cause } = error as { code?: string; errors?: { code?: string }[]; cause?: { code?: string } };
  // Several addresses tried in turn (IPv4 and IPv6) give an AggregateError of one failure each.
  return code ?? errors?.[0]?.code ?? cause?.code;
}

const networkErrors: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed for now",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "no answer in time",
  UND_ERR_BODY_TIMEOUT: "answer stalled",
  UND_ERR_SOCKET: "connection closed by the other side",
  UND_ERR_CLOSED: "the relay is shutting down",
};

/**
 * Removes the URL's query string, and each of its longer values, from text we did not write:
 * error messages and answers that echo the request back. Short values ("1", "json") are not
 * secrets, and removing them would mangle the rest.
 */
export function queryRedactor(url: URL): (text: string) => string {
  const query = url.search.slice(1);
  if (!query) return (text) => text;
  const values = query.split("&").flatMap((pair) => {
    const raw = pair.slice(pair.indexOf("=") + 1);
    return pair.includes("=") ? [raw, decodeURIComponentSafe(raw)] : [];
  });
  const secrets = [query, ...values.filter((value) => value.length >= 6)].sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((clean, secret) => clean.replaceAll(secret, "…"), text);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}
