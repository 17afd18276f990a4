import { readFileSync } from "node:fs";

const fixture = readFileSync(new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/**
 * One Socialboards webhook carrying a status change for each ticket id, as a bulk action in
 * the inbox sends it: the fixture's event, moved to each ticket and given the new status.
 */
export function statusChanges(ticketIds: readonly number[], from: string, to: string): string {
  const body = JSON.parse(fixture);
  const [template] = body.Events;
  body.Events = ticketIds.map((ticketId) => {
    const item = structuredClone(template);
    item.TicketId = ticketId;
    item.InboxLink = `https://inbox.socialboards.com/yourCompany/tickets?ticketId=${ticketId}`;
    item.PreviousTicketStatus = from;
    item.Ticket.Id = ticketId;
    item.Ticket.Status = to;
    item.Ticket.Title = `Bulk ticket ${ticketId}`;
    return item;
  });
  return JSON.stringify(body);
}

/** `count` ticket ids from `first` on. */
export function ticketRange(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => first + index);
}
