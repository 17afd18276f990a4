import { z } from "zod";
import { flag, id, list, object, text } from "../lenient.js";

/**
 * The Socialboards payloads, as docs/sources/socialboards.md records them (PascalCase keys).
 * One POST is `{ CommunityName, EventType, Events: [...] }`; each item of `Events` has the
 * shape of its EventType below. Shapes marked "inferred" in that page are guesses, which is
 * one more reason every field here is lenient (../lenient.ts).
 */

export const envelope = z.looseObject({
  CommunityName: z.string(),
  EventType: z.string().min(1),
  Events: z.array(z.looseObject({})),
});

/** The User object; also the Ticket, Reply and Note creator. `Status` is `client` or `team`. */
export const user = object({ Id: id, Name: text, Email: text, Status: text, IsBot: flag });
export type User = NonNullable<z.output<typeof user>>;

const tag = object({ Id: id, Name: text });
const category = object({ Id: id, Name: text });

export const ticket = object({
  Id: id,
  Title: text,
  Status: text,
  Message: text,
  Sentiment: text,
  Source: text,
  DetailedSource: text,
  CreationTime: text,
  Author: user,
  Category: category,
  Tags: list(tag),
});
export type Ticket = NonNullable<z.output<typeof ticket>>;

/** Fields every Ticket API event item may carry. */
const ticketItem = {
  TicketId: id,
  InboxLink: text,
  Ticket: ticket,
};

const reply = object({
  Id: id,
  TicketId: id,
  Message: text,
  CreationTime: text,
  Author: user,
  Properties: object({ IsByTeam: flag, IsHidden: flag, IsDraft: flag }),
});
const note = object({ Id: id, Message: text, CreationTime: text, Author: user });

/** External Chat API items carry a conversation id and the time of the event. */
const chatItem = {
  ConversationId: id,
  InboxLink: text,
  EventTime: text,
};
const conversation = object({ Id: id, Author: user, IsClosed: flag, CreationTime: text });
const chatMessage = object({ Id: id, Message: text, CreationTime: text, Author: user });

export const ticketEvent = z.looseObject({ ...ticketItem });
export const statusChange = z.looseObject({ ...ticketItem, PreviousTicketStatus: text });
export const tagsChange = z.looseObject({ ...ticketItem, PreviousTicketTags: list(tag) });
export const categoryChange = z.looseObject({ ...ticketItem, PreviousTicketCategoryId: id });
export const replyEvent = z.looseObject({ ...ticketItem, ReplyId: id, Reply: reply });
export const noteEvent = z.looseObject({ ...ticketItem, NoteId: id, Note: note });
export const conversationEvent = z.looseObject({ ...chatItem, Conversation: conversation, Status: text });
export const messageAdded = z.looseObject({ ...chatItem, Message: chatMessage });
export const takeoverChange = z.looseObject({ ...chatItem, Takeover: object({ IsAssignedToBot: flag }) });
