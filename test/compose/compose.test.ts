import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../../lib/config';
import { COMPOSE_REQUIRED_CONFIG_KEYS, COMPOSE_VARIABLES } from '../../scripts/config-docs';

// Docker cannot run here, so these tests check the shape of docker-compose.yml, not a running stack.

interface ComposeService {
  image?: string;
  build?: unknown;
  container_name?: string;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  command?: string[];
}

const rootDir = path.resolve(__dirname, '../..');
const composeText = readFileSync(path.join(rootDir, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, ComposeService> };
const services = compose.services;
const configKeys = Object.keys(configSchema.shape);

const SAMPLE_ENV: Record<string, string> = {
  PUBLIC_URL: 'https://studio.example.com',
  SESSION_SECRET: 's'.repeat(48),
  S3_ACCESS_KEY_ID: 'novart-access',
  S3_SECRET_ACCESS_KEY: 'novart-secret-key',
  POSTGRES_PASSWORD: 'postgres-password',
  NOVART_DB_PASSWORD: 'novart-password',
  TEMPORAL_DB_PASSWORD: 'temporal-password',
};

/** Resolves `${VAR}`, `${VAR:-default}` and `${VAR:?message}` the way Compose does, from `env`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_match, name: string, operator?: string, argument?: string) => {
    const resolved = env[name];
    if (resolved !== undefined && resolved !== '') return resolved;
    if (operator === '?') throw new Error(`${name} is required: ${argument}`);
    return operator === '-' ? (argument ?? '') : '';
  });
}

function serviceEnvironment(name: string): Record<string, string> {
  const environment = services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, String(value)]));
}

function requiredVariables(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((match) => match[1]!));
}

describe('docker-compose.yml', () => {
  test.each(['postgres', 'temporal', 'temporal-ui', 's3', 'api', 'worker'])('defines service %s', (name) => {
    expect(services[name]).toBeDefined();
  });

  test('temporal persists to postgres', () => {
    const environment = serviceEnvironment('temporal');

    expect(services.temporal?.image).toMatch(/^temporalio\/server:/);
    expect(environment.DB).toBe('postgres12');
    expect(environment.POSTGRES_SEEDS).toBe('postgres');
    expect(environment.DBNAME).not.toBe('novart');
    expect(environment.VISIBILITY_DBNAME).not.toBe('novart');
  });

  test('s3 store uses versitygw', () => {
    expect(services.s3?.image).toMatch(/^versity\/versitygw:/);
  });

  test('bucket creation waits for the store', () => {
    expect(services['s3-create-bucket']?.depends_on?.s3?.condition).toBe('service_healthy');
  });

  test('postgres keeps data in a volume', () => {
    expect(services.postgres?.volumes).toContain('postgres-data:/var/lib/postgresql/data');
  });

  test('postgres has a healthcheck', () => {
    expect(services.postgres?.healthcheck?.test).toContain('pg_isready');
  });

  test.each(['api', 'worker'])('%s sets only configuration variables', (name) => {
    const unknownKeys = Object.keys(serviceEnvironment(name)).filter((key) => !configKeys.includes(key));

    expect(unknownKeys).toEqual([]);
  });

  test.each(['api', 'worker'])('%s runs in production shape', (name) => {
    const environment = serviceEnvironment(name);

    expect(environment.NODE_ENV).toBe('production');
    expect(environment.HOST).toBe('0.0.0.0');
    expect(environment.STORAGE_DRIVER).toBe('s3');
    expect(environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(environment.DATABASE_URL).toMatch(/@postgres:5432\//);
  });

  test.each(['api', 'worker'])('%s environment passes config validation', (name) => {
    const environment = Object.fromEntries(
      Object.entries(serviceEnvironment(name)).map(([key, value]) => [key, interpolate(value, SAMPLE_ENV)]),
    );

    const config = loadConfig(environment);

    expect(config.NODE_ENV).toBe('production');
    expect(config.S3_BUCKET).toBe('novart');
    expect(config.publicUrl).toBe('https://studio.example.com');
  });

  test.each(['api', 'worker'])('%s depends on its backends', (name) => {
    const dependencies = services[name]?.depends_on ?? {};

    expect(dependencies.postgres?.condition).toBe('service_healthy');
    expect(dependencies.temporal?.condition).toBe('service_healthy');
    expect(dependencies.s3?.condition).toBe('service_healthy');
    expect(dependencies['temporal-namespace']?.condition).toBe('service_completed_successfully');
    expect(dependencies['s3-create-bucket']?.condition).toBe('service_completed_successfully');
  });

  test('api and worker run the same image', () => {
    expect(services.api?.image).toBeDefined();
    expect(services.worker?.image).toBe(services.api?.image);
  });

  test('api and worker run their own entry points', () => {
    expect(services.api?.command?.join(' ')).toContain('scripts/api.ts');
    expect(services.worker?.command?.join(' ')).toContain('scripts/worker.ts');
  });

  test('api healthcheck uses readyz', () => {
    expect(services.api?.healthcheck?.test.join(' ')).toContain('/readyz');
  });

  test('worker is scalable', () => {
    expect(services.worker?.container_name).toBeUndefined();
    expect(services.worker?.ports).toBeUndefined();
  });

  test('no service has a fixed container name', () => {
    const named = Object.entries(services).filter(([, service]) => service.container_name !== undefined);

    expect(named).toEqual([]);
  });

  test('secrets come from .env only', () => {
    const secretPattern = /PASSWORD|SECRET|_PWD$|ACCESS_KEY/;
    const literalSecrets: string[] = [];

    for (const [serviceName, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (secretPattern.test(key) && !/^\$\{[A-Z0-9_]+:\?[^}]+\}$/.test(String(value))) {
          literalSecrets.push(`${serviceName}.${key}`);
        }
      }
    }

    expect(literalSecrets).toEqual([]);
  });

  test('database URL takes its password from .env', () => {
    const databaseUrl = serviceEnvironment('api').DATABASE_URL;

    expect(databaseUrl).toMatch(/^postgres:\/\/novart:\$\{NOVART_DB_PASSWORD:\?[^}]+\}@/);
  });

  test('required variables match .env.example', () => {
    const expected = [...COMPOSE_VARIABLES.filter((variable) => variable.required).map((variable) => variable.key), ...COMPOSE_REQUIRED_CONFIG_KEYS];

    expect([...requiredVariables(composeText)].sort()).toEqual(expected.sort());
  });

  test('every interpolated variable is in .env.example', () => {
    const envExample = readFileSync(path.join(rootDir, '.env.example'), 'utf8');
    const interpolated = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1]!));

    const undocumented = [...interpolated].filter((name) => !new RegExp(`^# ${name}=`, 'm').test(envExample));

    expect(undocumented).toEqual([]);
  });

  test('mounted files exist', () => {
    const sources = Object.values(services)
      .flatMap((service) => service.volumes ?? [])
      .map((volume) => volume.split(':')[0]!)
      .filter((source) => source.startsWith('./'));

    const missing = sources.filter((source) => !existsSync(path.join(rootDir, source)));

    expect(sources.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});
