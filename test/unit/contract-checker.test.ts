import { contractChecker, type ContractAnswer } from '../support/contract';

/** The checker every end-to-end answer passes through must itself catch what breaks the contract. */
const contract = contractChecker();
const json = (status: number, body: unknown): ContractAnswer => ({
  status,
  body,
  headers: new Headers({ 'content-type': 'application/json; charset=utf-8' }),
});
const wallet = { userId: 'usr_asha', currency: 'INR', balance: 5_000, held: 1_000, available: 4_000 };

describe('the contract checker', () => {
  test('finds the operation of a concrete path, and ignores paths the document does not describe', () => {
    expect(contract.operationFor('GET', '/v1/wallet/topups/tu_1')?.op.operationId).toBe('getTopup');
    expect(contract.operationFor('GET', '/metrics')).toBeNull();
    expect(contract.problem('GET', '/metrics', json(200, 'anything'))).toBeNull();
  });

  test('accepts a documented status whose body its schema accepts, error bodies included', () => {
    const problem = contract.problem('GET', '/v1/wallet', json(200, wallet));
    expect(problem).toBeNull();
    expect(contract.problem('GET', '/v1/wallet', json(401, { error: { code: 'unauthenticated', message: 'x', details: {} } }))).toBeNull();
  });

  test('catches a status the operation does not document', () => {
    expect(contract.problem('GET', '/v1/wallet', json(418, {}))).toMatch(/status not documented by getWallet/);
  });

  test('catches a body its schema refuses: a missing field, a wrong type, an error without details', () => {
    const { balance: _omitted, ...missing } = wallet;
    expect(contract.problem('GET', '/v1/wallet', json(200, missing))).toMatch(/balance/);
    expect(contract.problem('GET', '/v1/wallet', json(200, { ...wallet, held: 'ten' }))).toMatch(/held/);
    expect(contract.problem('GET', '/v1/wallet', json(401, { error: { code: 'x', message: 'y' } }))).toMatch(/details/);
  });

  test('catches an answer that is not JSON', () => {
    const html: ContractAnswer = { status: 200, body: '<html>', headers: new Headers({ 'content-type': 'text/html' }) };
    expect(contract.problem('GET', '/v1/wallet', html)).toMatch(/not JSON/);
  });
});
