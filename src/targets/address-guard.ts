import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from "node:dns";
import { BlockList, isIP, isIPv4, type LookupFunction } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * The SSRF guard: outbound HTTP may not reach the relay's own machine or network. A webhook URL
 * is often typed in by whoever sets up an integration; without the guard, one pointed at
 * 127.0.0.1, 10.0.0.5 or a cloud metadata address (169.254.169.254) has the relay make the
 * request for them, from inside.
 *
 * The check runs on addresses, after DNS, inside the lookup the connection itself uses
 * (`checkingLookup`): the address that was checked is the one connected to, so a name that
 * resolves to a public address for a check and to a private one for the connection (DNS
 * rebinding) cannot slip through.
 */

const allow = "set allowPrivateNetwork: true to allow";

function rangeList(...subnets: [network: string, prefix: number][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of subnets) list.addSubnet(network, prefix, isIPv4(network) ? "ipv4" : "ipv6");
  return list;
}

/** Each refused range, by what the message calls it. */
const refusedRanges: [name: string, ranges: BlockList][] = [
  // 0.0.0.0/8 "this network": Linux connects 0.0.0.0 to the machine itself.
  ["an unspecified", rangeList(["0.0.0.0", 8], ["::", 128])],
  ["a loopback", rangeList(["127.0.0.0", 8], ["::1", 128])],
  ["a private", rangeList(["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16])],
  ["a link-local", rangeList(["169.254.0.0", 16], ["fe80::", 10])],
  ["a carrier-grade NAT (shared)", rangeList(["100.64.0.0", 10])],
  ["a multicast", rangeList(["224.0.0.0", 4], ["ff00::", 8])],
  // 240/4 and the broadcast address, and 192.0.0.0/24 (IETF protocol assignments, e.g. DS-Lite
  // and NAT64 discovery): never a webhook receiver.
  ["a reserved", rangeList(["240.0.0.0", 4], ["192.0.0.0", 24])],
  // TEST-NET-1/2/3 and 2001:db8::/32 are for examples only (RFC 5737, 3849), so a public receiver
  // never has one; a lab or cloud network that reuses them inside does, and that is what the
  // guard keeps out.
  ["a documentation", rangeList(["192.0.2.0", 24], ["198.51.100.0", 24], ["203.0.113.0", 24], ["2001:db8::", 32])],
  // 198.18.0.0/15 is for benchmarking between networks (RFC 2544): internal test rigs, not receivers.
  ["a benchmarking", rangeList(["198.18.0.0", 15])],
  ["a unique-local", rangeList(["fc00::", 7])],
  // ::a.b.c.d, deprecated since 2006 (RFC 4291) and routed by no one: where a stack still takes
  // it for the IPv4 address it would reach that address unchecked, so the whole /96 is refused.
  // :: and ::1 inside it are named above, as the first match wins.
  ["an IPv4-compatible (deprecated)", rangeList(["::", 96])],
];

/**
 * The host's own interface addresses, read at each check since interfaces come and go (DHCP, a
 * VPN). A public address of the machine reaches whatever listens on all interfaces (the admin
 * port, Redis without a bind) just as 127.0.0.1 does, although no range above says so.
 * Reading them costs a getifaddrs call, once per new connection, not per delivery.
 */
function hostAddresses(): BlockList {
  const list = new BlockList();
  for (const addresses of Object.values(networkInterfaces()))
    for (const { address, family } of addresses ?? []) list.addAddress(address, family === "IPv4" ? "ipv4" : "ipv6");
  return list;
}

/**
 * IPv6 forms that reach an IPv4 address: IPv4-mapped (::ffff:a.b.c.d, which the OS connects to
 * the IPv4 address itself) and the NAT64 well-known prefix (64:ff9b::/96, which a NAT64 gateway
 * forwards to it). They are judged as that IPv4 address.
 */
function embeddedIPv4(address: string): string | undefined {
  // The URL parser writes any IPv6 in one canonical, compressed, lower-case form.
  const canonical = new URL(`http://[${address}]`).hostname;
  const match = /^\[(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical);
  if (!match) return undefined;
  const [high, low] = [Number.parseInt(match[1] ?? "", 16), Number.parseInt(match[2] ?? "", 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/**
 * What kind of address the guard refuses this one as, e.g. `a loopback address`; undefined when
 * it may be reached. `ownAddresses` is the host's own (tests hand in a made-up machine's).
 */
export function blockedRange(address: string, ownAddresses: () => BlockList = hostAddresses): string | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const ipv4 = family === 4 ? address : embeddedIPv4(address);
  const [checked, type] = ipv4 ? [ipv4, "ipv4" as const] : [address, "ipv6" as const];
  const refused = refusedRanges.find(([, ranges]) => ranges.check(checked, type));
  if (refused) return `${refused[0]} address`;
  return ownAddresses().check(checked, type) ? "an address of this host" : undefined;
}

/** A connection the guard refused; never worth another try, since the address will not change by itself. */
export class BlockedAddress extends Error {
  override name = "BlockedAddress";
  readonly code = "ERR_BLOCKED_ADDRESS";
}

/**
 * The refusal for a URL host written as an IP address (`127.0.0.1`, `[::1]`), or undefined.
 * Such a host is connected to without any lookup, so it is checked here, before connecting.
 */
export function refusalForLiteralHost(hostname: string): string | undefined {
  const address = hostname.replace(/^\[(.*)\]$/, "$1");
  const range = isIP(address) ? blockedRange(address) : undefined;
  return range ? `refused: ${address} is ${range}; ${allow}` : undefined;
}

/** dns.lookup as the checking lookup calls it: every address, in the order the system prefers. */
export type Resolve = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for net.connect that resolves as usual and then refuses the connection if any
 * address of the name is in a refused range: a name with one public and one private address
 * could otherwise be connected to the private one. DNS errors pass on unchanged (worth a retry).
 */
export function checkingLookup(resolve: Resolve = dnsLookup): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      for (const { address } of addresses) {
        const range = blockedRange(address);
        if (range)
          return callback(new BlockedAddress(`refused: ${hostname} resolves to ${address}, ${range}; ${allow}`), []);
      }
      // net.connect asks for every address when it tries IPv4 and IPv6 in turn (autoSelectFamily).
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
