/** Values globalSetup hands to every test file through the environment. */
export const testEnv = {
  get temporalAddress(): string {
    return required('MANDI_TEST_TEMPORAL_ADDRESS');
  },
  get templateDatabase(): string {
    return required('MANDI_TEST_TEMPLATE_DB');
  },
  get workflowBundlePath(): string {
    return required('MANDI_TEST_WORKFLOW_BUNDLE');
  },
  get runId(): string {
    return required('MANDI_TEST_RUN_ID');
  },
  adminDatabaseUrl: process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (npm test), which starts the test services`);
  return value;
}

/** The URL of database `name` on the test Postgres server. */
export function databaseUrl(name: string): string {
  const url = new URL(testEnv.adminDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
