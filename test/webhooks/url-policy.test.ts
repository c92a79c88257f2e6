import { AppError } from '../../lib/errors';
import {
  checkWebhookUrl,
  validateWebhookUrlSyntax,
  type WebhookAddress,
  type WebhookLookup,
} from '../../lib/webhooks/url-policy';

/** Builds a resolver with fixed results that records each requested name. It never touches DNS. */
function fixedLookup(results: Record<string, WebhookAddress[]>): WebhookLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    const addresses = results[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses;
  };
  return Object.assign(lookup, { calls });
}

async function rejectionOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

const publicLookup = fixedLookup({
  'hooks.example.com': [{ address: '93.184.216.34', family: 4 }],
  'v6.example.com': [{ address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 }],
  'mixed.example.com': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.0.0.5', family: 4 },
  ],
  'internal.example.com': [{ address: '10.20.1.7', family: 4 }],
  'mapped.example.com': [{ address: '::ffff:192.168.1.1', family: 6 }],
  'empty.example.com': [],
});

describe('checkWebhookUrl', () => {
  const rejectedCases: Array<[string, string]> = [
    ['http://127.0.0.1/', 'non_public_address'],
    ['http://10.1.2.3/', 'non_public_address'],
    ['http://172.16.0.1/', 'non_public_address'],
    ['http://192.168.0.10/', 'non_public_address'],
    ['http://100.64.0.1/', 'non_public_address'],
    ['http://0.0.0.0/', 'non_public_address'],
    ['http://224.0.0.1/', 'non_public_address'],
    ['http://169.254.169.254/latest', 'metadata_address'],
    ['http://169.254.1.1/', 'non_public_address'],
    ['http://[::1]/', 'non_public_address'],
    ['http://[::]/', 'non_public_address'],
    ['http://[fe80::1]/', 'non_public_address'],
    ['http://[fc00::1]/', 'non_public_address'],
    ['http://[fd00:ec2::254]/', 'metadata_address'],
    ['http://[ff02::1]/', 'non_public_address'],
    ['http://[::127.0.0.1]/', 'non_public_address'],
    ['http://[64:ff9b::a00:1]/', 'non_public_address'],
    ['http://2130706433/', 'non_public_address'],
    ['http://0x7f.1/', 'non_public_address'],
    ['http://0177.0.0.1/', 'non_public_address'],
    ['http://127.1/', 'non_public_address'],
    ['http://[::ffff:10.0.0.1]/', 'non_public_address'],
    ['http://[::ffff:169.254.169.254]/', 'metadata_address'],
    ['http://mixed.example.com/', 'non_public_address'],
    ['http://mapped.example.com/', 'non_public_address'],
    ['http://unknown.example.com/', 'unresolvable'],
    ['http://empty.example.com/', 'unresolvable'],
    ['ftp://example.com', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['http://user:pass@example.com', 'credentials'],
    ['http://example.com:25/', 'port'],
    ['https://example.com/hook#part', 'fragment'],
    ['not a url', 'invalid_url'],
  ];

  test.each(rejectedCases)('rejects %s', async (url, reason) => {
    const error = await rejectionOf(checkWebhookUrl(url, { allowedCidrs: [], lookup: publicLookup }));

    expect(error.code).toBe('WEBHOOK_URL_REJECTED');
    expect(error.status).toBe(422);
    expect(error.details?.reason).toBe(reason);
  });

  test('accepts a public IPv4 host', async () => {
    const checked = await checkWebhookUrl('https://hooks.example.com/novart?token=abc', {
      allowedCidrs: [],
      lookup: publicLookup,
    });

    expect(checked.hostname).toBe('hooks.example.com');
    expect(checked.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  test('accepts a public IPv6 host', async () => {
    const checked = await checkWebhookUrl('https://v6.example.com/', { allowedCidrs: [], lookup: publicLookup });

    expect(checked.addresses).toEqual([{ address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 }]);
  });

  test('accepts a public IP literal without resolving', async () => {
    const lookup = fixedLookup({});

    const checked = await checkWebhookUrl('http://93.184.216.34:8080/hook', { allowedCidrs: [], lookup });

    expect(checked.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(lookup.calls).toEqual([]);
  });

  test('skips resolution for rejected syntax', async () => {
    const lookup = fixedLookup({});

    await rejectionOf(checkWebhookUrl('http://user:pass@example.com', { allowedCidrs: [], lookup }));

    expect(lookup.calls).toEqual([]);
  });

  test('allowed CIDR lets a private range through', async () => {
    const checked = await checkWebhookUrl('http://internal.example.com/hook', {
      allowedCidrs: ['10.20.0.0/16'],
      lookup: publicLookup,
    });

    expect(checked.addresses).toEqual([{ address: '10.20.1.7', family: 4 }]);
  });

  test('allowed CIDR covers loopback literals', async () => {
    const checked = await checkWebhookUrl('http://127.0.0.1:8080/', { allowedCidrs: ['127.0.0.0/8'] });

    expect(checked.addresses).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  test('allowed CIDR applies to IPv4-mapped addresses', async () => {
    const checked = await checkWebhookUrl('http://mapped.example.com/', {
      allowedCidrs: ['192.168.1.0/24'],
      lookup: publicLookup,
    });

    expect(checked.addresses).toHaveLength(1);
  });

  test('allowed CIDR outside the address still rejects', async () => {
    const error = await rejectionOf(
      checkWebhookUrl('http://10.1.2.3/', { allowedCidrs: ['10.20.0.0/16'], lookup: publicLookup }),
    );

    expect(error.details?.reason).toBe('non_public_address');
  });

  test('metadata address stays rejected inside an allowed CIDR', async () => {
    const error = await rejectionOf(
      checkWebhookUrl('http://169.254.169.254/latest', { allowedCidrs: ['169.254.0.0/16'], lookup: publicLookup }),
    );

    expect(error.details?.reason).toBe('metadata_address');
  });

  test('rebinding to a private address is caught on the second check', async () => {
    let answer = '93.184.216.34';
    const lookup: WebhookLookup = async () => [{ address: answer, family: 4 }];
    await checkWebhookUrl('https://rebind.example.com/', { allowedCidrs: [], lookup });

    answer = '10.0.0.5';
    const error = await rejectionOf(checkWebhookUrl('https://rebind.example.com/', { allowedCidrs: [], lookup }));

    expect(error.details?.reason).toBe('non_public_address');
    expect(error.details?.address).toBe('10.0.0.5');
  });
});

describe('validateWebhookUrlSyntax', () => {
  test('accepts an https URL with a query', () => {
    const url = validateWebhookUrlSyntax('https://example.com/hooks/novart?key=1');

    expect(url.hostname).toBe('example.com');
  });

  test('rejects a URL over 2048 characters', () => {
    const longUrl = `https://example.com/${'a'.repeat(2048)}`;

    const call = () => validateWebhookUrlSyntax(longUrl);

    expect(call).toThrow(expect.objectContaining({ code: 'WEBHOOK_URL_REJECTED', details: { reason: 'too_long' } }));
  });

  test('rejects an empty fragment', () => {
    const call = () => validateWebhookUrlSyntax('https://example.com/hook#');

    expect(call).toThrow(expect.objectContaining({ details: { reason: 'fragment' } }));
  });

  test('rejects a javascript URL', () => {
    const call = () => validateWebhookUrlSyntax('javascript:alert(1)');

    expect(call).toThrow(expect.objectContaining({ details: expect.objectContaining({ reason: 'scheme' }) }));
  });
});
