/**
 * The bench's reference server: bare fastify answering a constant JSON, on GET and on
 * POST (which reads the JSON body as the update route does), in a process of its own as
 * `lockstock serve` is. What `lockstock bench --http` divides by.
 */
import Fastify from 'fastify';

const CONSTANT = {
  productId: 'SKU-00000',
  applied: true,
  newQuantity: 9999,
  newVersion: 2,
  lastUpdated: '2026-01-01T00:00:00.000Z',
  offset: 1,
};

const app = Fastify();
app.get('/bare', async () => CONSTANT);
app.post('/bare', async () => CONSTANT);
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
