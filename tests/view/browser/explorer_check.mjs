// Drives the HTML explorer (socktrace view -f html) in Debian's headless
// Chromium with playwright-core, as a user would: loads the page, types in
// the filter, clicks a connection, presses n and p, scrolls, follows a
// link to an event, and takes a screenshot. Prints what it saw as JSON on
// standard output; tests/view/test_html_explorer.py judges it.
//
//   node explorer_check.mjs PAGE.html SCREENSHOT.png [CONN_ID]
import { chromium } from './node_modules/playwright-core/index.mjs';

const [, , pagePath, shot, connArg] = process.argv;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const out = { errors: [] };
try {
	const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
	page.on('pageerror', (e) => out.errors.push(String(e)));
	page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });

	// Opening: from navigation to the script's mark, in the page's clock.
	const loads = [];
	for (let k = 0; k < 3; k++) {
		await page.goto('file://' + pagePath);
		await page.waitForSelector('body[data-ready]', { timeout: 60000 });
		loads.push(await page.evaluate(() => performance.now()));
	}
	out.load_ms = Math.min(...loads);
	out.events = await page.evaluate(() => window.socktrace.data.ev.length);
	out.dom_events = await page.locator('#flow g.ev').count();
	out.size = (await page.content()).length;
	out.gaps = await page.evaluate(() => Array.from(document.querySelectorAll('#flow .gap text')).map((t) => t.textContent));
	// The proportional axis: the same rows, further apart where time passed.
	out.prop = await page.evaluate(() => {
		const h0 = document.getElementById('inner').offsetHeight;
		const sel = document.getElementById('axis');
		sel.value = 'prop';
		document.getElementById('scale').value = '10';
		sel.dispatchEvent(new Event('change'));
		const h1 = document.getElementById('inner').offsetHeight, rows = window.socktrace.rows();
		sel.value = 'rows';
		sel.dispatchEvent(new Event('change'));
		return { compact: h0, proportional: h1, rows };
	});

	// What the first screen shows: every drawn failure with its errno whole.
	out.errno_cut = await page.evaluate(() => {
		const D = window.socktrace.data, bad = [];
		document.querySelectorAll('#flow g.ev.err').forEach((g) => {
			const r = D.rec[+g.getAttribute('data-i')];
			if (r.errno && !g.querySelector('text.lab').textContent.includes(r.errno)) bad.push(g.textContent);
		});
		return bad;
	});
	// A shortened label keeps its result whole (diagram.h, label_parts).
	out.result_cut = await page.evaluate(() => {
		const D = window.socktrace.data, bad = [];
		let shortened = 0;
		document.querySelectorAll('#flow g.ev').forEach((g) => {
			const e = D.ev[+g.getAttribute('data-i')], text = g.querySelector('text.lab').textContent;
			if (!text.includes(e[6])) shortened++;
			if (!text.includes(e[6].slice(e[7], e[8]))) bad.push([e[6], text]);
		});
		return { bad, shortened };
	});
	// Arrowheads and labels come after every box in the drawing order.
	out.heads_over_boxes = await page.evaluate(() => {
		const kids = Array.from(document.querySelectorAll('#flow > *'));
		const lastBox = kids.map((k) => k.matches('g.ev')).lastIndexOf(true);
		const firstHead = kids.findIndex((k) => k.matches('g.ar') && k.querySelector('path'));
		return firstHead < 0 || firstHead > lastBox;
	});

	const conn = connArg ? +connArg : await page.evaluate(() => {
		const D = window.socktrace.data;
		return D.conns.length ? D.conns[Math.min(1, D.conns.length - 1)].id : 0;
	});
	out.conn = conn;
	if (conn) {
		// Typing in the filter hides the other connections.
		await page.click('#filter');
		await page.keyboard.type('c' + conn);
		await page.waitForTimeout(400);
		out.filter = await page.evaluate((c) => {
			const D = window.socktrace.data;
			const want = D.ev.filter((e) => e[5] === c).length;
			const drawn = Array.from(document.querySelectorAll('#flow g.ev'));
			return {
				want, shown: window.socktrace.shownCount(),
				drawn: drawn.length,
				others: drawn.filter((g) => +g.getAttribute('data-conn') !== c).length,
				count: document.getElementById('count').textContent,
				listed: document.querySelectorAll('#conn-list tr[data-c]:not(.hidden)').length,
			};
		}, conn);
		await page.fill('#filter', '');
		await page.keyboard.press('Escape');
		await page.waitForTimeout(200);
		out.unfiltered = await page.evaluate(() => window.socktrace.shownCount());

		// Clicking a connection highlights it and scrolls to it.
		await page.click('#conn-list tr[data-c="' + conn + '"]');
		await page.waitForTimeout(300);
		out.click = await page.evaluate((c) => {
			const sc = document.getElementById('scroll').getBoundingClientRect();
			const mine = Array.from(document.querySelectorAll('#flow g.ev[data-conn="' + c + '"]'));
			const onScreen = mine.filter((g) => {
				const b = g.getBoundingClientRect();
				return b.bottom > sc.top && b.top < sc.bottom;
			});
			return {
				hash: location.hash,
				row_selected: !!document.querySelector('#conn-list tr.sel[data-c="' + c + '"]'),
				drawn: mine.length,
				highlighted: mine.filter((g) => g.classList.contains('hl')).length,
				on_screen: onScreen.length,
				others_lit: document.querySelectorAll('#flow g.ev.hl:not([data-conn="' + c + '"])').length,
			};
		}, conn);

		// n and p step through the connection's events.
		await page.click('#details');
		await page.keyboard.press('n');
		await page.waitForTimeout(150);
		const a = await page.evaluate(() => location.hash);
		await page.keyboard.press('n');
		await page.waitForTimeout(150);
		const b = await page.evaluate(() => location.hash);
		await page.keyboard.press('p');
		await page.waitForTimeout(150);
		const c2 = await page.evaluate(() => location.hash);
		out.keys = await page.evaluate(([h1, h2, h3, c]) => {
			const D = window.socktrace.data;
			const seqs = D.ev.filter((e) => e[5] === c).map((e) => e[0]);
			const seq = (h) => +(h.match(/^#e(\d+)$/) || [0, -1])[1];
			return {
				first: seqs.indexOf(seq(h1)), second: seqs.indexOf(seq(h2)), back: seqs.indexOf(seq(h3)),
				details: document.getElementById('details').textContent.includes('#' + seq(h3)),
			};
		}, [a, b, c2, conn]);
		await page.keyboard.press('Escape');
	}

	// The header stays in sight after scrolling, naming the lanes' owners.
	// So does the time column after a scroll to the right.
	await page.evaluate(() => {
		const s = document.getElementById('scroll');
		s.scrollTop = s.scrollHeight / 2;
		s.scrollLeft = 300;
	});
	await page.waitForTimeout(300);
	out.header = await page.evaluate(() => {
		const s = document.getElementById('scroll'), sc = s.getBoundingClientRect();
		const h = document.getElementById('heads').getBoundingClientRect();
		const names = Array.from(document.querySelectorAll('#heads .head b')).map((b) => b.textContent);
		const gut = document.getElementById('gut').getBoundingClientRect();
		const side = document.getElementById('side').getBoundingClientRect();
		return {
			top: h.top, bottom: h.bottom, scroll_top: sc.top, height: h.height, names,
			drawn: document.querySelectorAll('#flow g.ev').length,
			scrolled_left: s.scrollLeft, gut_left: gut.left - sc.left,
			times: document.querySelectorAll('#gut div').length,
			panel_overlaps: side.left < sc.right - 1,
		};
	});

	// A link to an event: the page opens on it.
	const target = await page.evaluate(() => {
		const D = window.socktrace.data;
		return D.ev.length ? D.ev[Math.floor(D.ev.length * 0.8)][0] : 0;
	});
	if (target) {
		await page.goto('file://' + pagePath + '#e' + target);
		await page.waitForSelector('body[data-ready]');
		await page.waitForTimeout(300);
		out.fragment = await page.evaluate((seq) => {
			const g = document.getElementById('e' + seq), sc = document.getElementById('scroll').getBoundingClientRect();
			const b = g && g.getBoundingClientRect();
			return {
				seq, drawn: !!g, current: !!g && g.classList.contains('cur'),
				on_screen: !!b && b.bottom > sc.top && b.top < sc.bottom,
				details: document.getElementById('details').textContent.includes('#' + seq),
			};
		}, target);
	}
	await page.goto('file://' + pagePath);
	await page.waitForSelector('body[data-ready]');
	await page.waitForTimeout(200);
	await page.screenshot({ path: shot });

	// Scrolling and filtering stay quick: the time of a filter and of a
	// jump to the end, each from the call to the drawn result.
	out.filter_ms = await page.evaluate(() => {
		const t0 = performance.now();
		window.socktrace.filter('recv');
		window.socktrace.filter('');
		return (performance.now() - t0) / 2;
	});
	out.scroll_ms = await page.evaluate(() => {
		const s = document.getElementById('scroll'), t0 = performance.now();
		s.scrollTop = s.scrollHeight;
		window.socktrace.drawNow();
		return performance.now() - t0;
	});
	out.last_drawn = await page.evaluate(() => {
		const D = window.socktrace.data;
		return !D.ev.length || !!document.getElementById('e' + D.ev[D.ev.length - 1][0]);
	});
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
