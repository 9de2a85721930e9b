// Traffic for the compose stack: places a random order every ORDER_INTERVAL_MS on ORDERS_URL, so the
// Grafana dashboard has something to show. About one order in twenty is invalid (dead letter).
const ORDERS_URL = process.env.ORDERS_URL ?? 'http://127.0.0.1:3000';
const INTERVAL_MS = Number(process.env.ORDER_INTERVAL_MS ?? 1000);
const CUSTOMERS = ['ann', 'bob', 'cyd', 'dee', 'eve', 'fay', 'gus', 'hal'];
const SKUS = ['widget', 'widget', 'widget', 'gadget', 'gadget', 'gizmo'];

const pick = list => list[Math.floor(Math.random() * list.length)];

async function placeOrder() {
  const invalid = Math.random() < 0.05;
  const order = {
    customer: pick(CUSTOMERS),
    sku: invalid && Math.random() < 0.5 ? 'sprocket' : pick(SKUS),
    quantity: invalid ? 0 : 1 + Math.floor(Math.random() * 3),
  };
  try {
    const res = await fetch(`${ORDERS_URL}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    if (res.status !== 201) console.error(`POST /orders answered ${res.status}`);
  } catch (err) {
    console.error(`POST /orders failed: ${err.cause?.code ?? err.message}`); // the order service is (re)starting
  }
}

const timer = setInterval(placeOrder, INTERVAL_MS);
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => clearInterval(timer));
console.log(`placing an order every ${INTERVAL_MS} ms on ${ORDERS_URL}`);
