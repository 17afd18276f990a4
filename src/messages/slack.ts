import type { KnownBlock } from "@slack/types";
import type { Message } from "./message.js";

/**
 * Slack mrkdwn treats &, < and > as control characters (links, mentions such as <!channel>),
 * so text from a payload must have them escaped, or a customer could ping a whole channel.
 * https://api.slack.com/reference/surfaces/formatting#escaping
 * Alone, for a URL inside a link the relay makes (`<url|label>`), which must stay as it is.
 */
export function escapeMrkdwnControls(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Formatting marks, each with a look-alike that Slack does not read as one (the half- and
 * full-width forms; Slack formats both). U+2217 asterisk operator, U+FE61 small asterisk,
 * U+02CD modifier low macron, U+2E0F paragraphos, U+02CB modifier grave accent, U+223C tilde operator.
 */
const lookalikes: Record<string, string> = {
  "*": "\u2217",
  "＊": "\uFE61",
  _: "\u02CD",
  "＿": "\u2E0F",
  "`": "\u02CB",
  "｀": "\u02CB",
  "~": "\u223C",
};

/**
 * A mark that could open or close formatting: one not between two letters or digits. Slack
 * formats only at word edges (`snake_case` and `a*b*c` stay as written), so marks inside a word,
 * such as the `_` of an email address, are kept and copy as typed.
 */
const formattingMark = /(?<![\p{L}\p{N}])[*＊_＿`｀~]|[*＊_＿`｀~](?![\p{L}\p{N}])/gu;

/**
 * Text from a payload as mrkdwn that shows it as written: controls escaped, and formatting marks
 * (`*bold*`, `_it_`, `~strike~`, backticks) replaced by look-alikes, else a customer's name
 * would render bold or as code inside the relay's own message. Slack has no escape for them: a
 * backslash stays visible, and a zero-width space next to a mark makes it format (that is the
 * trick for formatting inside a word), so only a different character is sure to stay text. A
 * `>` that starts a line would quote it: a soft hyphen (invisible) before it keeps it a `>`.
 * Bare URLs are not changed here: every mrkdwn object the relay makes is `verbatim` (`mrkdwn`
 * below), which turns off Slack's auto-linking, so links are only those the relay writes.
 */
export function escapeMrkdwn(text: string): string {
  if (webLink.test(text)) return escapeMrkdwnControls(text).replace(/[*＊_＿`｀~]/gu, percentEncoded);
  return escapeMrkdwnControls(text)
    .replace(formattingMark, (mark) => lookalikes[mark] ?? mark)
    .replace(/^(&gt;|＞)/gm, "\u00AD$1");
}

/**
 * A value that is one web link, such as `event.link`, which a template may put in a link of its
 * own (`<{{ event.link }}|open>`): a look-alike would change the address, so its marks are
 * percent-encoded instead, which a server reads as the same (`~` and `_` are unreserved, RFC 3986).
 */
const webLink = /^https?:\/\/\S+$/i;
const percentEncoded = (mark: string) => ({ "*": "%2A", _: "%5F", "~": "%7E" })[mark] ?? encodeURIComponent(mark);

/**
 * A mrkdwn text object with Slack's preprocessing off (`verbatim`): bare URLs, `#channel` names
 * and email addresses in a customer's text stay text instead of becoming links. Links and
 * mentions written out (`<url|label>`, `<!here>`, `<!date…>`) still work.
 * https://api.slack.com/reference/block-kit/composition-objects#text
 */
export function mrkdwn(text: string): { type: "mrkdwn"; text: string; verbatim: true } {
  return { type: "mrkdwn", text, verbatim: true };
}

// Block Kit limits: header text 150 chars, section text 3000, field text 2000, 10 fields.

/**
 * The top-level `text`, a one-line summary that notifications show. Slack refuses a message
 * whose text is far too long (`msg_too_long`, a permanent failure), truncates it over 40,000
 * characters and recommends under 4,000; 3,000 stays clear of all that and loses a reader
 * nothing. https://api.slack.com/methods/chat.postMessage#truncating
 */
const maxTextLength = 3000;

/** Block Kit's limit for a button's `url`: over it, Slack refuses the whole message. */
const maxButtonUrlLength = 3000;

/** Cut to `max` characters with an ellipsis, never between the two halves of a surrogate pair. */
export function limit(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/** `limit` for escaped mrkdwn: a cut through `&amp;` must not leave a stray `&am` behind. */
export function limitEscaped(text: string, max: number): string {
  return text.length <= max ? text : limit(text, max).replace(/&[a-z]*…$/, "…");
}

/**
 * A link as a button can take it, or undefined for no button. Only http(s): a `javascript:`
 * URL stays inert. The WHATWG URL parser normalizes it and percent-encodes spaces, quotes and
 * angle brackets; `|` it leaves alone, but Slack reads it as the separator in `<url|label>`.
 * Slack refuses a whole message (`invalid_blocks`) over a button URL it cannot take.
 */
export function buttonUrl(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return undefined;
  const href = parsed.href.replaceAll("|", "%7C");
  return href.length <= maxButtonUrlLength ? href : undefined;
}

export interface SlackMessage {
  /** The notification and fallback text: plain, escaped. */
  text: string;
  blocks: KnownBlock[];
}

/**
 * A template's title replaces the header and notification line; its text, already mrkdwn with
 * every value escaped (messages/templates.ts), replaces the fields and the quote. The button stays.
 */
export function renderSlack(message: Message): SlackMessage {
  const title = message.templated?.title ?? message.title;
  const templatedText = message.templated?.text;
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: limit(title, 150), emoji: false } },
  ];
  if (templatedText) {
    blocks.push({ type: "section", text: mrkdwn(limitEscaped(templatedText, 3000)) });
  } else {
    blocks.push(...defaultBody(message));
  }
  const url = message.link && buttonUrl(message.link.url);
  if (message.link && url) {
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: limit(`Open ${message.link.label}`, 75) },
          url,
        },
      ],
    });
  }
  if (message.footer) {
    // plain_text: a route name needs no escaping and can mention no one.
    blocks.push({
      type: "context",
      elements: [{ type: "plain_text", text: limit(message.footer, 2000), emoji: false }],
    });
  }
  return { text: limitEscaped(templatedText ?? escapeMrkdwn(title), maxTextLength), blocks };
}

/** The details as fields and a quote of the words, under the header. */
function defaultBody(message: Message): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  // Fields marked `detail` (community, sentiment) are for a full view, not a glance.
  const fields = message.fields.filter((field) => !field.detail);
  if (fields.length > 0) {
    blocks.push({
      type: "section",
      fields: fields
        .slice(0, 10)
        .map((field) => mrkdwn(limitEscaped(`*${escapeMrkdwn(field.label)}*\n${escapeMrkdwn(field.value)}`, 2000))),
    });
  }
  if (message.excerpt) {
    blocks.push({
      type: "section",
      text: mrkdwn(limitEscaped(`>${escapeMrkdwn(message.excerpt)}`, 3000)),
    });
  }
  return blocks;
}
