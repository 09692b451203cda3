import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
const grpcStatus = { NOT_FOUND: 5, ALREADY_EXISTS: 6 } as const;
const isGrpc = (err: unknown, code: number) => (err as { code?: number } | null)?.code === code;

/**
 * A bare cluster has no namespace (the deprecated auto-setup image made `default`): register the
 * one Mandi uses, then Mandi's Keyword search attributes (workflows/search-attributes.ts), the
 * same ones the dev-server launcher passes with --search-attribute. Safe to repeat.
 */
export async function ensureNamespace(connection: Connection, namespace: string, retentionDays = 3): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(`${retentionDays * 24}h`),
    });
  } catch (err) {
    if (!isGrpc(err, grpcStatus.ALREADY_EXISTS)) throw err;
  }
  // The frontend learns about a new namespace on its next registry refresh (a few seconds).
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      break;
    } catch (err) {
      if (!isGrpc(err, grpcStatus.NOT_FOUND) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, KEYWORD])),
    });
  } catch (err) {
    // Another `up` raced us to it.
    if (!isGrpc(err, grpcStatus.ALREADY_EXISTS)) throw err;
  }
}
