/**
 * HTML built from template literals, escaped by default: every value put into a page is text
 * unless it is itself `Html` (a fragment built here). Customer text (ticket titles, replies,
 * names) reaches every page, so there is no way to put a string in unescaped but `trusted`.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let text = strings[0] ?? "";
  for (const [index, value] of values.entries()) text += partText(value) + (strings[index + 1] ?? "");
  return new Html(text);
}

/** Markup written by the relay itself (never anything received): put in as it is. */
export function trusted(text: string): Html {
  return new Html(text);
}

function partText(value: Part): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(partText).join("");
  return escapeHtml(String(value));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
