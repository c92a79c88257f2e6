import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../lib/config';
import { AppError } from '../../lib/errors';
import {
  DEFAULT_PROVIDERS_CONFIG,
  createProviderRegistry,
  loadProvidersConfig,
  parseProvidersConfig,
} from '../../activities/providers/registry';
import { startFakeUpstream } from '../support/fake-upstream';

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'novart-providers-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

const remoteConfig = {
  providers: [
    { id: 'primary', kind: 'openai', baseUrl: 'http://127.0.0.1:9/', apiKey: 'sk-primary', model: 'gpt-image-1', timeoutMs: 30_000 },
    { id: 'backup', kind: 'async', baseUrl: 'http://127.0.0.1:9/', callbackSecret: 'backup-callback-secret' },
    { id: 'local', kind: 'builtin' },
  ],
  models: [
    {
      id: 'studio-hd',
      label: 'Studio HD',
      providers: ['primary', 'backup', 'local'],
      prices: [{ width: 1024, height: 1024, unitPrice: 4 }],
    },
  ],
};

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('providers config', () => {
  test('uses the built-in default without a file', async () => {
    const config = await loadProvidersConfig(undefined);

    expect(config).toBe(DEFAULT_PROVIDERS_CONFIG);
    expect(config.models.map((model) => model.id)).toContain('novart-basic');
  });

  test('serves the default models with the built-in renderer', async () => {
    const registry = createProviderRegistry(DEFAULT_PROVIDERS_CONFIG);
    const [route] = registry.routesFor('novart-basic');

    const result = await route!.provider.generate({
      prompt: 'a teapot',
      model: route!.providerModel,
      width: 256,
      height: 256,
      count: 1,
      seed: 1,
      referenceImages: [],
    });

    expect(route?.provider.kind).toBe('builtin');
    expect(result.kind).toBe('completed');
  });

  test('loads a file and keeps the route order', async () => {
    const file = path.join(folder, 'providers.json');
    await writeFile(file, JSON.stringify(remoteConfig));

    const registry = createProviderRegistry(await loadProvidersConfig(file));
    const routes = registry.routesFor('studio-hd');

    expect(routes.map((route) => route.provider.id)).toEqual(['primary', 'backup', 'local']);
    expect(routes.map((route) => route.providerModel)).toEqual(['gpt-image-1', 'studio-hd', 'studio-hd']);
    expect(routes.map((route) => route.provider.kind)).toEqual(['openai', 'async', 'builtin']);
    expect(registry.callbackSecret('backup')).toBe('backup-callback-secret');
  });

  test('fills in the default timeout', () => {
    const config = parseProvidersConfig(remoteConfig);

    expect(config.providers[1]?.timeoutMs).toBe(120_000);
  });

  test('prices a listed size', () => {
    const registry = createProviderRegistry(DEFAULT_PROVIDERS_CONFIG);

    const price = registry.unitPrice('novart-pro', { width: 1024, height: 1024 });

    expect(price).toBe(5);
  });

  test('prices an unlisted size at the default', () => {
    const registry = createProviderRegistry(DEFAULT_PROVIDERS_CONFIG);

    const price = registry.unitPrice('novart-pro', { width: 1024, height: 576 });

    expect(price).toBe(8);
  });

  test('rejects a size a model does not offer', () => {
    const registry = createProviderRegistry(parseProvidersConfig(remoteConfig));

    const price = () => registry.unitPrice('studio-hd', { width: 512, height: 512 });

    expect(price).toThrow(AppError);
    expect(price).toThrow('not offered at 512x512');
  });

  test('rejects an unknown model', () => {
    const registry = createProviderRegistry(DEFAULT_PROVIDERS_CONFIG);

    const routes = () => registry.routesFor('no-such-model');

    expect(routes).toThrow('unknown model "no-such-model"');
  });

  test('reads the API key variable', async () => {
    const upstream = await startFakeUpstream({ apiKey: 'sk-from-env' });
    const config = parseProvidersConfig({
      providers: [{ id: 'remote', kind: 'openai', baseUrl: upstream.url, apiKeyEnv: 'REMOTE_IMAGES_KEY' }],
      models: [{ id: 'remote-model', label: 'Remote', providers: ['remote'], defaultUnitPrice: 3 }],
    });
    const registry = createProviderRegistry(config, { REMOTE_IMAGES_KEY: 'sk-from-env' });

    try {
      const result = await registry.provider('remote').generate({
        prompt: 'a kite',
        model: 'remote-model',
        width: 256,
        height: 256,
        count: 1,
        seed: 0,
        referenceImages: [],
      });

      expect(result.kind).toBe('completed');
      expect(upstream.calls[0]?.authorization).toBe('Bearer sk-from-env');
    } finally {
      await upstream.close();
    }
  });

  test('rejects a missing API key variable', () => {
    const config = parseProvidersConfig({
      providers: [{ id: 'remote', kind: 'openai', baseUrl: 'http://127.0.0.1:9', apiKeyEnv: 'UNSET_KEY' }],
      models: [{ id: 'remote-model', label: 'Remote', providers: ['remote'], defaultUnitPrice: 3 }],
    });

    const problems = problemsOf(() => createProviderRegistry(config, {}));

    expect(problems[0]).toContain('UNSET_KEY');
  });
});

describe('providers config validation', () => {
  test('requires a remote base URL', () => {
    const raw = { ...remoteConfig, providers: [{ id: 'primary', kind: 'openai' }, remoteConfig.providers[2]] };

    const problems = problemsOf(() => parseProvidersConfig(raw));

    expect(problems).toContain('providers config providers.0.baseUrl: required for kind "openai"');
  });

  test('rejects an unknown route provider', () => {
    const raw = { ...remoteConfig, models: [{ id: 'm', label: 'M', providers: ['ghost'], defaultUnitPrice: 1 }] };

    const problems = problemsOf(() => parseProvidersConfig(raw));

    expect(problems).toContain('providers config models.0.providers.0: unknown provider "ghost"');
  });

  test('rejects duplicate provider ids', () => {
    const raw = { ...remoteConfig, providers: [...remoteConfig.providers, { id: 'local', kind: 'builtin' }] };

    const problems = problemsOf(() => parseProvidersConfig(raw));

    expect(problems).toContain('providers config providers.3.id: duplicate provider id "local"');
  });

  test('rejects a model without any price', () => {
    const raw = { ...remoteConfig, models: [{ id: 'm', label: 'M', providers: ['local'] }] };

    const problems = problemsOf(() => parseProvidersConfig(raw));

    expect(problems).toContain('providers config models.0: give prices, defaultUnitPrice or both');
  });

  test('rejects an off-grid price size', () => {
    const raw = { ...remoteConfig, models: [{ id: 'm', label: 'M', providers: ['local'], prices: [{ width: 1000, height: 1024, unitPrice: 1 }] }] };

    const problems = problemsOf(() => parseProvidersConfig(raw));

    expect(problems).toContain('providers config models.0.prices.0.width: must be a multiple of 64');
  });

  test('rejects an unknown provider kind', () => {
    const raw = { ...remoteConfig, providers: [{ id: 'local', kind: 'magic' }] };

    const problems = problemsOf(() => parseProvidersConfig(raw));

    expect(problems.some((problem) => problem.startsWith('providers config providers.0.kind:'))).toBe(true);
  });

  test('rejects unknown fields', () => {
    const raw = { ...remoteConfig, providers: [{ id: 'local', kind: 'builtin', apikey: 'typo' }] };

    const problems = problemsOf(() => parseProvidersConfig(raw));

    expect(problems.some((problem) => problem.includes('apikey'))).toBe(true);
  });

  test('names the file when it is not JSON', async () => {
    const file = path.join(folder, 'broken.json');
    await writeFile(file, '{ "providers": [');

    const error = await loadProvidersConfig(file).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]).toContain(`PROVIDERS_FILE: ${file} is not valid JSON`);
  });

  test('names the file when it is missing', async () => {
    const file = path.join(folder, 'missing.json');

    const error = await loadProvidersConfig(file).catch((caught: unknown) => caught);

    expect((error as ConfigError).problems[0]).toContain(`PROVIDERS_FILE: cannot read ${file}`);
  });
});
