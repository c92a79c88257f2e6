import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../../lib/config';
import { appError } from '../../lib/errors';
import { createAsyncJobsProvider } from './async-jobs';
import { createBuiltinProvider } from './builtin-renderer';
import { createOpenAIImagesProvider } from './openai-images';
import { MAX_SIDE, MIN_SIDE, SIZE_STEP, type ImageSize } from './sizes';
import type { ImageProvider } from './types';

/**
 * The providers file: upstream providers, the models offered to users, which
 * providers serve each model (in priority order) and what an image costs.
 * Without a file, the built-in renderer serves a default set of models.
 */

const slug = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'use 1–64 lower-case letters, digits, dots, dashes or underscores');

const side = z
  .int()
  .min(MIN_SIDE)
  .max(MAX_SIDE)
  .refine((value) => value % SIZE_STEP === 0, `must be a multiple of ${SIZE_STEP}`);

/** Prices are whole amounts in the wallet's smallest currency unit, per image. */
const unitPrice = z.int().min(0);

export const providerConfigSchema = z.strictObject({
  id: slug,
  kind: z.enum(['builtin', 'openai', 'async']),
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  apiKey: z.string().min(1).optional(),
  /** Name of the environment variable holding the API key, to keep keys out of the file. */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
  timeoutMs: z.int().min(1_000).max(600_000).default(120_000),
  /** The upstream's model name; defaults to the id of the model being served. */
  model: z.string().min(1).optional(),
  /** Secret that signs this provider's job callbacks (asynchronous providers). */
  callbackSecret: z.string().min(16).optional(),
});

export const modelConfigSchema = z
  .strictObject({
    id: slug,
    label: z.string().trim().min(1).max(80),
    providers: z.array(slug).min(1, 'list at least one provider'),
    prices: z.array(z.strictObject({ width: side, height: side, unitPrice })).optional(),
    defaultUnitPrice: unitPrice.optional(),
  })
  .refine((model) => model.prices !== undefined || model.defaultUnitPrice !== undefined, {
    message: 'give prices, defaultUnitPrice or both',
  });

export const providersConfigSchema = z
  .strictObject({
    providers: z.array(providerConfigSchema).min(1),
    models: z.array(modelConfigSchema).min(1),
  })
  .superRefine((config, context) => {
    const providerIds = new Set<string>();
    config.providers.forEach((provider, index) => {
      if (providerIds.has(provider.id)) context.addIssue({ code: 'custom', path: ['providers', index, 'id'], message: `duplicate provider id "${provider.id}"` });
      providerIds.add(provider.id);
      if (provider.kind !== 'builtin' && !provider.baseUrl) {
        context.addIssue({ code: 'custom', path: ['providers', index, 'baseUrl'], message: `required for kind "${provider.kind}"` });
      }
      if (provider.apiKey && provider.apiKeyEnv) {
        context.addIssue({ code: 'custom', path: ['providers', index, 'apiKeyEnv'], message: 'give apiKey or apiKeyEnv, not both' });
      }
    });

    const modelIds = new Set<string>();
    config.models.forEach((model, index) => {
      if (modelIds.has(model.id)) context.addIssue({ code: 'custom', path: ['models', index, 'id'], message: `duplicate model id "${model.id}"` });
      modelIds.add(model.id);
      model.providers.forEach((providerId, position) => {
        if (!providerIds.has(providerId)) {
          context.addIssue({ code: 'custom', path: ['models', index, 'providers', position], message: `unknown provider "${providerId}"` });
        }
      });

      const sizes = new Set<string>();
      model.prices?.forEach((price, position) => {
        const key = `${price.width}x${price.height}`;
        if (sizes.has(key)) context.addIssue({ code: 'custom', path: ['models', index, 'prices', position], message: `duplicate price for ${key}` });
        sizes.add(key);
      });
    });
  });

export type ProvidersConfig = z.output<typeof providersConfigSchema>;
export type ProviderConfig = ProvidersConfig['providers'][number];
export type ModelConfig = ProvidersConfig['models'][number];

/** Served when no PROVIDERS_FILE is set: every model is painted by the built-in renderer. */
export const DEFAULT_PROVIDERS_CONFIG: ProvidersConfig = parseProvidersConfig({
  providers: [{ id: 'builtin', kind: 'builtin' }],
  models: [
    { id: 'novart-basic', label: 'Novart Basic', providers: ['builtin'], defaultUnitPrice: 2 },
    {
      id: 'novart-pro',
      label: 'Novart Pro',
      providers: ['builtin'],
      prices: [
        { width: 1024, height: 1024, unitPrice: 5 },
        { width: 2048, height: 2048, unitPrice: 12 },
      ],
      defaultUnitPrice: 8,
    },
  ],
});

/** Validates a parsed providers file; a ConfigError lists every problem with its path. */
export function parseProvidersConfig(raw: unknown, source = 'providers config'): ProvidersConfig {
  const result = providersConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${source} ${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return result.data;
}

/** Reads and validates the providers file, or returns the default when `path` is undefined. */
export async function loadProvidersConfig(path: string | undefined): Promise<ProvidersConfig> {
  if (path === undefined) return DEFAULT_PROVIDERS_CONFIG;

  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`PROVIDERS_FILE: cannot read ${path}: ${(error as Error).message}`]);
  }

  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`PROVIDERS_FILE: ${path} is not valid JSON: ${(error as Error).message}`]);
  }
  return parseProvidersConfig(raw, `PROVIDERS_FILE ${path}`);
}

/** One step of a model's route: the provider and the model name to send it. */
export interface ProviderRoute {
  provider: ImageProvider;
  providerModel: string;
}

export interface ProviderRegistry {
  readonly config: ProvidersConfig;
  models(): ModelConfig[];
  model(modelId: string): ModelConfig | undefined;
  provider(providerId: string): ImageProvider;
  /** The providers serving a model, in the order to try them. */
  routesFor(modelId: string): ProviderRoute[];
  /** The price of one image of the model at the size; VALIDATION_FAILED if the size is not offered. */
  unitPrice(modelId: string, size: ImageSize): number;
  callbackSecret(providerId: string): string | undefined;
}

/** Builds a client for every configured provider; API keys named by apiKeyEnv are read from `env`. */
export function createProviderRegistry(config: ProvidersConfig, env: NodeJS.ProcessEnv = process.env): ProviderRegistry {
  const providers = new Map(config.providers.map((provider) => [provider.id, createProvider(provider, env)]));
  const providerConfigs = new Map(config.providers.map((provider) => [provider.id, provider]));
  const models = new Map(config.models.map((model) => [model.id, model]));

  const requireModel = (modelId: string): ModelConfig => {
    const model = models.get(modelId);
    if (!model) throw appError('VALIDATION_FAILED', `unknown model "${modelId}"`, { field: 'model', models: [...models.keys()] });
    return model;
  };
  const requireProvider = (providerId: string): ImageProvider => {
    const provider = providers.get(providerId);
    if (!provider) throw appError('NOT_FOUND', `unknown provider "${providerId}"`);
    return provider;
  };

  return {
    config,
    models: () => [...models.values()],
    model: (modelId) => models.get(modelId),
    provider: requireProvider,
    routesFor(modelId) {
      const model = requireModel(modelId);
      return model.providers.map((providerId) => ({
        provider: requireProvider(providerId),
        providerModel: providerConfigs.get(providerId)?.model ?? model.id,
      }));
    },
    unitPrice(modelId, size) {
      const model = requireModel(modelId);
      const listed = model.prices?.find((price) => price.width === size.width && price.height === size.height);
      const price = listed?.unitPrice ?? model.defaultUnitPrice;
      if (price === undefined) {
        throw appError('VALIDATION_FAILED', `model "${modelId}" is not offered at ${size.width}x${size.height}`, {
          field: 'size',
          sizes: model.prices?.map((entry) => `${entry.width}x${entry.height}`) ?? [],
        });
      }
      return price;
    },
    callbackSecret: (providerId) => providerConfigs.get(providerId)?.callbackSecret,
  };
}

function createProvider(provider: ProviderConfig, env: NodeJS.ProcessEnv): ImageProvider {
  const apiKey = provider.apiKey ?? (provider.apiKeyEnv ? env[provider.apiKeyEnv] : undefined);
  if (provider.apiKeyEnv && !apiKey) {
    throw new ConfigError([`provider "${provider.id}": environment variable ${provider.apiKeyEnv} (apiKeyEnv) is not set`]);
  }

  const connection = { id: provider.id, baseUrl: provider.baseUrl ?? '', timeoutMs: provider.timeoutMs, ...(apiKey ? { apiKey } : {}) };
  switch (provider.kind) {
    case 'builtin':
      return createBuiltinProvider(provider.id);
    case 'openai':
      return createOpenAIImagesProvider(connection);
    case 'async':
      return createAsyncJobsProvider(connection);
  }
}
