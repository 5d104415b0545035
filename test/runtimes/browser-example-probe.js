// Injected into examples/browser's page by test/examples-browser.test.ts (before the page's own
// script): with ?report=ID in the URL, it collects uncaught errors, waits until the page has
// trained 300 steps (or failed), pauses it, and POSTs to /__report/ID what the test checks — the
// page's state, the numbers it shows, and the colours on its chart. Without ?report it does
// nothing. Plain browser JS: the same probe serves Chromium and Firefox (which has no driver).

const id = new URLSearchParams(location.search).get('report');
if (id !== null) {
  const errors = [];
  addEventListener('error', (e) => errors.push(String(e.error?.stack ?? e.message)));
  addEventListener('unhandledrejection', (e) => errors.push(String(e.reason?.stack ?? e.reason)));
  const consoleError = console.error;
  console.error = (...args) => { errors.push(args.map(String).join(' ')); consoleError.apply(console, args); };

  const text = (selector) => document.querySelector(selector)?.textContent ?? null;
  const chartColours = () => {
    const canvas = document.getElementById('chart');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let orange = 0, blue = 0, inked = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a === 0) continue;
      inked++;
      if (r > 180 && g < 120 && b < 60) orange++;
      if (r < 80 && g > 80 && g < 150 && b > 160) blue++;
    }
    return { orange, blue, inked };
  };

  const poll = async () => {
    const t = window.training;
    if (!(t?.error || t?.step >= 300)) { setTimeout(poll, 200); return; }
    t.running = false; // freeze the numbers
    await new Promise((r) => setTimeout(r, 100));
    let report;
    try {
      report = {
        state: JSON.parse(JSON.stringify(window.training)),
        shown: { step: text('#step'), loss: text('#loss'), accuracy: text('#accuracy'), status: text('#status') },
        colours: chartColours(),
        errors,
        userAgent: navigator.userAgent,
      };
    } catch (e) {
      report = { probeError: String(e?.stack ?? e), errors };
    }
    await fetch(`/__report/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(report) });
  };
  poll();
}
