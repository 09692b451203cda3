import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createDb, migrateLatest } from '../../db/knex';
import { freePort, startDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { databaseUrl, testEnv } from './env';

declare global {
  var __mandiDevServer: DevServer | undefined;
}

/**
 * Once per test run: one in-memory Temporal dev server, one migrated template database (each test
 * file clones it), and one workflow bundle shared by every test worker.
 */
export default async function globalSetup(): Promise<void> {
  const runId = `${process.pid}`;
  process.env.MANDI_TEST_RUN_ID = runId;

  const [devServer, template, bundlePath] = await Promise.all([
    startDevServer({ port: await freePort(), headless: true }),
    createTemplateDatabase(`mandi_tmpl_${runId}`),
    bundleWorkflows(runId),
  ]);
  globalThis.__mandiDevServer = devServer;
  process.env.MANDI_TEST_TEMPORAL_ADDRESS = devServer.address;
  process.env.MANDI_TEST_TEMPLATE_DB = template;
  process.env.MANDI_TEST_WORKFLOW_BUNDLE = bundlePath;
}

async function createTemplateDatabase(name: string): Promise<string> {
  const admin = knex({ client: 'pg', connection: testEnv.adminDatabaseUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`DROP DATABASE IF EXISTS ${name}`);
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const db = createDb(databaseUrl(name), 1);
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  return name;
}

async function bundleWorkflows(runId: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
  });
  const file = path.join(os.tmpdir(), `mandi-workflows-${runId}.js`);
  fs.writeFileSync(file, code);
  return file;
}
