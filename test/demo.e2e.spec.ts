import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

// `npm start` is the first thing a newcomer runs: the built demo must work as
// a process, on the embedded store even when a DATABASE_URL is set.
describe('the demo (npm start)', () => {
  it('runs the shop scenario in one process and prints the timeline', async () => {
    const { stdout } = await run(process.execPath, ['apps/shop/dist/demo.js'], {
      env: {
        ...process.env,
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        NATS_URL: 'nats://127.0.0.1:1',
      },
      timeout: 60_000,
    });
    expect(stdout).toContain('embedded PGlite');
    // Commands, whoever sent them, and the events they caused.
    expect(stdout).toMatch(/command {2}orders\.PlaceOrder +\{"orderId":"o-1"/);
    expect(stdout).toMatch(
      /command {2}inventory\.ReserveStock +\{"orderId":"o-1"/,
    );
    expect(stdout).toMatch(
      /event {2}orders\.OrderConfirmed +orders\.Order-o-1 v2/,
    );
    // The payment deadline is the process manager's; when it passes, the order is cancelled.
    expect(stdout).toMatch(
      /deadline order-fulfilment o-4: payment due at \d{4}-/,
    );
    expect(stdout).toMatch(
      /command {2}orders\.CancelOrder +\{"orderId":"o-4","reason":"payment not received in time"\}/,
    );
    // The projection and the outcome of each order.
    expect(stdout).toMatch(/scone +on hand +5 +reserved +3 +available +2/);
    expect(stdout).toMatch(/tea +on hand +10 +reserved +2 +available +8/);
    expect(stdout).toMatch(/o-1 +confirmed/);
    expect(stdout).toMatch(
      /o-2 +cancelled .*\(payment declined: 600 is over the card limit of 500\)/,
    );
    expect(stdout).toMatch(/o-3 +cancelled .*\(out of stock: scone\)/);
    expect(stdout).toMatch(/o-4 +cancelled .*\(payment not received in time\)/);
    // The order search, answered as the SearchOrders query.
    expect(stdout).toMatch(/Ada's orders \(eq\('customerId', 'ada'\)\) +o-1\n/);
    expect(stdout).toMatch(/with scones \(match\('scones'\)\) +o-1, o-3\n/);
    expect(stdout).toMatch(/per status \(facets\) +cancelled 3, confirmed 1\n/);
    // Each order's fulfilment, step by step: started, paid or timed out, ended.
    expect(stdout).toMatch(
      /o-1 +\+ *\d+ms {2}orders\.OrderPlaced +onPlaced +started\n.*payments\.PaymentAuthorized +onPaymentAuthorized +sent orders\.ConfirmOrder\n.*orders\.OrderConfirmed +onOrderConfirmed +ended\n/,
    );
    expect(stdout).toMatch(
      /o-4 +\+ *\d+ms {2}orders\.OrderPlaced +onPlaced +started\n.*orders\.PaymentTimedOut +onPaymentTimedOut +sent orders\.CancelOrder\n.*orders\.OrderCancelled +onOrderCancelled +ended\n/,
    );
    // The message log's tree of Bob's payment, across the three modules.
    expect(stdout).toMatch(
      /command payments\.AuthorizePayment {2}bob-pays .* ok\n.*└─ event payments\.PaymentDeclined/,
    );
    expect(stdout).toMatch(/└─ event inventory\.StockReleased/);
    expect(stdout.trim().endsWith('Done.')).toBe(true);
  });
});
