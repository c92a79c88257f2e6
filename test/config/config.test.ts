import { ConfigError, loadConfig } from '../../lib/config';

function captureError(env: NodeJS.ProcessEnv): unknown {
  try {
    loadConfig(env);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('loadConfig', () => {
  test('parses defaults from an empty environment', () => {
    const config = loadConfig({});

    expect(config.NODE_ENV).toBe('development');
    expect(config.PORT).toBe(3000);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.STORAGE_DRIVER).toBe('local');
    expect(config.RESULT_RETENTION).toBe(2 * 86_400_000);
    expect(config.WEBHOOK_RETRY_WINDOW).toBe(25 * 3_600_000);
    expect(config.WEBHOOK_ALLOWED_CIDRS).toEqual([]);
    expect(config.S3_FORCE_PATH_STYLE).toBe(true);
    expect(config.publicUrl).toBe('http://localhost:3000');
  });

  test('treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '', RESULT_RETENTION: '', STORAGE_DRIVER: '' });

    expect(config.PORT).toBe(3000);
    expect(config.RESULT_RETENTION).toBe(2 * 86_400_000);
    expect(config.STORAGE_DRIVER).toBe('local');
  });

  test('accepts a complete production environment', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://studio.example.com/',
      SESSION_SECRET: 'x'.repeat(32),
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'novart',
      S3_ACCESS_KEY_ID: 'access',
      S3_SECRET_ACCESS_KEY: 'secret',
      WEBHOOK_ALLOWED_CIDRS: '10.20.0.0/16, fd00::/8',
    });

    expect(config.publicUrl).toBe('https://studio.example.com');
    expect(config.STORAGE_DRIVER).toBe('s3');
    expect(config.WEBHOOK_ALLOWED_CIDRS).toEqual(['10.20.0.0/16', 'fd00::/8']);
  });

  const productionBase = { NODE_ENV: 'production', PUBLIC_URL: 'https://studio.example.com' };

  test.each([
    ['non-numeric PORT', { PORT: 'abc' }, 'PORT'],
    ['PORT out of range', { PORT: '70000' }, 'PORT'],
    ['duration without unit', { RESULT_RETENTION: '2' }, 'RESULT_RETENTION'],
    ['duration with unknown unit', { TASK_DEADLINE: '15 minutes' }, 'TASK_DEADLINE'],
    ['zero duration', { WEBHOOK_TIMEOUT: '0s' }, 'WEBHOOK_TIMEOUT'],
    ['unknown storage driver', { STORAGE_DRIVER: 'ftp' }, 'STORAGE_DRIVER'],
    ['unknown log level', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    ['unknown flag value', { S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE'],
    ['invalid URL', { PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    ['production without SESSION_SECRET', { ...productionBase }, 'SESSION_SECRET'],
    ['production without PUBLIC_URL', { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32) }, 'PUBLIC_URL'],
    ['short SESSION_SECRET', { SESSION_SECRET: 'x'.repeat(31) }, 'SESSION_SECRET'],
    ['s3 without bucket', { STORAGE_DRIVER: 's3' }, 'S3_BUCKET'],
    ['access key without secret', { S3_ACCESS_KEY_ID: 'access' }, 'S3_SECRET_ACCESS_KEY'],
    ['secret without access key', { S3_SECRET_ACCESS_KEY: 'secret' }, 'S3_ACCESS_KEY_ID'],
    ['retry window under 24h', { WEBHOOK_RETRY_WINDOW: '23h' }, 'WEBHOOK_RETRY_WINDOW'],
    ['CIDR prefix too long', { WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/33' }, 'WEBHOOK_ALLOWED_CIDRS'],
    ['CIDR without prefix', { WEBHOOK_ALLOWED_CIDRS: '10.0.0.0' }, 'WEBHOOK_ALLOWED_CIDRS'],
    ['CIDR with bad octet', { WEBHOOK_ALLOWED_CIDRS: '10.0.0.256/8' }, 'WEBHOOK_ALLOWED_CIDRS'],
  ])('rejects %s', (_case, env, variable) => {
    const error = captureError(env);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
    expect((error as ConfigError).problems.some((problem) => problem.includes(variable))).toBe(true);
  });

  test('names every bad variable at once', () => {
    const error = captureError({ PORT: 'abc', STORAGE_DRIVER: 'ftp' });

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('PORT');
    expect((error as ConfigError).message).toContain('STORAGE_DRIVER');
  });
});
