/**
 * Examples shown in /openapi.json and /docs, by operationId: a request body for every operation
 * that takes one, and the success body where the route declares its schema. The route's own zod
 * schemas check every example (test/unit/operation-ids.test.ts), so none can drift from what the
 * API accepts and answers.
 */
/**
 * The instant the examples are written for: rules that depend on the clock (a market closes in the
 * future, at most 366 days ahead) are checked as of this moment, so the contract does not change
 * from one day to the next. Move it and the dates below forward together.
 */
export const EXAMPLES_AS_OF = '2027-01-01T00:00:00Z';

export interface OperationExamples {
  request?: unknown;
  responses?: Record<number, unknown>;
}

const topup = {
  topupId: 'tu_8f14e45fceea167a5a36dedd',
  workflowId: 'topup-tu_8f14e45fceea167a5a36dedd',
  status: 'pending',
  amount: 50_000,
  paymentMethod: 'pm_ok',
  failureCode: null,
  failureMessage: null,
};

export const OPERATION_EXAMPLES: Readonly<Record<string, OperationExamples>> = {
  // wallet
  getWallet: { responses: { 200: { userId: 'usr_asha', currency: 'INR', balance: 50_000, held: 5_500, available: 44_500 } } },
  createTopup: { request: { amount: 50_000, paymentMethod: 'pm_ok' }, responses: { 202: topup } },
  getTopup: { responses: { 200: { ...topup, status: 'succeeded' } } },

  // checkout
  checkoutCart: { request: { lines: [{ productId: 'milk-1l', quantity: 2, unitPrice: 6_800 }], paymentMethod: 'pm_ok' } },
  cancelOrder: { request: { reason: 'Ordered by mistake' } },
  returnOrder: { request: { reason: 'Packet arrived torn' } },
  refundOrder: { request: { amount: 6_800, reason: 'One packet missing from the delivery' } },
  retryOrderStep: { request: { reason: 'The payout bank is back' } },

  // sellers
  registerSeller: { request: { sellerId: 'dairy-fresh', name: 'Dairy Fresh', commissionBps: 1_250, bankAccountRef: 'HDFC-0001234567' } },
  createReferral: { request: { buyerId: 'usr_asha', referrerId: 'usr_ravi', rateBps: 200 } },
  createSellerProduct: { request: { productId: 'milk-1l', name: 'Toned milk, 1 l', price: 6_800, stock: 500 } },
  updateProduct: { request: { price: 7_000, addStock: 100 } },

  // markets
  createMarket: {
    request: {
      question: 'Will India win the toss?',
      opensAt: '2027-01-26T09:00:00+05:30',
      closesAt: '2027-01-26T09:25:00+05:30',
      feeBps: 200,
      disputeWindowSeconds: 0,
      resolutionDeadlineSeconds: 3_600,
    },
  },
  placeMarketOrder: {
    request: {
      clientOrderId: 'app-7f3a-0001',
      side: 'YES',
      action: 'BUY',
      price: 550,
      quantity: 10,
      tif: 'GTC',
      seenPrice: 550,
      slippageBps: 500,
    },
    responses: { 202: { orderId: 'mo_9e107d9d372bb6826bd81d3542a419d6', seq: 42, status: 'accepted', replayed: false } },
  },
  closeMarket: { request: {} },
  resolveMarket: { request: { outcome: 'YES', source: 'Official match scorecard' } },
  voidMarket: { request: { reason: 'Match abandoned without a ball bowled' } },
  suspendMarket: { request: { source: 'feed:ball-by-ball' } },
  resumeMarket: { request: { delaySeconds: 3 } },
  placeMarketOrders: {
    request: {
      orders: [
        { clientOrderId: 'app-7f3a-0002', side: 'YES', action: 'BUY', price: 500, quantity: 10, postOnly: true },
        { clientOrderId: 'app-7f3a-0003', side: 'NO', action: 'BUY', price: 400, quantity: 5, expiresAt: '2027-01-26T09:20:00+05:30' },
      ],
    },
  },
  cancelMarketOrders: { request: { orderIds: ['mo_9e107d9d372bb6826bd81d3542a419d6', 'mo_1679091c5a880faf6fb5e6087eb1b2dc'] } },
  amendMarketOrder: { request: { quantity: 6 } },

  // webhooks
  receivePaymentWebhook: {
    request: {
      id: 'evt_3b5d5c3712955042212316173ccf37be',
      type: 'payment.succeeded',
      paymentId: 'pay_7d793037a0760186574b0282',
      amount: 50_000,
    },
    responses: { 200: { received: true, matched: true, duplicate: false } },
  },
  receiveRazorpayWebhook: {
    request: {
      entity: 'event',
      account_id: 'acc_BFQ7uQEaa7j2z7',
      event: 'payment.captured',
      contains: ['payment'],
      payload: {
        payment: {
          entity: {
            id: 'pay_DESlfW9H8K9uqM',
            entity: 'payment',
            amount: 50_000,
            currency: 'INR',
            status: 'captured',
            order_id: 'order_DESlLckIVRkHWj',
          },
        },
      },
      created_at: 1_567_674_606,
    },
    responses: { 200: { received: true, matched: true, duplicate: false } },
  },

  // subscriptions
  createSubscription: {
    request: {
      productId: 'milk-500ml',
      quantity: 2,
      recurrence: { kind: 'days_of_week', days: [1, 2, 3, 4, 5, 6] },
      startDate: '2027-01-06',
      timezone: 'Asia/Kolkata',
      region: 'default',
      paymentMethod: 'pm_ok',
    },
  },
  pauseSubscription: { request: { from: '2027-02-10', to: '2027-02-17', reason: 'vacation' } },
  resumeSubscription: { request: { from: '2027-02-14' } },
  skipSubscriptionDeliveries: { request: { from: '2027-03-01', to: '2027-03-02', reason: 'special_request' } },
  addExtraDelivery: { request: { date: '2027-03-08', quantity: 4, reason: 'special_request' } },
  changeSubscriptionQuantity: { request: { from: '2027-03-10', to: '2027-03-20', quantity: 1 } },
  cancelSubscription: { request: { from: '2027-04-01', reason: 'moving city' } },
  updateSubscriptionPaymentMethod: { request: { paymentMethod: 'pm_ok' } },
  startSubscriptionMandate: {
    request: { method: 'upi', maxAmount: 200_000, customer: { name: 'Asha Rao', email: 'asha@example.com', contact: '9876543210' } },
  },
  attachSubscriptionMandate: { request: { orderId: 'order_Mx1a2b3c4d5e6f' } },
  createSubscribableProduct: {
    request: { productId: 'milk-500ml', sellerId: 'dairy-fresh', name: 'Toned milk, 500 ml', unitPrice: 3_400, unit: '500 ml', stock: 0 },
  },
  declareRegionHoliday: { request: { region: 'default', date: '2027-01-26', reason: 'holiday' } },

  // auth and account
  sendLoginCode: { request: { phone: '+919876543210' } },
  verifyLoginCode: { request: { phone: '+919876543210', code: '428913', termsVersion: '2026-11-01', device: 'Pixel 8' } },
  refreshTokens: { request: { refreshToken: 'mrt_Q2xpZW50UmVmcmVzaFRva2' } },
  changeMyPhone: { request: { phone: '+919812345678', code: '605217' } },
  changeUserRoles: { request: { grant: ['support'] } },
  cancelUserDeletion: { request: { reason: 'The customer called to keep the account' } },

  // auctions
  createShow: { request: { sellerId: 'seller_asha', title: 'Friday silk sarees' } },
  createLot: {
    request: {
      sellerId: 'seller_asha',
      productId: 'saree-silk-01',
      showId: 'show_0a1b2c3d4e5f60718293',
      startingPrice: 50_000,
      reservePrice: 70_000,
      buyNowPrice: 150_000,
      durationSeconds: 60,
      softCloseSeconds: 10,
    },
  },
  placeBid: { request: { amount: 72_000, maxAmount: 80_000, clientBidId: 'b-7f3a' } },
  buyLotNow: { request: { clientBidId: 'bn-19c2' } },

  // delivery (fulfilment)
  reportDeliveryDelivered: { request: { at: '2027-01-05T06:42:00+05:30', note: 'left with the guard' } },
  reportDeliveryFailed: { request: { reason: 'not_home', at: '2027-01-05T06:45:00+05:30', note: 'rang twice' } },
  syncDeliveryOutcomes: {
    request: {
      outcomes: [
        { deliveryId: 'sub_3f9a1c2d4e5f60718293a4b5-2027-01-05', outcome: 'delivered', at: '2027-01-05T06:42:00+05:30' },
        {
          deliveryId: 'sub_8e7d6c5b4a3f2e1d0c9b8a7f-2027-01-05',
          outcome: 'failed',
          reason: 'out_of_stock',
          at: '2027-01-05T06:50:00+05:30',
        },
      ],
      route: { area: 'indiranagar', date: '2027-01-05', version: 'v1-3c2f9a10b7d4e615' },
    },
  },
  setSubscriptionDeliveryAddress: { request: { line: '12 HAL 2nd Stage, Indiranagar', notes: 'gate code 1234' } },
  correctDeliveryOutcome: {
    request: { outcome: 'failed', reason: 'out_of_stock', note: 'The customer called: no milk came, the depot ran out' },
  },
  setDeliveryAreaSequence: {
    request: {
      addresses: [
        { addressId: 'adr_0a1b2c3d4e5f60718293a4b5', sequence: 1 },
        { addressId: 'adr_5b4a3f2e1d0c9b8a7f6e5d4c', sequence: 2 },
      ],
    },
  },
  upsertDeliveryArea: {
    request: { name: 'Indiranagar', timezone: 'Asia/Kolkata', cutoff: '12:00', creditNotHome: false, creditNoAccess: true },
  },

  // ops
  retryFlowStep: { request: { reason: 'The payment provider is reachable again' } },
  abandonFlowStep: { request: { reason: 'Refunded by hand at the bank' } },
  resolveReconciliationItem: { request: { reason: 'Stock table fixed; retrying the reservation' } },
};
