import dns from 'node:dns';
import ipaddr from 'ipaddr.js';

import { appError } from '../errors';

/**
 * Policy for webhook URLs: the product calls public `http(s)` addresses only,
 * so that a task's webhook cannot reach the operator's network (SSRF). The check
 * runs when a task is created and again before every delivery attempt.
 */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** One resolved address of a webhook host, in the shape of `dns.promises.lookup` with `all: true`. */
export interface WebhookAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses. It is injectable, so tests need no DNS. */
export type WebhookLookup = (hostname: string) => Promise<WebhookAddress[]>;

export interface WebhookUrlPolicy {
  /** CIDR ranges that may be called although not public (operator setting WEBHOOK_ALLOWED_CIDRS). */
  allowedCidrs: readonly string[];
  lookup?: WebhookLookup;
}

/** A URL that passed the policy, with the addresses a delivery may connect to. */
export interface CheckedWebhookUrl {
  url: URL;
  /** Host name without IPv6 brackets, as passed to the resolver and used for TLS SNI. */
  hostname: string;
  addresses: WebhookAddress[];
}

export type WebhookUrlRejection =
  | 'invalid_url'
  | 'too_long'
  | 'scheme'
  | 'credentials'
  | 'fragment'
  | 'port'
  | 'unresolvable'
  | 'non_public_address'
  | 'metadata_address';

/**
 * Cloud instance-metadata and platform endpoints. They stay rejected even when
 * an allowed CIDR covers them, because they hand out the host's credentials.
 * Sources: AWS EC2 and ECS/EKS, Azure wire server, Alibaba Cloud, Oracle Cloud docs.
 */
const METADATA_ADDRESSES = new Set(
  [
    '169.254.169.254',
    '169.254.170.2',
    '169.254.170.23',
    'fd00:ec2::254',
    'fd00:ec2::23',
    '168.63.129.16',
    '100.100.100.200',
    '192.0.0.192',
  ].map((text) => ipaddr.parse(text).toNormalizedString()),
);

/**
 * The "bad ports" of the WHATWG Fetch standard: ports of non-HTTP protocols
 * (SMTP, SSH, IRC, …) that browsers never send HTTP requests to either.
 */
const BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109,
  110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530,
  531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190,
  5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** IPv6 global unicast (2000::/3). Every other IPv6 range is special-purpose or unassigned. */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/** Resolves with `dns.promises.lookup`, keeping the resolver's order of IPv4 and IPv6 results. */
export const systemLookup: WebhookLookup = async (hostname) => {
  const results = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return results.map((result) => ({ address: result.address, family: result.family === 6 ? 6 : 4 }));
};

/**
 * Checks the form of a webhook URL without resolving it, for request validation.
 * Throws `WEBHOOK_URL_REJECTED` with `details.reason`; returns the parsed URL.
 */
export function validateWebhookUrlSyntax(text: string): URL {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) {
    throw rejection('too_long', `Webhook URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters.`);
  }

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw rejection('invalid_url', 'Webhook URL is not a valid absolute URL.');
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw rejection('scheme', 'Webhook URL must use http or https.', { scheme: url.protocol.replace(/:$/, '') });
  }
  if (url.username !== '' || url.password !== '') {
    throw rejection('credentials', 'Webhook URL must not contain a user name or password.');
  }
  // The hash is also empty for a bare "#", so the raw text is checked too.
  if (url.hash !== '' || text.includes('#')) {
    throw rejection('fragment', 'Webhook URL must not contain a fragment (#…).');
  }

  const port = effectivePort(url);
  if (BAD_PORTS.has(port)) {
    throw rejection('port', `Webhook URL port ${port} is reserved for a non-HTTP protocol.`, { port });
  }

  return url;
}

/**
 * Checks a webhook URL completely: its form, then every address its host
 * resolves to. IP literals are checked after WHATWG URL parsing, so every
 * spelling the parser normalises (`2130706433`, `0x7f.1`, `[::ffff:a00:1]`) is
 * caught. Throws `WEBHOOK_URL_REJECTED` with `details.reason`.
 */
export async function checkWebhookUrl(text: string, policy: WebhookUrlPolicy): Promise<CheckedWebhookUrl> {
  const url = validateWebhookUrlSyntax(text);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const allowedRanges = parseAllowedCidrs(policy.allowedCidrs);

  const addresses = ipaddr.isValid(hostname)
    ? [{ address: hostname, family: ipaddr.parse(hostname).kind() === 'ipv6' ? 6 : 4 } as const]
    : await resolveHost(hostname, policy.lookup ?? systemLookup);

  // Every address must pass, because a resolver may return them in any order
  // and a connection may be made to any of them.
  for (const { address } of addresses) {
    checkAddress(address, hostname, allowedRanges);
  }

  return { url, hostname, addresses };
}

/** Rejects an address unless it is public or inside an allowed range. Metadata addresses are always rejected. */
function checkAddress(text: string, hostname: string, allowedRanges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>): void {
  if (!ipaddr.isValid(text)) {
    throw rejection('unresolvable', `Webhook host "${hostname}" resolved to an invalid address.`, { hostname });
  }

  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) reaches the IPv4 host, so it is judged as IPv4.
  const address = ipaddr.process(text);
  const normalized = address.toNormalizedString();

  if (METADATA_ADDRESSES.has(normalized)) {
    throw rejection('metadata_address', `Webhook host "${hostname}" resolves to a cloud metadata address.`, {
      hostname,
      address: address.toString(),
    });
  }
  if (allowedRanges.some((range) => address.kind() === range[0].kind() && address.match(range))) return;
  if (isPublicAddress(address)) return;

  throw rejection('non_public_address', `Webhook host "${hostname}" resolves to a non-public address.`, {
    hostname,
    address: address.toString(),
    range: address.range(),
  });
}

function isPublicAddress(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (address.range() !== 'unicast') return false;
  if (address.kind() === 'ipv4') return true;

  return (address as ipaddr.IPv6).match(IPV6_GLOBAL_UNICAST);
}

async function resolveHost(hostname: string, lookup: WebhookLookup): Promise<WebhookAddress[]> {
  let addresses: WebhookAddress[];
  try {
    addresses = await lookup(hostname);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw rejection('unresolvable', `Webhook host "${hostname}" could not be resolved.`, { hostname, code });
  }

  if (addresses.length === 0) {
    throw rejection('unresolvable', `Webhook host "${hostname}" has no addresses.`, { hostname });
  }
  return addresses;
}

function parseAllowedCidrs(cidrs: readonly string[]): Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> {
  return cidrs.map((cidr) => {
    const [address, prefixLength] = ipaddr.parseCIDR(cidr);
    // A range written as IPv4-mapped IPv6 is compared with the IPv4 addresses it maps.
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && prefixLength >= 96) {
      return [(address as ipaddr.IPv6).toIPv4Address(), prefixLength - 96];
    }
    return [address, prefixLength];
  });
}

function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function rejection(reason: WebhookUrlRejection, message: string, details: Record<string, unknown> = {}) {
  return appError('WEBHOOK_URL_REJECTED', message, { reason, ...details });
}
