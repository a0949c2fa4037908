/**
 * A tiny demo shop for the browser tests, served from 127.0.0.1: home -> product -> checkout ->
 * thanks. Every page loads the RUM snippet from the collector (another origin) with a `data-page`
 * name and reports GA4 e-commerce events through the queued `sextant(...)` stub, as a real shop
 * would. The cart lives in the shop's own sessionStorage.
 */
import { createServer, type Server } from 'node:http';

export const PRICE = 29.99;
export const CURRENCY = 'EUR';

export interface DemoShop {
  readonly origin: string;
  close(): Promise<void>;
}

export interface DemoShopOptions {
  /** URL of the snippet script (the collector's /rum/v1/sextant-rum.js). */
  readonly snippetUrl: string;
  /** Overrides the endpoint (data-endpoint), e.g. to point beacons at a dead port. */
  readonly endpoint?: string;
}

const STUB = 'window.sextant=window.sextant||function(){(sextant.q=sextant.q||[]).push(arguments)};';

function page(title: string, name: string, body: string, options: DemoShopOptions, script = ''): string {
  const endpoint = options.endpoint ? ` data-endpoint="${options.endpoint}"` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<script>${STUB}</script>
<script async src="${options.snippetUrl}" data-page="${name}"${endpoint}></script>
<style>body{font-family:sans-serif;margin:2em} .hero{width:600px;height:200px;background:#3a6}</style></head>
<body><h1>${title}</h1><div class="hero"></div>${body}
<script>
function cart(){return JSON.parse(sessionStorage.getItem('cart')||'[]')}
document.getElementById('count') && (document.getElementById('count').textContent=String(cart().length));
${script}
</script></body></html>`;
}

export async function startDemoShop(options: DemoShopOptions): Promise<DemoShop> {
  const item = `{item_id:'SKU-1',item_name:'Brass sextant',price:${PRICE},quantity:1}`;
  const pages: Record<string, string> = {
    '/': page('Demo shop', 'home', '<a id="product" href="/product/1">Brass sextant</a> <span>cart: <b id="count">0</b></span>', options),
    '/product/1': page(
      'Brass sextant',
      'product',
      `<p>${PRICE} ${CURRENCY}</p><button id="add">Add to cart</button> cart: <b id="count">0</b> <a id="checkout" href="/checkout">Checkout</a>`,
      options,
      `sextant('view_item',{currency:'${CURRENCY}',value:${PRICE},items:[${item}]});
document.getElementById('add').addEventListener('click',function(){var c=cart();c.push(${PRICE});sessionStorage.setItem('cart',JSON.stringify(c));
document.getElementById('count').textContent=String(c.length);sextant('add_to_cart',{currency:'${CURRENCY}',value:${PRICE},items:[${item}]});});`,
    ),
    '/checkout': page(
      'Checkout',
      'checkout',
      '<p>total: <b id="total"></b></p><button id="buy">Buy</button>',
      options,
      `var total=Math.round(cart().reduce(function(a,b){return a+b},0)*100)/100;document.getElementById('total').textContent=String(total);
sextant('begin_checkout',{currency:'${CURRENCY}',value:total});
document.getElementById('buy').addEventListener('click',function(){
sextant('purchase',{transaction_id:'T-'+Date.now(),currency:'${CURRENCY}',value:total,items:cart().map(function(p){return {item_id:'SKU-1',price:p,quantity:1}})});
sessionStorage.setItem('order',String(total));sessionStorage.removeItem('cart');location.href='/thanks';});`,
    ),
    '/thanks': page(
      'Thank you',
      'thanks',
      '<p>order total: <b id="order"></b></p><button id="broken">Broken widget</button>',
      options,
      `document.getElementById('order').textContent=sessionStorage.getItem('order');
document.getElementById('broken').addEventListener('click',function(){ undefinedWidget.render(); });`,
    ),
    // a single-page app that imports the ES module build instead of the script tag
    '/app': `<!doctype html><html><head><meta charset="utf-8"><title>App</title></head><body><h1>App</h1><p id="state">loading</p>
<script type="module">
import { init } from '${options.snippetUrl.replace(/\.js$/, '.mjs')}';
const rum = init({ endpoint: '${options.endpoint ?? options.snippetUrl.replace(/sextant-rum\.js$/, 'collect')}', page: 'app-home' });
rum.track('add_to_cart', { currency: '${CURRENCY}', items: [{ item_id: 'SKU-1', price: ${PRICE}, quantity: 3 }] });
rum.page('app-cart');
rum.track('purchase', { transaction_id: 'T-app-1', currency: '${CURRENCY}', items: [{ item_id: 'SKU-1', price: ${PRICE}, quantity: 3 }] });
document.getElementById('state').textContent = 'ready';
</script></body></html>`,
  };
  const server: Server = createServer((req, res) => {
    const body = pages[(req.url ?? '/').split('?')[0]];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
