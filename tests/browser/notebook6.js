// Drives Classic Notebook 6 (started with --gateway-url pointing at Sluice) in Debian's headless Chromium, as a
// person would: open the notebook, Cell > Run All, wait until the plots appear as <img src="data:image/png...">
// in the output area, check their natural sizes, and keep a screenshot.
// Usage: node notebook6.js BASE_URL TOKEN NOTEBOOK_PATH SCREENSHOT_PNG
// Every wait is bounded; exit 0 only when everything was seen.
'use strict';
const { chromium } = require('playwright-core');

const [base, token, nbPath, shot] = process.argv.slice(2);
if (!shot) {
  console.error('usage: node notebook6.js BASE_URL TOKEN NOTEBOOK_PATH SCREENSHOT_PNG');
  process.exit(2);
}
const STEP_MS = 60000; // bound of each wait

// plots.ipynb: figsize=(6, 4) and (8, 3) at dpi=100; Sluice keeps figures at figsize x dpi
const EXPECTED = [[600, 400], [800, 300]];

function log(...a) { console.log('[notebook6]', ...a); }

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: STEP_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  let page;
  let failed = null;
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()} ${r.url()}`); });

    const url = `${base}/notebooks/${nbPath}?token=${encodeURIComponent(token)}`;
    log('open', url.replace(token, '<token>'));
    await page.goto(url, { waitUntil: 'load' });

    // the kernel (created in Sluice through the notebook server) is connected and idle
    await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
        Jupyter.notebook.kernel.is_connected() &&
        document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null);
    const kernelId = await page.evaluate(() => Jupyter.notebook.kernel.id);
    log('kernel connected and idle:', kernelId);

    // Cell > Run All, through the menu
    await page.click('#celllink');
    await page.click('#run_all_cells > a');
    log('Cell > Run All clicked');

    // the last cell's output, then every plot as an image
    await page.waitForFunction(() => {
      const t = [...document.querySelectorAll('.output_area .output_text')].map((e) => e.textContent).join('');
      return t.includes('done plotting');
    });
    await page.waitForFunction((n) => {
      const imgs = [...document.querySelectorAll('.output_area img')]
        .filter((i) => (i.getAttribute('src') || '').startsWith('data:image/png'));
      return imgs.length >= n && imgs.every((i) => i.complete && i.naturalWidth > 0);
    }, EXPECTED.length);
    await page.waitForFunction(() =>
      document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null);

    const errors = await page.$$eval('.output_area .output_error', (els) => els.map((e) => e.textContent));
    if (errors.length) throw new Error(`error outputs: ${errors.join(' | ')}`);
    const sizes = await page.$$eval('.output_area img', (imgs) => imgs
      .filter((i) => (i.getAttribute('src') || '').startsWith('data:image/png'))
      .map((i) => [i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width]));
    log('images (naturalWidth, naturalHeight, shown width):', JSON.stringify(sizes));
    if (sizes.length !== EXPECTED.length) throw new Error(`expected ${EXPECTED.length} images, got ${sizes.length}`);
    sizes.forEach(([w, h, shown], i) => {
      if (w !== EXPECTED[i][0] || h !== EXPECTED[i][1]) {
        throw new Error(`image ${i}: ${w}x${h}, expected ${EXPECTED[i][0]}x${EXPECTED[i][1]}`);
      }
      if (!(shown > 100)) throw new Error(`image ${i} shown ${shown}px wide`);
    });
    const counts = await page.$$eval('.input_prompt', (els) => els.map((e) => e.textContent.trim()));
    log('prompts:', JSON.stringify(counts));
    if (problems.length) log('page problems (not fatal):', JSON.stringify(problems));
    await page.screenshot({ path: shot, fullPage: true });
    log('screenshot:', shot);
  } catch (e) {
    failed = e;
    if (page) {
      try {
        await page.screenshot({ path: shot.replace(/\.png$/, '') + '-failed.png', fullPage: true });
        log('failure screenshot:', shot.replace(/\.png$/, '') + '-failed.png');
      } catch (_) { /* the page may be gone */ }
    }
  } finally {
    await browser.close();
  }
  if (failed) {
    console.error('[notebook6] FAILED:', failed.stack || failed);
    process.exit(1);
  }
  log('ok');
})();
