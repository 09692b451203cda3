/** Request-schema pieces several routes share, built on the one set of rules in domain/rules.ts. */
import { z } from 'zod';
import { PAYMENT_METHOD_HINT, PAYMENT_METHOD_TOKEN } from '../domain/rules';

export const paymentMethodSchema = z.string().regex(PAYMENT_METHOD_TOKEN, PAYMENT_METHOD_HINT);
