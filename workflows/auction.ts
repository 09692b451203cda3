// Live auctions: a seller's show (./auction/show.ts) and each of its lots (./auction/lot.ts).
export { auctionLotWorkflow } from './auction/lot';
export { auctionShowWorkflow } from './auction/show';
