// Renders Mermaid diagrams with mermaid's own library (node_modules/mermaid)
// in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), as GitHub does in the browser. For test_mermaid_render.py.
//
//     node render_mermaid.mjs [--png DIR] FILE.mmd...
//
// Prints one JSON object per file on standard output: {"file", "ok",
// "error", "type", "width", "height", "chars"}: the diagram's type
// ("sequence"), the width and height of the SVG drawn (its viewBox), the
// text's length as mermaid counts it. --png DIR also saves a screenshot of each diagram
// there (FILE's name with .png), to look at. Exits 1 if any file fails to
// render, 2 when the browser or the library cannot be loaded.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, 'node_modules');
const chromiumPath = process.env.SOCKTRACE_CHROMIUM || '/usr/bin/chromium';

const args = process.argv.slice(2);
let pngDir = null;
const files = [];
for (let i = 0; i < args.length; i++) {
	if (args[i] === '--png')
		pngDir = args[++i];
	else
		files.push(args[i]);
}

let chromium;
try {
	({ chromium } = await import(path.join(modules, 'playwright-core', 'index.mjs')));
} catch (e) {
	console.error(`render_mermaid: playwright-core not installed in ${modules} (npm ci --prefix tests/view/browser): ${e.message}`);
	process.exit(2);
}
const mermaidJs = path.join(modules, 'mermaid', 'dist', 'mermaid.min.js');
if (!fs.existsSync(mermaidJs)) {
	console.error(`render_mermaid: mermaid not installed: no ${mermaidJs}`);
	process.exit(2);
}

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
let failed = 0;
try {
	const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
	// Nothing from the network: the page is empty, the library a file.
	await page.route('**/*', (route) => route.abort());
	await page.setContent('<!DOCTYPE html><html><body><div id="out"></div></body></html>');
	await page.addScriptTag({ path: mermaidJs });
	// GitHub's defaults are mermaid's: maxTextSize 50,000 among them.
	await page.evaluate(() => window.mermaid.initialize({ startOnLoad: false }));
	for (const [n, file] of files.entries()) {
		const text = fs.readFileSync(file, 'utf8');
		const r = await page.evaluate(async ({ id, text }) => {
			try {
				const { svg } = await window.mermaid.render(id, text);
				const out = document.getElementById('out');
				out.innerHTML = svg;
				const el = out.querySelector('svg');
				const vb = el && el.viewBox && el.viewBox.baseVal;
				// An error is an SVG too: mermaid's error diagram, or,
				// for a text over maxTextSize, a box that says so.
				if (/Syntax error in text|aria-roledescription="error"/.test(svg))
					return { ok: false, error: 'mermaid drew its error diagram' };
				if (/Maximum text size in diagram exceeded/.test(svg))
					return { ok: false, error: 'over mermaid\'s maxTextSize' };
				return { ok: true, type: el ? el.getAttribute('aria-roledescription') : null,
					 width: vb ? vb.width : null, height: vb ? vb.height : null };
			} catch (e) {
				return { ok: false, error: String(e && e.message ? e.message : e) };
			}
		}, { id: 'd' + n, text });
		r.file = file;
		r.chars = text.length; // as maxTextSize counts: UTF-16 units
		if (!r.ok)
			failed++;
		else if (pngDir) {
			const el = await page.$('#out svg');
			if (el)
				await el.screenshot({ path: path.join(pngDir, path.basename(file).replace(/\.[^.]*$/, '') + '.png') });
		}
		console.log(JSON.stringify(r));
	}
} finally {
	await browser.close();
}
process.exit(failed ? 1 : 0);
