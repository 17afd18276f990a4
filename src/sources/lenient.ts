import { z } from "zod";

/**
 * Building blocks for payload parsers that accept what a platform documents and survive what
 * it does not: nulls, missing fields, a number where a string was shown, an unknown extra
 * field. A webhook the relay half-understands is still routed and delivered; one it rejected
 * would be lost, because the platform only sees a 200 or an error.
 * Each ends in `.optional()` so that a key missing from the payload is fine, not an error.
 */

/** A string, a number as its text, or undefined for anything else (null included). */
export const text = z
  .unknown()
  .transform((value): string | undefined => {
    if (typeof value === "string") return value;
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    return undefined;
  })
  .optional();

/** An id: Socialboards sends numbers, GUID strings and sometimes null. */
export const id = text;

export const flag = z
  .unknown()
  .transform((value): boolean | undefined => (typeof value === "boolean" ? value : undefined))
  .optional();

/** An object parsed by `shape`, or undefined when it is missing or not an object at all. */
export function object<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const schema = z.looseObject(shape);
  return z
    .unknown()
    .transform((value) => {
      const parsed = schema.safeParse(value);
      return parsed.success ? parsed.data : undefined;
    })
    .optional();
}

/** A list of `item`s, skipping entries that are not one; undefined when it is not a list. */
export function list<Item extends z.ZodType>(item: Item) {
  return z
    .unknown()
    .transform((value): z.output<Item>[] | undefined => {
      if (!Array.isArray(value)) return undefined;
      return value.flatMap((entry) => {
        const parsed = item.safeParse(entry);
        return parsed.success && parsed.data !== undefined ? [parsed.data] : [];
      });
    })
    .optional();
}
