import { describe, expect, it } from "vitest";
import { HttpError, parseJsonBody } from "../src/http/body.js";

describe("reading a webhook body as JSON", () => {
  it("refuses bytes that are not UTF-8 with a 400, instead of storing replacement characters", () => {
    const body = Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect(() => parseJsonBody(body)).toThrow(HttpError);
    expect(() => parseJsonBody(body)).toThrow(/not valid UTF-8/);
  });

  it("reads characters beyond ASCII", () => {
    expect(parseJsonBody(Buffer.from('{"title":"Kat er syg 🐈 — æøå"}'))).toEqual({ title: "Kat er syg 🐈 — æøå" });
  });

  it("still refuses a byte order mark, as JSON.parse always did", () => {
    expect(() => parseJsonBody(Buffer.from('\uFEFF{"a":1}'))).toThrow(/not valid JSON/);
  });
});
