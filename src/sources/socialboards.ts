import { z } from "zod";
import type { SourceConfig } from "../config/schema.js";
import type { RelayEvent, TicketSummary } from "../events.js";
import { firstValue, secretsEqual } from "./secure-compare.js";
import { InvalidPayload, type Receipt, type Source } from "./source.js";

/**
 * Socialboards webhooks (docs/sources/socialboards.md). A GET with `challenge` and `verifyToken`
 * verifies the endpoint; POSTs carry `{ CommunityName, EventType, Events: [...] }`, where each
 * item of Events is one event. Socialboards signs nothing, so an optional `?token=` in the
 * endpoint URL is what authenticates a POST.
 */
const envelopeSchema = z.looseObject({
  CommunityName: z.string(),
  EventType: z.string().min(1),
  Events: z.array(z.looseObject({})),
});

// Tolerant shapes: every field optional or null, unknown fields kept, because a platform that
// adds or nulls a field must never make the relay drop an event.
const text = z.string().nullish();
const id = z.union([z.number(), z.string()]).nullish();
const personSchema = z.looseObject({ Name: text, Email: text });
const ticketSchema = z.looseObject({
  Id: id,
  Title: text,
  Status: text,
  Message: text,
  Sentiment: text,
  Source: text,
  Category: z.looseObject({ Name: text }).nullish(),
  Author: personSchema.nullish(),
});
const itemSchema = z.looseObject({
  TicketId: id,
  InboxLink: text,
  PreviousTicketStatus: text,
  Ticket: ticketSchema.nullish(),
});

export function createSocialboardsSource(
  sourceId: string,
  config: Extract<SourceConfig, { type: "socialboards" }>,
): Source {
  return {
    id: sourceId,
    type: "socialboards",

    answerChallenge(query) {
      const challenge = firstValue(query.challenge);
      if (challenge === undefined) return { ok: false, status: 400, error: "challenge is missing" };
      if (!secretsEqual(config.verifyToken, firstValue(query.verifyToken))) {
        return { ok: false, status: 403, error: "verifyToken does not match" };
      }
      return { ok: true, body: challenge };
    },

    authenticate(request) {
      if (config.urlToken === undefined) return { ok: true };
      return secretsEqual(config.urlToken, firstValue(request.query.token))
        ? { ok: true }
        : { ok: false, error: "missing or wrong token in the URL (?token=…)" };
    },

    validate(body) {
      const parsed = envelopeSchema.safeParse(body);
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
      const envelope = envelopeSchema.parse(payload);
      return envelope.Events.map((item, index) => normalizeItem(envelope, item, index, receipt));
    },
  };
}

function normalizeItem(
  envelope: z.infer<typeof envelopeSchema>,
  item: Record<string, unknown>,
  index: number,
  receipt: Receipt,
): RelayEvent {
  const event: RelayEvent = {
    id: `${receipt.id}.${index}`,
    source: receipt.source,
    sourceType: "socialboards",
    type: envelope.EventType,
    receivedAt: receipt.receivedAt,
    community: envelope.CommunityName,
    raw: item,
  };
  const parsed = itemSchema.safeParse(item);
  if (!parsed.success) return event;
  const { TicketId, InboxLink, PreviousTicketStatus, Ticket } = parsed.data;

  const ticketId = TicketId ?? Ticket?.Id;
  if (ticketId != null) event.ticketId = String(ticketId);
  if (InboxLink) event.link = InboxLink;
  if (Ticket) event.ticket = summarizeTicket(Ticket, event.ticketId);
  if (PreviousTicketStatus) event.previousStatus = PreviousTicketStatus;
  if (Ticket?.Status) event.status = Ticket.Status;
  return event;
}

function summarizeTicket(ticket: z.infer<typeof ticketSchema>, ticketId: string | undefined): TicketSummary {
  const summary: TicketSummary = { id: ticketId ?? String(ticket.Id ?? "") };
  if (ticket.Title) summary.title = ticket.Title;
  if (ticket.Status) summary.status = ticket.Status;
  if (ticket.Category?.Name) summary.category = ticket.Category.Name;
  if (ticket.Message) summary.message = ticket.Message;
  if (ticket.Sentiment) summary.sentiment = ticket.Sentiment;
  if (ticket.Source) summary.channel = ticket.Source;
  if (ticket.Author?.Name || ticket.Author?.Email) {
    summary.author = {};
    if (ticket.Author.Name) summary.author.name = ticket.Author.Name;
    if (ticket.Author.Email) summary.author.email = ticket.Author.Email;
  }
  return summary;
}
