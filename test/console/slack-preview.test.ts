import { describe, expect, it } from "vitest";
import { mrkdwnHtml, slackPreview } from "../../src/http/console/slack-preview.js";
import { renderSlack } from "../../src/messages/slack.js";

/** Slack's mrkdwn drawn as HTML for the route tester: Slack's marks as tags, everything else as escaped text. */
describe("a Slack message drawn in HTML", () => {
  /** One line of mrkdwn as drawn: inline markup in a line's own block. */
  const line = (inner: string) => `<div>${inner}</div>`;
  it.each([
    ["*bold* _italic_ ~strike~", line("<strong>bold</strong> <em>italic</em> <del>strike</del>")],
    ["*bold with _italic_ inside*", line("<strong>bold with <em>italic</em> inside</strong>")],
    ["snake_case_name and a*b*c stay", line("snake_case_name and a*b*c stay")],
    ["* not bold *", line("* not bold *")],
    ["`a &lt;b&gt; &amp; *c*`", line("<code>a &#60;b&#62; &#38; *c*</code>")],
    ["first\nsecond", line("first<br>second")],
    [">quoted\n>still\nafter", '<blockquote class="slack-quote">quoted<br>still</blockquote><div>after</div>'],
    ["before\n```one\n*two*```\nafter", '<div>before</div><pre class="slack-pre">one\n*two*</pre><div>after</div>'],
    [">>>all\nof this", '<blockquote class="slack-quote">all<br>of this</blockquote>'],
    [
      "<https://example.com/a?b=1&amp;c=2|the page>",
      line('<a href="https://example.com/a?b=1&#38;c=2" target="_blank" rel="noopener noreferrer">the page</a>'),
    ],
    [
      "<!here> <@U123> <#C42|support>",
      line(
        '<span class="slack-mention">@here</span> <span class="slack-mention">@U123</span> <span class="slack-mention">#support</span>',
      ),
    ],
    ["<javascript:alert(1)|click>", line("click")],
    ["&lt;script&gt;alert(1)&lt;/script&gt; &amp;", line("&#60;script&#62;alert(1)&#60;/script&#62; &#38;")],
    [`"quotes" & 'apostrophes'`, line("&#34;quotes&#34; &#38; &#39;apostrophes&#39;")],
  ])("%j → %s", (mrkdwn, expected) => {
    expect(mrkdwnHtml(mrkdwn).text).toBe(expected);
  });

  it("draws the relay's own blocks: header, fields, quote, button and footer, with text from the payload escaped", () => {
    const message = renderSlack({
      title: 'Ticket #7 "<b>hi</b>"',
      fields: [{ label: "Customer", value: "*Ann* <!channel>" }],
      excerpt: "I need _help_",
      link: { url: "https://inbox.example.com/t/7", label: "ticket #7" },
      footer: "via ticket-relay · route r",
    } as Parameters<typeof renderSlack>[0]);
    const drawn = slackPreview(message).text;
    expect(drawn).toContain('<div class="slack-header">Ticket #7 &#34;&#60;b&#62;hi&#60;/b&#62;&#34;</div>');
    // The customer's marks stay text (look-alikes), and their <!channel> mentions no one.
    expect(drawn).toContain("<strong>Customer</strong><br>∗Ann∗ &#60;!channel&#62;");
    expect(drawn).not.toContain("slack-mention");
    expect(drawn).toContain('<blockquote class="slack-quote">I need ˍhelpˍ</blockquote>');
    expect(drawn).toContain('<a class="slack-button" href="https://inbox.example.com/t/7"');
    expect(drawn).toContain('<div class="slack-context"><span>via ticket-relay · route r</span></div>');
    expect(drawn).not.toMatch(/<b>|<!channel>/);
  });

  it("names a block it does not draw, and loads no image", () => {
    const drawn = slackPreview({
      text: "t",
      blocks: [
        { type: "divider" },
        { type: "image", image_url: "https://images.example.com/a.png", alt_text: "a chart" },
        { type: "rich_text", elements: [] },
      ],
    }).text;
    expect(drawn).toContain('<hr class="slack-divider">');
    expect(drawn).toContain("[image: a chart]");
    expect(drawn).not.toContain("images.example.com");
    expect(drawn).toContain("(a rich_text block, not drawn here)");
  });
});
