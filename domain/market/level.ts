import type { Action, Side } from './types';

/**
 * A resting order, also the node of its price level's intrusive doubly-linked FIFO queue, so a
 * cancel unlinks it in O(1) (found through the book's id → node Map) without scanning the level.
 */
export class OrderNode {
  prev: OrderNode | null = null;
  next: OrderNode | null = null;
  constructor(
    readonly orderId: string,
    readonly userId: string,
    readonly side: Side,
    readonly action: Action,
    /** Limit price in the order's own side terms. */
    readonly price: number,
    /** Level index 0..18 in YES terms. */
    readonly index: number,
    readonly isBid: boolean,
    readonly quantity: number,
    public remaining: number,
    readonly seq: number,
  ) {}
}

/** One price level on one side: FIFO of OrderNodes (oldest at head) plus aggregates. */
export class PriceLevel {
  head: OrderNode | null = null;
  tail: OrderNode | null = null;
  /** Sum of `remaining` over the queue. */
  quantity = 0;
  /** Number of orders in the queue. */
  count = 0;

  /** Appends at the tail (newest). */
  push(node: OrderNode): void {
    node.prev = this.tail;
    node.next = null;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.quantity += node.remaining;
    this.count++;
  }

  /** Unlinks `node` (which must be in this level) and subtracts its remaining quantity. */
  remove(node: OrderNode): void {
    const { prev, next } = node;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    node.prev = null;
    node.next = null;
    this.quantity -= node.remaining;
    this.count--;
  }

  clear(): void {
    this.head = null;
    this.tail = null;
    this.quantity = 0;
    this.count = 0;
  }
}
