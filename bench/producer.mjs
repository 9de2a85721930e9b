// Child process: the producer of one system. Config in BENCH_CFG (JSON).
// mode 'burst': n events as fast as the API allows, `batch` at a time (each batch awaited).
// mode 'rate': `rate` events/s for n/rate seconds, paced on a 1 ms timer; each event carries its emit time.
import { createProducer } from './lib/systems.mjs';
import { makePad } from './lib/payload.mjs';

const cfg = JSON.parse(process.env.BENCH_CFG);
const pad = makePad(cfg.size, cfg.n);
const now = () => performance.timeOrigin + performance.now();
const producer = await createProducer(cfg);
process.send({ type: 'ready' });
await new Promise(resolve => process.once('message', m => m.type === 'go' && resolve()));

const cpuAtGo = process.cpuUsage();
const startAt = now();
let sent = 0;
if (cfg.mode === 'rate') {
  const inflight = new Set();
  let failed;
  await new Promise(resolve => {
    const tick = () => {
      const due = Math.min(cfg.n, Math.floor(((now() - startAt) / 1000) * cfg.rate) + 1);
      if (due > sent) {
        const ts = now();
        const events = [];
        for (; sent < due; sent++) events.push({ i: sent, ts, p: pad });
        const p = producer.sendBatch(events).catch(err => (failed = err));
        inflight.add(p);
        p.finally(() => inflight.delete(p));
      }
      if (sent >= cfg.n) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inflight);
  if (failed) throw failed;
} else {
  while (sent < cfg.n) {
    const ts = now();
    const events = [];
    const end = Math.min(cfg.n, sent + cfg.batch);
    for (; sent < end; sent++) events.push({ i: sent, ts, p: pad });
    await producer.sendBatch(events);
  }
}
const endAt = now();
const cpu = process.cpuUsage(cpuAtGo);
process.send({ type: 'done', startAt, endAt, sent, cpuUs: cpu.user + cpu.system });
await producer.close();
process.disconnect();
