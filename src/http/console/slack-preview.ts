import { type Html, html } from "./html.js";

/**
 * A Slack message (Block Kit blocks and its `text`) drawn in HTML as Slack shows it, for the
 * route tester: the header, sections with their mrkdwn and fields, context lines, dividers and
 * buttons. Every piece of text is escaped by `html`; mrkdwn's marks become tags only around
 * text that is escaped itself. Images are named, never loaded: the console fetches nothing from
 * another origin. https://api.slack.com/reference/block-kit/blocks
 */
export function slackPreview(message: { text: string; blocks?: readonly unknown[] }): Html {
  const blocks = message.blocks ?? [];
  return html`<div class="slack-message">
${blocks.length > 0 ? blocks.map(blockHtml) : html`<div class="slack-section">${mrkdwnHtml(message.text)}</div>`}
</div>
<div class="slack-fallback"><span class="muted">Notification and fallback text (<code>text</code>):</span> ${mrkdwnHtml(message.text)}</div>`;
}

type Fields = Record<string, unknown>;

function blockHtml(block: unknown): Html {
  const fields = recordOf(block);
  switch (fields.type) {
    case "header":
      return html`<div class="slack-header">${textObjectHtml(fields.text)}</div>`;
    case "section":
      return html`<div class="slack-section">
  ${fields.text === undefined ? "" : html`<div>${textObjectHtml(fields.text)}</div>`}
  ${
    Array.isArray(fields.fields)
      ? html`<div class="slack-fields">${fields.fields.map((field) => html`<div>${textObjectHtml(field)}</div>`)}</div>`
      : ""
  }
  ${fields.accessory === undefined ? "" : html`<div class="slack-accessory">${elementHtml(fields.accessory)}</div>`}
</div>`;
    case "context":
      return html`<div class="slack-context">${listOf(fields.elements).map((element) => html`<span>${elementHtml(element)}</span>`)}</div>`;
    case "divider":
      return html`<hr class="slack-divider">`;
    case "actions":
      return html`<div class="slack-actions">${listOf(fields.elements).map(elementHtml)}</div>`;
    case "image":
      return html`<div class="slack-image muted">${imageText(fields)}</div>`;
    default:
      return html`<div class="slack-other muted">(a ${String(fields.type ?? "untyped")} block, not drawn here)</div>`;
  }
}

/** An element of a context, an actions block or a section's accessory. */
function elementHtml(element: unknown): Html {
  const fields = recordOf(element);
  switch (fields.type) {
    case "mrkdwn":
    case "plain_text":
      return textObjectHtml(fields);
    case "image":
      return html`<span class="muted">${imageText(fields)}</span>`;
    case "button": {
      const label = textObjectHtml(fields.text);
      const href = webHref(fields.url);
      return href
        ? html`<a class="slack-button" href="${href}" target="_blank" rel="noopener noreferrer">${label}</a>`
        : html`<span class="slack-button">${label}</span>`;
    }
    default:
      return html`<span class="muted">(${String(fields.type ?? "an element")})</span>`;
  }
}

/** A text object: mrkdwn with its formatting, plain_text as written. */
function textObjectHtml(text: unknown): Html {
  const fields = recordOf(text);
  const words = typeof fields.text === "string" ? fields.text : "";
  return fields.type === "mrkdwn" ? mrkdwnHtml(words) : html`${words}`;
}

function imageText(fields: Fields): string {
  return `[image${typeof fields.alt_text === "string" ? `: ${fields.alt_text}` : ""}]`;
}

/**
 * Slack's mrkdwn as HTML: ```pre``` blocks, `>` quotes (and `>>>` for the rest), line breaks,
 * then within lines `code`, <url|label> links and mentions, *bold*, _italic_ and ~strike~.
 * In mrkdwn `&`, `<` and `>` arrive escaped (`&amp;`, `&lt;`, `&gt;`), so a bare `<` or `>` is
 * always markup, and text is unescaped only once it is a piece that `html` escapes again.
 * https://api.slack.com/reference/surfaces/formatting
 */
export function mrkdwnHtml(text: string): Html {
  const parts = text.split(/```([\s\S]*?)```/);
  return html`${parts.map((part, index) => {
    if (index % 2 === 1) return html`<pre class="slack-pre">${unescapeMrkdwn(part.replace(/^\n/, ""))}</pre>`;
    // A line break right beside a ``` block belongs to the block, which starts a line of its own.
    let lines = part;
    if (index > 0) lines = lines.replace(/^\n/, "");
    if (index < parts.length - 1) lines = lines.replace(/\n$/, "");
    return lines === "" ? "" : linesHtml(lines.split("\n"));
  })}`;
}

/** Lines with their quotes: a run of `>` lines is one quote; `>>>` quotes every line after it. */
function linesHtml(lines: readonly string[]): Html {
  const out: Html[] = [];
  let plain: string[] = [];
  let quoted: string[] = [];
  const flushPlain = () => {
    if (plain.length > 0) out.push(html`<div>${joinedLines(plain)}</div>`);
    plain = [];
  };
  const flushQuote = () => {
    if (quoted.length > 0) out.push(html`<blockquote class="slack-quote">${joinedLines(quoted)}</blockquote>`);
    quoted = [];
  };
  for (const [index, line] of lines.entries()) {
    if (line.startsWith(">>>")) {
      flushPlain();
      quoted.push(line.slice(3).replace(/^ /, ""), ...lines.slice(index + 1));
      break;
    }
    if (line.startsWith(">")) {
      flushPlain();
      quoted.push(line.slice(1).replace(/^ /, ""));
    } else {
      flushQuote();
      plain.push(line);
    }
  }
  flushPlain();
  flushQuote();
  return html`${out}`;
}

function joinedLines(lines: readonly string[]): Html {
  return html`${lines.map((line, index) => html`${index > 0 ? html`<br>` : ""}${inlineHtml(line)}`)}`;
}

/**
 * Marks open at a word's start and close at its end: `snake_case` and `a*b*c` stay as written,
 * as Slack shows them. The text inside neither starts nor ends with a space.
 */
const inlineMarkup = new RegExp(
  [
    "`(?<code>[^`\\n]+)`",
    "<(?<link>[^<>\\n]+)>",
    ...[
      ["bold", "\\*"],
      ["italic", "_"],
      ["strike", "~"],
    ].map(
      ([name, mark]) =>
        `(?<![\\p{L}\\p{N}])${mark}(?<${name}>[^${mark}\\s](?:[^${mark}\\n]*[^${mark}\\s])?)${mark}(?![\\p{L}\\p{N}])`,
    ),
  ].join("|"),
  "gu",
);

function inlineHtml(line: string): Html {
  const out: Html[] = [];
  let from = 0;
  for (const match of line.matchAll(inlineMarkup)) {
    out.push(html`${unescapeMrkdwn(line.slice(from, match.index))}`);
    from = match.index + match[0].length;
    const { code, link, bold, italic, strike } = match.groups ?? {};
    if (code !== undefined) out.push(html`<code>${unescapeMrkdwn(code)}</code>`);
    else if (link !== undefined) out.push(linkHtml(link));
    else if (bold !== undefined) out.push(html`<strong>${inlineHtml(bold)}</strong>`);
    else if (italic !== undefined) out.push(html`<em>${inlineHtml(italic)}</em>`);
    else if (strike !== undefined) out.push(html`<del>${inlineHtml(strike)}</del>`);
  }
  out.push(html`${unescapeMrkdwn(line.slice(from))}`);
  return html`${out}`;
}

/** `<url|label>`, `<url>`, `<!here>`, `<@U123>`, `<#C123|name>`, `<!date^…|fallback>`. */
function linkHtml(inside: string): Html {
  const bar = inside.indexOf("|");
  const target = bar === -1 ? inside : inside.slice(0, bar);
  const label = bar === -1 ? undefined : unescapeMrkdwn(inside.slice(bar + 1));
  if (target.startsWith("!")) {
    const special = target.slice(1).split("^")[0] ?? "";
    const shown = ["here", "channel", "everyone"].includes(special) ? `@${special}` : (label ?? `@${special}`);
    return html`<span class="slack-mention">${shown}</span>`;
  }
  if (target.startsWith("@") || target.startsWith("#")) {
    return html`<span class="slack-mention">${target[0]}${label ?? target.slice(1)}</span>`;
  }
  const url = unescapeMrkdwn(target);
  const href = webHref(url);
  if (!href) return html`${label ?? url}`;
  return html`<a href="${href}" target="_blank" rel="noopener noreferrer">${label ?? url}</a>`;
}

/** Only web and mail links become links: a `javascript:` URL stays text. */
function webHref(url: unknown): string | undefined {
  if (typeof url !== "string" || !URL.canParse(url)) return undefined;
  const { protocol, href } = new URL(url);
  return protocol === "https:" || protocol === "http:" || protocol === "mailto:" ? href : undefined;
}

/** The three escapes mrkdwn has, undone: the result is text for `html` to escape. */
function unescapeMrkdwn(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function recordOf(value: unknown): Fields {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Fields) : {};
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** How Slack draws a message, near enough to recognize it: the console's stylesheet adds this. */
export const slackPreviewCss = `
.slack-message { border: 1px solid var(--line); border-left: 4px solid #4a154b; border-radius: 8px; padding: .6rem .8rem; background: var(--bg);
  font: 15px/1.46667 "Slack-Lato", "Lato", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 42rem; overflow-wrap: anywhere; }
.slack-message > * + * { margin-top: .5rem; }
.slack-header { font-size: 1.15rem; font-weight: 700; }
.slack-fields { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .5rem 1rem; }
.slack-fields > div + div, .slack-section > div + div { margin-top: 0; }
.slack-section > * + * { margin-top: .4rem; }
.slack-context { font-size: .8rem; color: var(--muted); display: flex; flex-wrap: wrap; gap: .5rem; }
.slack-divider { border: 0; border-top: 1px solid var(--line); }
.slack-quote { margin: 0; padding-left: .75rem; border-left: 4px solid var(--line); }
.slack-pre { margin: .25rem 0; border: 1px solid var(--line); }
.slack-message code { border: 1px solid var(--line); border-radius: 3px; padding: 0 .2rem; color: #e01e5a; background: var(--panel); }
.slack-mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 .15rem; }
.slack-actions { display: flex; flex-wrap: wrap; gap: .5rem; }
.slack-button { display: inline-block; border: 1px solid var(--line); border-radius: 4px; padding: .2rem .75rem; font-weight: 700; font-size: .9rem; text-decoration: none; color: var(--fg); }
.slack-fallback { font-size: .85rem; margin: .35rem 0 1rem; max-width: 42rem; }
.slack-fallback > div:first-of-type { display: inline; }
`;
