/** Razorpay caps `receipt` at 40 characters; longer keys are kept whole in the notes (`mandi_key`). */
const RECEIPT_MAX = 40;

export const receiptFor = (key: string) => (key.length <= RECEIPT_MAX ? key : key.slice(key.length - RECEIPT_MAX));
