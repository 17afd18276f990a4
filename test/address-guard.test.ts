import type { LookupAddress } from "node:dns";
import { BlockList } from "node:net";
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import {
  BlockedAddress,
  blockedRange,
  checkingLookup,
  type Resolve,
  refusalForLiteralHost,
} from "../src/targets/address-guard.js";

/**
 * Pure checks: no test here opens a socket or asks a DNS server anything. The resolver the
 * checking lookup wraps is handed in, as a list of answers.
 */
describe("which addresses the SSRF guard refuses", () => {
  it.each([
    ["0.0.0.0", "an unspecified"],
    ["0.255.255.255", "an unspecified"],
    ["127.0.0.1", "a loopback"],
    ["127.255.255.254", "a loopback"],
    ["10.0.0.0", "a private"],
    ["10.255.255.255", "a private"],
    ["172.16.0.1", "a private"],
    ["172.31.255.255", "a private"],
    ["192.168.0.1", "a private"],
    ["192.168.255.255", "a private"],
    ["169.254.169.254", "a link-local"],
    ["169.254.0.0", "a link-local"],
    ["100.64.0.1", "a carrier-grade NAT (shared)"],
    ["100.127.255.255", "a carrier-grade NAT (shared)"],
    ["224.0.0.1", "a multicast"],
    ["239.255.255.255", "a multicast"],
    ["240.0.0.1", "a reserved"],
    ["255.255.255.255", "a reserved"],
    ["::", "an unspecified"],
    ["::1", "a loopback"],
    ["fe80::1", "a link-local"],
    ["febf:ffff::1", "a link-local"],
    ["fc00::1", "a unique-local"],
    ["fd12:3456:789a::1", "a unique-local"],
    ["ff02::1", "a multicast"],
    ["FF05::2", "a multicast"],
    // IPv4-mapped IPv6 reaches the IPv4 address, so it is judged as that address.
    ["::ffff:127.0.0.1", "a loopback"],
    ["::ffff:7f00:1", "a loopback"],
    ["::ffff:10.1.2.3", "a private"],
    ["::ffff:a9fe:a9fe", "a link-local"],
    ["0:0:0:0:0:ffff:c0a8:0101", "a private"],
    // So is the NAT64 prefix, which a gateway forwards to the IPv4 address.
    ["64:ff9b::a00:1", "a private"],
    ["64:ff9b::127.0.0.1", "a loopback"],
    // Special-purpose ranges no public receiver has, but a lab or cloud network may use inside.
    ["192.0.0.1", "a reserved"],
    ["192.0.0.255", "a reserved"],
    ["192.0.2.2", "a documentation"],
    ["198.51.100.7", "a documentation"],
    ["203.0.113.255", "a documentation"],
    ["2001:db8::1", "a documentation"],
    ["198.18.0.1", "a benchmarking"],
    ["198.19.255.255", "a benchmarking"],
    ["::ffff:192.0.2.2", "a documentation"],
    ["::ffff:c612:1", "a benchmarking"],
    ["64:ff9b::203.0.113.9", "a documentation"],
    // IPv4-compatible (::a.b.c.d, deprecated): refused whatever IPv4 address it carries.
    ["::2", "an IPv4-compatible (deprecated)"],
    ["::7f00:1", "an IPv4-compatible (deprecated)"],
    ["::8.8.8.8", "an IPv4-compatible (deprecated)"],
    ["0:0:0:0:0:0:ffff:ffff", "an IPv4-compatible (deprecated)"],
  ])("refuses %s as %s address", (address, range) => {
    expect(blockedRange(address)).toBe(`${range} address`);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "9.255.255.255",
    "11.0.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.167.255.255",
    "192.169.0.0",
    "169.253.255.255",
    "169.255.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2001:db7:ffff::1",
    "2001:db9::1",
    "191.255.255.255",
    "192.0.1.255",
    "192.0.3.0",
    "198.17.255.255",
    "198.20.0.0",
    "198.51.99.255",
    "198.51.101.0",
    "203.0.112.255",
    "203.0.114.0",
    "::1:0:0:1",
    "fe7f::1",
    "fec0::1",
    "fbff::1",
    "fe00::1",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ])("lets %s through", (address) => {
    expect(blockedRange(address)).toBeUndefined();
  });
});

describe("the host's own addresses", () => {
  /** A made-up machine with a public IPv4 and a global IPv6 address on its interface. */
  const machine = () => {
    const own = new BlockList();
    own.addAddress("93.184.215.14", "ipv4");
    own.addAddress("2606:2800:21f:cb07:6820:80da:af6b:8b2c", "ipv6");
    return own;
  };

  it.each([
    "93.184.215.14",
    "::ffff:93.184.215.14",
    "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    "2606:2800:21f:cb07:6820:80da:AF6B:8B2C",
  ])("refuses %s, an address of the machine itself although public", (address) => {
    expect(blockedRange(address, machine)).toBe("an address of this host");
  });

  it("lets the machine's public neighbours through", () => {
    expect(blockedRange("93.184.215.15", machine)).toBeUndefined();
    expect(blockedRange("2606:2800:21f:cb07::1", machine)).toBeUndefined();
  });

  it("refuses every address this machine's interfaces have, whatever their range", () => {
    const addresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
    expect(addresses.length).toBeGreaterThan(0);
    for (const { address } of addresses) expect(blockedRange(address), address).toBeDefined();
  });

  it("still names the range first when a machine's address is in one", () => {
    const own = new BlockList();
    own.addAddress("10.0.0.5", "ipv4");
    expect(blockedRange("10.0.0.5", () => own)).toBe("a private address");
  });
});

describe("a host written as an IP address", () => {
  it.each([
    ["127.0.0.1", "refused: 127.0.0.1 is a loopback address; set allowPrivateNetwork: true to allow"],
    ["[::1]", "refused: ::1 is a loopback address; set allowPrivateNetwork: true to allow"],
    ["[::ffff:7f00:1]", "refused: ::ffff:7f00:1 is a loopback address; set allowPrivateNetwork: true to allow"],
    ["10.0.0.7", "refused: 10.0.0.7 is a private address; set allowPrivateNetwork: true to allow"],
    ["203.0.113.5", "refused: 203.0.113.5 is a documentation address; set allowPrivateNetwork: true to allow"],
    [
      "[::7f00:1]",
      "refused: ::7f00:1 is an IPv4-compatible (deprecated) address; set allowPrivateNetwork: true to allow",
    ],
  ])("is checked without a lookup: %s", (host, message) => {
    expect(refusalForLiteralHost(host)).toBe(message);
  });

  it.each(["http://2130706433/", "http://0x7f.1/", "http://017700000001/", "http://[0:0:0:0:0:0:0:1]/"])(
    "is refused in any spelling the URL parser accepts: %s",
    (url) => {
      expect(refusalForLiteralHost(new URL(url).hostname)).toMatch(/ is a loopback address; /);
    },
  );

  it("leaves public addresses and host names alone (names are checked after the lookup)", () => {
    expect(refusalForLiteralHost("93.184.215.14")).toBeUndefined();
    expect(refusalForLiteralHost("[2606:4700::1]")).toBeUndefined();
    expect(refusalForLiteralHost("localhost")).toBeUndefined();
    expect(refusalForLiteralHost("crm.example.com")).toBeUndefined();
  });
});

describe("the checking DNS lookup", () => {
  /** A resolver that answers from a table, as dns.lookup with `all: true` would. */
  const resolverOf =
    (answers: Record<string, LookupAddress[]>): Resolve =>
    (hostname, _options, callback) => {
      const found = answers[hostname];
      if (found) callback(null, found);
      else callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), []);
    };
  const resolve = resolverOf({
    "crm.example.com": [
      { address: "93.184.215.14", family: 4 },
      { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 },
    ],
    "internal.example.com": [{ address: "10.0.0.5", family: 4 }],
    "split.example.com": [
      { address: "93.184.215.14", family: 4 },
      { address: "fd00::5", family: 6 },
    ],
  });
  const lookup = checkingLookup(resolve);

  const call = (hostname: string, all: boolean) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((done) => {
      lookup(hostname, { all }, (error, address, family) => done({ error, address, family }));
    });

  it("hands back every address of a public host when asked for all of them", async () => {
    const { error, address } = await call("crm.example.com", true);
    expect(error).toBeNull();
    expect(address).toEqual([
      { address: "93.184.215.14", family: 4 },
      { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 },
    ]);
  });

  it("hands back the first address of a public host when asked for one", async () => {
    expect(await call("crm.example.com", false)).toEqual({ error: null, address: "93.184.215.14", family: 4 });
  });

  it("refuses a name that resolves to a private address, saying which", async () => {
    const { error } = await call("internal.example.com", true);
    expect(error).toBeInstanceOf(BlockedAddress);
    expect(error?.message).toBe(
      "refused: internal.example.com resolves to 10.0.0.5, a private address; set allowPrivateNetwork: true to allow",
    );
  });

  it("refuses a name when any one of its addresses is private, so the connection cannot pick that one", async () => {
    const { error } = await call("split.example.com", false);
    expect(error?.message).toMatch(/resolves to fd00::5, a unique-local address/);
  });

  it("checks every lookup anew, so a name that later resolves elsewhere (DNS rebinding) is caught", async () => {
    let answer = "93.184.215.14";
    const rebinding = checkingLookup((_hostname, _options, callback) =>
      callback(null, [{ address: answer, family: 4 }]),
    );
    const first = await new Promise<NodeJS.ErrnoException | null>((done) =>
      rebinding("rebind.example.com", { all: true }, (error) => done(error)),
    );
    answer = "127.0.0.1";
    const second = await new Promise<NodeJS.ErrnoException | null>((done) =>
      rebinding("rebind.example.com", { all: true }, (error) => done(error)),
    );
    expect(first).toBeNull();
    expect(second).toBeInstanceOf(BlockedAddress);
  });

  it("passes a DNS failure on as it is: that one is worth retrying", async () => {
    const { error } = await call("nowhere.example.com", true);
    expect(error).not.toBeInstanceOf(BlockedAddress);
    expect(error?.code).toBe("ENOTFOUND");
  });
});
