import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * The AsyncAPI document's messages, split by who sends them, each with a validator of its payload:
 * what the WebSocket tests hold every frame to.
 */
export function messagesOf(document: any) {
  const ajv = addFormats(new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }));
  const byRef = (ref: { $ref: string }) => ref.$ref.split('/').pop()!;
  const validators: Record<string, ValidateFunction> = {};
  for (const [name, message] of Object.entries<any>(document.channels.ws.messages)) validators[name] = ajv.compile(message.payload);
  const fromServer = new Set<string>();
  const fromClient = new Set<string>();
  for (const op of Object.values<any>(document.operations)) {
    for (const m of op.messages) (op.action === 'send' ? fromServer : fromClient).add(byRef(m));
    for (const m of op.reply?.messages ?? []) fromServer.add(byRef(m));
  }
  /** The names of the messages a frame is valid as (exactly one, for a frame the document describes). */
  const matches = (frame: unknown, side: Set<string>) => [...side].filter((name) => validators[name](frame));
  const explain = (frame: unknown, name: string) => (validators[name](frame) ? 'valid' : ajv.errorsText(validators[name].errors));
  /** Why a server frame is not exactly one message, or 'ok'. */
  const checkServerFrame = (frame: any) => {
    const as = matches(frame, fromServer);
    if (as.length === 1) return 'ok';
    return [...fromServer].map((m) => `${m}: ${explain(frame, m)}`).join('; ');
  };
  return { fromServer, fromClient, matches, explain, checkServerFrame };
}
