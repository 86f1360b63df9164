import {
  Command,
  CommandHandler,
  CommandType,
  Query,
  QueryHandler,
  QueryType,
  type ICommandHandler,
  type IQueryHandler,
} from '@chronicle/core';

// The messages of the transport benchmark: a small query and a small command
// whose handlers only build a small object (no events, no reads), so that what
// is measured is the trip over NATS and what Chronicle does around it. The
// plain functions build the same objects for the bare-NATS baselines.

export const GET_QUOTE = 'bench.GetQuote';
export const RESERVE_STOCK = 'bench.ReserveStock';

export interface Quote {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly total: number;
  readonly currency: string;
}

export interface Reservation {
  readonly sku: string;
  readonly quantity: number;
  readonly reservationId: string;
  readonly reserved: boolean;
}

/** What both sides send for a quote. */
export interface QuoteRequest {
  readonly sku: string;
  readonly quantity: number;
}

/** What both sides send for a reservation. */
export interface ReservationRequest extends QuoteRequest {
  readonly reservationId: string;
}

export function quoteFor({ sku, quantity }: QuoteRequest): Quote {
  const unitPrice = 12.5;
  return {
    sku,
    quantity,
    unitPrice,
    total: unitPrice * quantity,
    currency: 'EUR',
  };
}

export function reservationFor({
  sku,
  quantity,
  reservationId,
}: ReservationRequest): Reservation {
  return { sku, quantity, reservationId, reserved: true };
}

@QueryType(GET_QUOTE)
export class GetQuote extends Query<Quote> {
  constructor(
    readonly sku: string,
    readonly quantity: number,
  ) {
    super();
  }
}

@CommandType(RESERVE_STOCK)
export class ReserveStock extends Command<Reservation> {
  constructor(
    readonly sku: string,
    readonly quantity: number,
    readonly reservationId: string,
  ) {
    super();
  }
}

/** How many messages the handler app's handlers served: proof that calls arrived. */
export class Served {
  queries = 0;
  commands = 0;
}

@QueryHandler(GetQuote)
export class GetQuoteHandler implements IQueryHandler<GetQuote> {
  constructor(private readonly served: Served) {}

  async execute(query: GetQuote): Promise<Quote> {
    this.served.queries++;
    return quoteFor(query);
  }
}

@CommandHandler(ReserveStock)
export class ReserveStockHandler implements ICommandHandler<ReserveStock> {
  constructor(private readonly served: Served) {}

  async execute(command: ReserveStock): Promise<Reservation> {
    this.served.commands++;
    return reservationFor(command);
  }
}

/** The handler app's providers. */
export const STOCK_HANDLERS = [Served, GetQuoteHandler, ReserveStockHandler];
