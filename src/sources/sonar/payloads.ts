import { z } from "zod";
import { id, list, object, text } from "../lenient.js";

/**
 * Sonar's webhook body (docs/sources/sonar.md): one flat JSON object per event, named by
 * `action`. Only a few fields are shown in Sonar's docs, so everything is lenient, and a few
 * names Sonar may use for the same thing are read alike.
 */
const person = object({ first_name: text, last_name: text, name: text, email: text, phone_number: text, id });
export type SonarPerson = NonNullable<z.output<typeof person>>;

const tag = z.union([z.string(), z.looseObject({ name: z.string() }).transform((named) => named.name)]);

export const sonarPayload = z.looseObject({
  action: text,
  uuid: text,
  message_id: id,
  text: text,
  link: text,
  created_at: text,
  customer: person,
  user: person,
  /** Tag events: the tag added or removed (a name, or an object with one). */
  tag: z
    .unknown()
    .transform((value) => tag.safeParse(value).data)
    .optional(),
  tags: list(tag),
  /** customer_state_changed: the state now (closed, assigned, snoozed …). */
  state: text,
  customer_state: text,
});
export type SonarPayload = z.output<typeof sonarPayload>;
