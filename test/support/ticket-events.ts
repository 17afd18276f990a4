import { readFileSync } from "node:fs";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/socialboards/${name}.json`, import.meta.url), "utf8"));

/**
 * A Socialboards fixture moved to another ticket, so that every test (and every Slack thread)
 * has a conversation of its own, its item then edited as the platform names its fields.
 */
export function aboutTicket(
  name: string,
  ticketId: number,
  // biome-ignore lint/suspicious/noExplicitAny: a fixture's JSON, edited field by field as the platform names them
  edit: (item: Record<string, any>) => void = () => {},
) {
  const body = fixture(name);
  body.TicketId = ticketId;
  const item = body.Events[0];
  item.TicketId = ticketId;
  item.InboxLink = `https://inbox.socialboards.com/yourCompany/tickets?ticketId=${ticketId}`;
  if (item.Ticket) item.Ticket.Id = ticketId;
  if (item.Reply) item.Reply.TicketId = ticketId;
  if (item.ConversationId) item.ConversationId = ticketId;
  edit(item);
  return body;
}

export const ticketCreation = (ticketId: number) => aboutTicket("ticket_creation", ticketId);

/** Reply `replyId` on a ticket, saying `message` (`Reply number <replyId>` unless given). */
export const replyCreation = (ticketId: number, replyId: number, message = `Reply number ${replyId}`) =>
  aboutTicket("reply_creation", ticketId, (item) => {
    item.ReplyId = replyId;
    item.Reply.Id = replyId;
    item.Reply.Message = message;
  });

export const statusChange = (ticketId: number, from: string, to: string) =>
  aboutTicket("ticket_status_change", ticketId, (item) => {
    item.PreviousTicketStatus = from;
    item.Ticket.Status = to;
  });
