/* socktrace view -f html: the explorer. The tool embeds the trace as one
 * JSON object (render_html.c says what it holds); this script lays the
 * rows out and draws only those on screen, so a page of 100,000 events
 * opens and scrolls as fast as one of a hundred.
 *
 * Rows: one per event shown (the filter hides the others), in the
 * viewer's causal order, plus a row per pause of at least the trace's
 * --gap ("--- 213ms ---"); on the proportional axis, the space between
 * two rows grows with the time between them instead (at least one row).
 * Columns: a lane per group of columns never alive at the same time. */
(function () {
	'use strict';
	var D = JSON.parse(document.getElementById('data').textContent);
	var EV = D.ev, REC = D.rec, COLS = D.cols, CONNS = D.conns;
	/* Fields of an event (render_html.c, write_events). */
	var SEQ = 0, COL = 1, T = 2, DUR = 3, FLAGS = 4, CONN = 5, LABEL = 6, CALL_END = 7,
		RES_END = 8, AKIND = 9, AOUT = 10, PROW = 11, PCOL = 12, ATEXT = 13;
	var F_ERR = 1, F_FAULT = 2, F_WARN = 4, F_STACK = 8, F_PENDING = 16, F_NOTE = 32;
	var ROW_H = 22, GUT = 92, BOX_X = 6, CHAR_W = 7.22;
	var PALETTE = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf',
		'#bcbd22', '#ff7f0e', '#393b79', '#637939', '#8c6d31', '#7b4173', '#3182bd',
		'#31a354', '#756bb1', '#636363'];

	var $ = function (id) { return document.getElementById(id); };
	/* Lanes as wide as a long label, narrower when that lets them all fit
	 * on the screen (but never below what a call and its result need). */
	var COL_W = Math.max(280, Math.min(380, Math.floor((document.getElementById('scroll').clientWidth -
		GUT - 30) / Math.max(1, D.lanes))));
	var MAX_BOX = COL_W - 20;
	var scroll = $('scroll'), inner = $('inner'), gut = $('gut'), flow = $('flow');
	var headsInner = $('heads-inner'), filterBox = $('filter'), axisSel = $('axis');
	var scaleSel = $('scale'), details = $('details'), connList = $('conn-list');

	var n = EV.length;
	var bySeq = {};             /* seq -> event index */
	var pairedBy = [];          /* event index -> indices of events paired with it */
	var connEvents = {};        /* conn id -> event indices */
	var connById = {};
	var shown = new Uint8Array(n);   /* passes the filter */
	var rowOf = new Int32Array(n);   /* event -> its row, -1 hidden */
	var rows = [];              /* event index, or -(1 + index into gaps) */
	var gaps = [];              /* pause lengths (ns) */
	var rowY = new Float64Array(0);
	var height = 0, width = GUT + Math.max(1, D.lanes) * COL_W + 40;
	var longArrows = [];        /* event indices whose arrow spans many rows */
	var selConn = 0, cur = -1, pairLit = [];
	var widths = new Float32Array(n);  /* box widths, once computed */

	for (var i = 0; i < n; i++) {
		var e = EV[i];
		bySeq[e[SEQ]] = i;
		if (e[CONN]) (connEvents[e[CONN]] = connEvents[e[CONN]] || []).push(i);
		if (e[PROW] >= 0) (pairedBy[e[PROW]] = pairedBy[e[PROW]] || []).push(i);
	}
	CONNS.forEach(function (c) { connById[c.id] = c; });
	/* Columns that take a lane over from an earlier owner. */
	var takesOver = COLS.map(function (c, k) {
		return COLS.some(function (o, j) { return j !== k && o.lane === c.lane && o.first < c.first; });
	});

	function esc(s) {
		return String(s).replace(/[&<>"']/g, function (c) {
			return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
		});
	}
	function colour(conn) { return conn ? PALETTE[(conn - 1) % PALETTE.length] : '#888'; }
	function laneX(col) { return GUT + COLS[col].lane * COL_W + 10; }
	function secs(ns) { return (ns / 1e9).toFixed(6); }
	function dur(ns) {
		if (ns < 1000) return ns + 'ns';
		if (ns < 1e6) return (ns / 1e3).toFixed(ns < 1e4 ? 2 : 1) + '\u00b5s';
		if (ns < 1e9) return (ns / 1e6).toFixed(ns < 1e7 ? 2 : 1) + 'ms';
		if (ns < 6e10) return (ns / 1e9).toFixed(2) + 's';
		return Math.floor(ns / 6e10) + 'min ' + ((ns % 6e10) / 1e9).toFixed(0) + 's';
	}
	function bytes(b) {
		if (b < 1024) return b + ' B';
		if (b < 1048576) return (b / 1024).toFixed(1) + ' KiB';
		return (b / 1048576).toFixed(1) + ' MiB';
	}
	function tend(i) { return EV[i][T] + EV[i][DUR]; }
	function procName(col) { var c = COLS[col]; return c.remote ? c.name : c.name + ' ' + c.pid; }

	/* A label shortened to max characters, never in its result: first
	 * what follows the result (an address, a payload), from its end;
	 * then the call's arguments, in their middle. */
	function fit(label, ce, re, max) {
		if (label.length <= max) return label;
		var call = label.slice(0, ce), res = label.slice(ce, re), tail = label.slice(re);
		var room = max - call.length - res.length;
		if (room >= 6 && tail) {
			/* A payload preview reads from its start; an address or a
			 * thread is shortened in its middle. */
			if (/^ "/.test(tail)) return call + res + tail.slice(0, room - 1) + '\u2026';
			var h = Math.ceil((room - 1) / 2);
			return call + res + tail.slice(0, h) + '\u2026' + tail.slice(tail.length - (room - 1 - h));
		}
		var mark = tail ? '\u2026' : '';
		room = max - res.length - mark.length;
		var open = call.indexOf('('), close = call.charAt(call.length - 1) === ')' ? ')' : '';
		if (open >= 0 && call.length > room) {
			var head = call.slice(0, open + 1);
			var args = call.slice(open + 1, call.length - close.length);
			var keep = room - head.length - close.length - 1;
			if (keep >= 2) {
				var a = Math.ceil(keep / 2);
				call = head + args.slice(0, a) + '\u2026' + args.slice(args.length - (keep - a)) + close;
			} else {
				call = head + '\u2026' + close;
			}
		}
		return call + res + mark;
	}

	function boxText(i) {
		var e = EV[i], d = ' ' + dur(e[DUR]);
		var mark = e[FLAGS] & F_FAULT ? '\u26a1 ' : e[FLAGS] & F_WARN ? '\u26a0 ' : '';
		var max = Math.floor((MAX_BOX - 12) / CHAR_W) - d.length - mark.length;
		return { mark: mark, label: fit(e[LABEL], e[CALL_END], e[RES_END], Math.max(max, 12)), dur: d };
	}
	function boxWidth(i) {
		if (!widths[i]) {
			var b = boxText(i);
			widths[i] = (b.mark.length + b.label.length + b.dur.length) * CHAR_W + 12;
		}
		return widths[i];
	}

	/* ---- the filter ---- */
	var hay = null;
	function haystack(i) {
		if (!hay) hay = new Array(n);
		if (hay[i] === undefined) {
			var r = REC[i], c = COLS[EV[i][COL]];
			hay[i] = [EV[i][LABEL], c.name, r.prog || '', r.local || '', r.peer || '',
				r.addr || '', r.fault ? JSON.stringify(r.fault) : ''].join(' ').toLowerCase();
		}
		return hay[i];
	}
	function hasPort(i, port) {
		var r = REC[i], suffix = ':' + port, c = connById[EV[i][CONN]];
		var all = [r.local, r.peer, r.addr, c && c.caddr, c && c.saddr];
		for (var k = 0; k < all.length; k++)
			if (all[k] && all[k].slice(-suffix.length) === suffix) return true;
		return false;
	}
	function fnIs(i, name) {
		var fn = REC[i].fn || REC[i].rec || '';
		return fn === name || fn.replace(/^__/, '').replace(/_chk$/, '').indexOf(name) === 0;
	}
	/* One word of the filter as a test of an event. */
	function term(w) {
		var m, lw = w.toLowerCase();
		if ((m = /^(?:c|conn:)(\d+)$/i.exec(w))) { var id = +m[1]; return function (i) { return EV[i][CONN] === id; }; }
		if ((m = /^pid:(\d+)$/i.exec(w))) { var p = +m[1]; return function (i) { return REC[i].pid === p; }; }
		if ((m = /^(?:port)?:(\d+)$/i.exec(w))) { var port = m[1]; return function (i) { return hasPort(i, port); }; }
		if (/^\d+$/.test(w)) { var num = +w; return function (i) { return REC[i].pid === num || REC[i].tid === num || hasPort(i, w); }; }
		if (/^E[A-Z0-9]+$/.test(w)) return function (i) { return REC[i].errno === w; };
		if ((m = /^fn:(.+)$/i.exec(w))) { var f = m[1]; return function (i) { return fnIs(i, f); }; }
		if ((m = /^prog:(.+)$/i.exec(w))) { var pg = m[1].toLowerCase(); return function (i) { return COLS[EV[i][COL]].name.toLowerCase() === pg || (REC[i].prog || '').toLowerCase() === pg; }; }
		return function (i) { return haystack(i).indexOf(lw) >= 0; };
	}
	function applyFilter(text) {
		var words = text.trim().split(/\s+/).filter(Boolean), tests = [];
		words.forEach(function (w) {
			var neg = w.length > 1 && w.charAt(0) === '-' && !/^-\d/.test(w);
			var t = term(neg ? w.slice(1) : w);
			tests.push(neg ? function (i) { return !t(i); } : t);
		});
		var count = 0;
		for (var i = 0; i < n; i++) {
			var ok = true;
			for (var k = 0; k < tests.length && ok; k++) ok = tests[k](i);
			shown[i] = ok ? 1 : 0;
			count += shown[i];
		}
		$('count').textContent = words.length ? count + ' of ' + n + ' events' : n + ' events';
		/* The connection list keeps the connections with an event shown. */
		var rowsEls = connList.querySelectorAll('tr[data-c]');
		for (var r = 0; r < rowsEls.length; r++) {
			var evs = connEvents[rowsEls[r].getAttribute('data-c')] || [], any = false;
			for (var q = 0; q < evs.length && !any; q++) any = shown[evs[q]] === 1;
			rowsEls[r].classList.toggle('hidden', !any);
		}
		layout();
	}

	/* ---- rows and their places ---- */
	function pxPerMs() { return +scaleSel.value || 1; }
	function layout() {
		var prop = axisSel.value === 'prop', last = -1, y = ROW_H / 2 + 4;
		rows = []; gaps = [];
		var ys = [];
		for (var i = 0; i < n; i++) {
			rowOf[i] = -1;
			if (!shown[i]) continue;
			if (last >= 0) {
				var pause = tend(i) - tend(last);
				if (prop) {
					y += Math.max(ROW_H, pause / 1e6 * pxPerMs());
				} else {
					y += ROW_H;
					if (D.gap > 0 && pause >= D.gap) {
						rows.push(-1 - gaps.length); gaps.push(pause); ys.push(y);
						y += ROW_H;
					}
				}
			}
			rowOf[i] = rows.length;
			rows.push(i); ys.push(y);
			last = i;
		}
		rowY = Float64Array.from(ys);
		height = y + ROW_H;
		longArrows = [];
		for (var j = 0; j < n; j++) {
			var p = EV[j][PROW];
			if (p >= 0 && rowOf[j] >= 0 && rowOf[p] >= 0 && Math.abs(rowOf[j] - rowOf[p]) > 40)
				longArrows.push(j);
		}
		inner.style.width = width + 'px';
		inner.style.height = height + 'px';
		gut.style.height = height + 'px';
		draw();
	}

	/* The first row at or below y. */
	function rowAt(y) {
		var lo = 0, hi = rows.length;
		while (lo < hi) {
			var mid = (lo + hi) >> 1;
			if (rowY[mid] < y) lo = mid + 1; else hi = mid;
		}
		return lo;
	}

	/* ---- drawing ---- */
	/* An arrow in two parts: its line under the boxes (they stay
	 * readable where it crosses them), its head and label over them. */
	function arrowSvg(i, out, over) {
		var e = EV[i], kind = e[AKIND];
		if (!kind || e[PCOL] < 0 || rowOf[i] < 0) return;
		var p = e[PROW], y0 = rowY[rowOf[i]], x0b = laneX(e[COL]) + BOX_X, x0e = x0b + boxWidth(i);
		var y1, x1b, x1e;
		if (p >= 0) {
			if (rowOf[p] < 0) return;        /* its partner is filtered out */
			y1 = rowY[rowOf[p]];
			x1b = laneX(EV[p][COL]) + BOX_X;
			x1e = x1b + boxWidth(p);
		} else {
			y1 = y0;                         /* a remote end: its lifeline */
			x1b = x1e = laneX(e[PCOL]);
		}
		var right = COLS[e[PCOL]].lane > COLS[e[COL]].lane;
		var me = { x: right ? x0e : x0b - 1, y: y0 }, other = { x: right ? x1b - 1 : x1e + 1, y: y1 };
		if (p < 0) other.x = x1b;
		var from = e[AOUT] ? me : other, to = e[AOUT] ? other : me;
		/* The effect of an injected fault (the peer's ECONNRESET or EOF
		 * after a reset) is linked to it in the fault's colour. */
		var cause = e[AOUT] ? i : p, injected = cause >= 0 && (EV[cause][FLAGS] & F_FAULT);
		var c = injected ? '#a0a' : colour(e[CONN]);
		var cls = 'ar k' + kind + (injected ? ' fx' : '') + (selConn && e[CONN] === selConn ? ' hl' : '');
		out.push('<g class="' + cls + '" data-i="' + i + '" style="stroke:' + c + '">');
		out.push('<line x1="' + from.x + '" y1="' + from.y + '" x2="' + to.x + '" y2="' + to.y + '"/>');
		out.push('</g>');
		over.push('<g class="' + cls + '" data-i="' + i + '" style="stroke:' + c + '">');
		var dx = to.x - from.x, dy = to.y - from.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
		var ux = dx / len, uy = dy / len, s = 8;
		if (kind === 4) {                    /* a failed connect: a cross */
			over.push('<path d="M' + (to.x - 5) + ',' + (to.y - 5) + 'L' + (to.x + 5) + ',' + (to.y + 5) +
				'M' + (to.x + 5) + ',' + (to.y - 5) + 'L' + (to.x - 5) + ',' + (to.y + 5) + '" style="stroke-width:2"/>');
		} else {
			var bx = to.x - ux * s, by = to.y - uy * s;
			over.push('<path d="M' + to.x + ',' + to.y + 'L' + (bx - uy * 4) + ',' + (by + ux * 4) + 'L' +
				(bx + uy * 4) + ',' + (by - ux * 4) + 'z" style="fill:' + c + ';stroke:none"/>');
		}
		over.push('</g>');
		if (e[ATEXT]) {
			var mx = (from.x + to.x) / 2, my = (from.y + to.y) / 2 - 4;
			over.push('<text class="al" x="' + mx + '" y="' + my + '" text-anchor="middle" style="fill:' +
				(kind === 4 ? '#c22' : c) + '">' + esc((injected ? '\u26a1 ' : '') + e[ATEXT]) + '</text>');
		}
	}

	function eventSvg(i, out) {
		var e = EV[i], y = rowY[rowOf[i]], x = laneX(e[COL]) + BOX_X, f = e[FLAGS];
		var b = boxText(i), w = boxWidth(i);
		var cls = 'ev' + (f & F_ERR ? ' err' : '') + (f & F_FAULT ? ' fault' : '') +
			(f & F_WARN ? ' warn' : '') + (f & F_PENDING ? ' pending' : '') + (f & F_NOTE ? ' note' : '') +
			(selConn && e[CONN] === selConn ? ' hl' : '') + (i === cur ? ' cur' : '') +
			(pairLit.indexOf(i) >= 0 ? ' pair' : '');
		out.push('<g class="' + cls + '" id="e' + e[SEQ] + '" data-i="' + i + '" data-conn="' + e[CONN] + '">');
		out.push('<title>' + esc(procName(e[COL]) + ': ' + e[LABEL] + ' (took ' + dur(e[DUR]) + ')') + '</title>');
		out.push('<rect class="box" x="' + x + '" y="' + (y - 9) + '" width="' + w + '" height="18" rx="3"/>');
		if (e[CONN])
			out.push('<rect x="' + x + '" y="' + (y - 9) + '" width="3" height="18" style="fill:' + colour(e[CONN]) + '"/>');
		out.push('<text class="lab" x="' + (x + 7) + '" y="' + (y + 4) + '">' + esc(b.mark + b.label) +
			'<tspan class="dur">' + esc(b.dur) + '</tspan></text></g>');
	}

	var pending = false;
	function draw() {
		if (pending) return;
		pending = true;
		requestAnimationFrame(function () { pending = false; drawNow(); });
	}
	function drawNow() {
		var top = scroll.scrollTop, bottom = top + scroll.clientHeight;
		var r0 = Math.max(0, rowAt(top - 4 * ROW_H) - 1), r1 = Math.min(rows.length, rowAt(bottom + 4 * ROW_H) + 1);
		var y0 = r0 < rows.length ? rowY[r0] - ROW_H : 0, y1 = r1 > 0 ? rowY[r1 - 1] + ROW_H : 0;
		var out = [], lines = [], ev = [], over = [], gutOut = [], k;
		/* Lifelines of the columns alive in this window. */
		for (var c = 0; c < COLS.length; c++) {
			var fr = firstShownRow(c), lr = lastShownRow(c);
			if (fr < 0 || rowY[lr] < y0 || rowY[fr] > y1) continue;
			var x = laneX(c) + BOX_X, ya = Math.max(rowY[fr] - 10, y0), yb = Math.min(rowY[lr] + 10, y1);
			out.push('<line class="life" x1="' + x + '" y1="' + ya + '" x2="' + x + '" y2="' + yb + '"/>');
			/* Where a lane changes owner, the new one is named: on the
			 * row above when that is free in this lane, else beside. */
			if (rowY[fr] >= y0 && fr > 0 && takesOver[c]) {
				var above = rows[fr - 1], free = above < 0 || COLS[EV[above][COL]].lane !== COLS[c].lane;
				var tag = esc('\u25bc ' + procName(c) + (COLS[c].role ? ' \u00b7 ' + COLS[c].role : ''));
				var fi = rows[fr];
				if (free)
					out.push('<text class="owner" x="' + (x + 4) + '" y="' + (rowY[fr] - 12) + '">' + tag + '</text>');
				else if (fi >= 0 && EV[fi][COL] === c)
					out.push('<text class="owner" x="' + (x + boxWidth(fi) + 6) + '" y="' + (rowY[fr] + 4) + '">\u25c0 ' +
						tag.slice(2) + '</text>');
			}
		}
		for (k = r0; k < r1; k++) {
			var i = rows[k], y = rowY[k];
			if (i < 0) {
				var g = gaps[-1 - i];
				out.push('<g class="gap"><line x1="' + GUT + '" y1="' + y + '" x2="' + width + '" y2="' + y + '"/>' +
					'<text x="' + (GUT + 12) + '" y="' + (y + 4) + '">--- ' + esc(dur(g)) + ' ---</text></g>');
				gutOut.push('<div class="gapt" style="top:' + (y - 7) + 'px">\u22ee ' + esc(dur(g)) + '</div>');
				continue;
			}
			eventSvg(i, ev);
			gutOut.push('<div style="top:' + (y - 7) + 'px">' + secs(tend(i)) + '</div>');
		}
		var seen = {};
		for (k = r0; k < r1; k++) {
			if (rows[k] < 0) continue;
			arrowSvg(rows[k], lines, over);
			seen[rows[k]] = 1;
			var by = pairedBy[rows[k]];       /* arrows drawn at rows below */
			if (by) by.forEach(function (j) { if (!seen[j] && rowOf[j] >= r1) { seen[j] = 1; arrowSvg(j, lines, over); } });
		}
		longArrows.forEach(function (j) {
			var a = rowOf[j], b = rowOf[EV[j][PROW]];
			if (!seen[j] && Math.min(a, b) < r1 && Math.max(a, b) >= r0) arrowSvg(j, lines, over);
		});
		flow.setAttribute('width', width);
		flow.setAttribute('height', Math.max(1, y1 - y0));
		flow.setAttribute('viewBox', '0 ' + y0 + ' ' + width + ' ' + Math.max(1, y1 - y0));
		flow.style.top = y0 + 'px';
		flow.classList.toggle('dim', !!selConn);
		flow.innerHTML = out.join('') + lines.join('') + ev.join('') + over.join('');
		gut.innerHTML = gutOut.join('');
		heads(r0 < rows.length ? rowAt(top) : rows.length - 1);
	}

	/* Each column's first and last shown row, for its lifeline. */
	var spanCache = null;
	function spans() {
		if (spanCache && spanCache.rows === rows) return spanCache;
		var f = new Int32Array(COLS.length).fill(-1), l = new Int32Array(COLS.length).fill(-1);
		for (var k = 0; k < rows.length; k++) {
			var i = rows[k];
			if (i < 0) continue;
			var cs = [EV[i][COL]];
			if (EV[i][AKIND] && EV[i][PCOL] >= 0 && EV[i][PROW] < 0) cs.push(EV[i][PCOL]);
			cs.forEach(function (c) { if (f[c] < 0) f[c] = k; l[c] = k; });
		}
		spanCache = { rows: rows, f: f, l: l };
		return spanCache;
	}
	function firstShownRow(c) { return spans().f[c]; }
	function lastShownRow(c) { return spans().l[c]; }

	/* The sticky header: per lane, the column that owns it at the top
	 * row on screen (or the next to come in it). */
	function heads(topRow) {
		var s = spans(), out = ['<div id="time-head">time</div>'];
		var owner = new Array(Math.max(1, D.lanes)).fill(-1);
		for (var c = 0; c < COLS.length; c++) {
			if (s.f[c] < 0) continue;
			var L = COLS[c].lane, o = owner[L];
			var here = s.f[c] <= topRow && s.l[c] >= topRow;
			if (o < 0 || here || (!(s.f[o] <= topRow && s.l[o] >= topRow) &&
				((s.f[c] > topRow && (s.f[o] < topRow || s.f[c] < s.f[o])) || (s.l[o] < topRow && s.l[c] > s.l[o]))))
				owner[L] = c;
		}
		for (var l = 0; l < owner.length; l++) {
			var oc = owner[l];
			if (oc < 0) continue;
			var col = COLS[oc];
			out.push('<div class="head' + (col.remote ? ' remote' : '') + '" data-col="' + oc + '" style="left:' +
				(GUT + l * COL_W + 10) + 'px;width:' + (COL_W - 14) + 'px"><b>' + esc(col.name) + '</b><small>' +
				esc(col.sub + (col.role ? ' \u00b7 ' + col.role : '')) + '</small></div>');
		}
		headsInner.innerHTML = out.join('');
		headsInner.style.width = width + 'px';
		headsInner.style.transform = 'translateX(' + (-scroll.scrollLeft) + 'px)';
		var th = $('time-head');
		if (th) th.style.transform = 'translateX(' + scroll.scrollLeft + 'px)';
	}

	/* ---- connections ---- */
	function connRows() {
		var out = ['<table>'];
		CONNS.forEach(function (c) {
			var evs = connEvents[c.id] || [], faults = 0, errs = 0;
			evs.forEach(function (i) { if (EV[i][FLAGS] & F_FAULT) faults++; if (EV[i][FLAGS] & F_ERR) errs++; });
			var cl = c.c >= 0 ? procName(c.c) : c.caddr || '?', sv = c.s >= 0 ? procName(c.s) : c.saddr || '?';
			var up = c.dgram ? c.upm + ' dgram ' + bytes(c.up) : bytes(c.up);
			var down = c.dgram ? c.downm + ' dgram ' + bytes(c.down) : bytes(c.down);
			var span = c.t1 > c.t0 && c.t0 >= 0 ? dur(c.t1 - c.t0) : '';
			out.push('<tr data-c="' + c.id + '"><td class="cid"><i style="background:' + colour(c.id) + '"></i>c' + c.id +
				'<br><small>' + esc(c.proto) + '</small></td><td>' + esc(cl) + ' \u2192 ' + esc(sv) +
				'<br><small>' + esc(c.saddr) + '</small></td><td class="cbytes">\u2191 ' + esc(up) + '<br>\u2193 ' + esc(down) +
				'</td><td>' + esc(span) + '<br><span class="cend">' + esc(c.end) + '</span>' +
				(faults ? '<br><span class="cfault">\u26a1 ' + faults + ' fault' + (faults > 1 ? 's' : '') + '</span>' : '') +
				(errs ? ' <span class="cend">' + errs + ' failed</span>' : '') + '</td></tr>');
		});
		out.push('</table>');
		connList.innerHTML = CONNS.length ? out.join('') : '<p>No connections.</p>';
	}

	function selectConn(id, scrollTo) {
		selConn = selConn === id && !scrollTo ? 0 : id;
		var trs = connList.querySelectorAll('tr[data-c]');
		for (var k = 0; k < trs.length; k++) trs[k].classList.toggle('sel', +trs[k].getAttribute('data-c') === selConn);
		if (selConn) {
			setHash('c' + selConn);
			var evs = connEvents[selConn] || [];
			for (var q = 0; q < evs.length; q++) if (rowOf[evs[q]] >= 0) { showRow(rowOf[evs[q]]); break; }
			var tr = connList.querySelector('tr[data-c="' + selConn + '"]');
			if (tr && tr.scrollIntoView) tr.scrollIntoView({ block: 'nearest' });
		}
		draw();
	}

	/* ---- events ---- */
	function showRow(r) {
		var y = rowY[r], top = scroll.scrollTop, h = scroll.clientHeight;
		if (y < top + ROW_H || y > top + h - ROW_H) scroll.scrollTop = Math.max(0, y - h / 3);
		var x = laneX(EV[rows[r]][COL]), left = scroll.scrollLeft, w = scroll.clientWidth;
		if (x < left + GUT || x + COL_W > left + w) scroll.scrollLeft = Math.max(0, x - GUT - 20);
	}
	function setHash(h) {
		if (history.replaceState) history.replaceState(null, '', '#' + h);
	}
	function selectEvent(i, scrollTo) {
		cur = i;
		pairLit = [];
		if (i < 0) { draw(); return; }
		var e = EV[i];
		if (e[PROW] >= 0) pairLit.push(e[PROW]);
		(REC[i].pair || []).forEach(function (s) { if (bySeq[s] !== undefined) pairLit.push(bySeq[s]); });
		(pairedBy[i] || []).forEach(function (j) { pairLit.push(j); });
		setHash('e' + e[SEQ]);
		showDetails(i);
		if (scrollTo && rowOf[i] >= 0) showRow(rowOf[i]);
		draw();
	}
	function link(i) { return '<a data-go="' + i + '">#' + EV[i][SEQ] + ' ' + esc(REC[i].fn || REC[i].rec) + '</a>'; }
	function frameText(f) {
		if (!f || typeof f !== 'object') return esc(f);
		var t = (f.src_func || f.func || f.ip || '?') + (f.src ? '  ' + f.src : '') +
			(f.module ? '  ' + f.module + (f.offset ? '+' + f.offset : '') : '');
		var h = esc(t);
		if (f.inlined) [].concat(f.inlined).forEach(function (x) {
			h += '<br>inlined in ' + esc((x && x.func || '?') + (x && x.src ? '  ' + x.src : ''));
		});
		return h;
	}
	function showDetails(i) {
		var e = EV[i], r = REC[i], h = [];
		h.push('<h2>' + esc(r.fn || r.rec) + ' <small>#' + e[SEQ] + '</small></h2>');
		h.push('<p class="when">' + esc(procName(e[COL])) + (r.tid && r.tid !== r.pid ? ', thread ' + r.tid : '') +
			'<br>began at ' + secs(e[T]) + ' s (' + e[T] + ' ns), took ' + dur(e[DUR]) + ' (' + e[DUR] +
			' ns), returned at ' + secs(tend(i)) + ' s</p>');
		if (e[CONN]) {
			var c = connById[e[CONN]];
			h.push('<p>connection <a data-conn="' + e[CONN] + '">c' + e[CONN] + '</a>' +
				(c ? ' (' + esc(c.proto) + ', ' + esc(c.end) + ')' : '') + '</p>');
		}
		var links = pairLit.filter(function (j, k) { return pairLit.indexOf(j) === k; });
		if (links.length) h.push('<p>pairs with ' + links.map(link).join(', ') + '</p>');
		h.push('<table>');
		Object.keys(r).forEach(function (k) {
			if (k === 'stack') return;
			var v = r[k];
			h.push('<tr><th>' + esc(k) + '</th><td>' + esc(typeof v === 'object' ? JSON.stringify(v) : v) + '</td></tr>');
		});
		h.push('</table>');
		if (r.stack) {
			h.push('<h3>stack</h3><ol class="stack">');
			[].concat(r.stack).forEach(function (f) { h.push('<li>' + frameText(f) + '</li>'); });
			h.push('</ol>');
		}
		details.innerHTML = h.join('');
	}

	/* The events n and p step through: the selected connection's, else
	 * all those shown. */
	function step(dir) {
		var list = selConn ? (connEvents[selConn] || []) : null, k, i;
		if (list) {
			var pos = cur >= 0 ? list.indexOf(cur) : -1;
			for (k = pos + dir; k >= 0 && k < list.length; k += dir)
				if (rowOf[list[k]] >= 0) { selectEvent(list[k], true); return; }
			if (pos < 0 && list.length) {
				for (k = dir > 0 ? 0 : list.length - 1; k >= 0 && k < list.length; k += dir)
					if (rowOf[list[k]] >= 0) { selectEvent(list[k], true); return; }
			}
			return;
		}
		var r = cur >= 0 && rowOf[cur] >= 0 ? rowOf[cur] : (dir > 0 ? -1 : rows.length);
		for (k = r + dir; k >= 0 && k < rows.length; k += dir)
			if ((i = rows[k]) >= 0) { selectEvent(i, true); return; }
	}

	/* ---- wiring ---- */
	[0.01, 0.1, 1, 10, 100, 1000].forEach(function (v) {
		var o = document.createElement('option');
		o.value = v; o.textContent = v + ' px/ms';
		if (v === 1) o.selected = true;
		scaleSel.appendChild(o);
	});
	scaleSel.style.display = 'none';
	axisSel.addEventListener('change', function () {
		scaleSel.style.display = axisSel.value === 'prop' ? '' : 'none';
		layout();
	});
	scaleSel.addEventListener('change', layout);
	var timer = 0;
	filterBox.addEventListener('input', function () {
		clearTimeout(timer);
		timer = setTimeout(function () { applyFilter(filterBox.value); }, n > 20000 ? 150 : 30);
	});
	scroll.addEventListener('scroll', draw, { passive: true });
	window.addEventListener('resize', draw);
	flow.addEventListener('click', function (ev) {
		var g = ev.target.closest && ev.target.closest('[data-i]');
		if (g) selectEvent(+g.getAttribute('data-i'), false);
	});
	connList.addEventListener('click', function (ev) {
		var tr = ev.target.closest && ev.target.closest('tr[data-c]');
		if (tr) selectConn(+tr.getAttribute('data-c'), false);
	});
	details.addEventListener('click', function (ev) {
		var a = ev.target.closest && ev.target.closest('a');
		if (!a) return;
		if (a.hasAttribute('data-go')) selectEvent(+a.getAttribute('data-go'), true);
		if (a.hasAttribute('data-conn')) selectConn(+a.getAttribute('data-conn'), true);
	});
	document.addEventListener('keydown', function (ev) {
		if (ev.target === filterBox) {
			if (ev.key === 'Escape') { filterBox.value = ''; applyFilter(''); scroll.focus(); }
			return;
		}
		if (ev.key === 'n' || ev.key === 'j') step(1);
		else if (ev.key === 'p' || ev.key === 'k') step(-1);
		else if (ev.key === '/') { ev.preventDefault(); filterBox.focus(); }
		else if (ev.key === 'Escape') { selConn = 0; selectConn(0, false); selectEvent(-1); }
		else return;
		ev.preventDefault();
	});
	function fromHash() {
		var h = location.hash.slice(1), m;
		if ((m = /^e(\d+)$/.exec(h)) && bySeq[m[1]] !== undefined) {
			var i = bySeq[m[1]];
			if (!shown[i]) { filterBox.value = ''; applyFilter(''); }
			selectEvent(i, true);
		} else if ((m = /^c(\d+)$/.exec(h)) && connById[m[1]]) {
			selectConn(+m[1], true);
		}
	}
	window.addEventListener('hashchange', fromHash);

	/* The header's summary and what the tool could not draw. */
	var procs = COLS.filter(function (c) { return !c.remote; }).length;
	$('summary').textContent = D.title + ': ' + n + ' event' + (n === 1 ? '' : 's') + ', ' + procs +
		' process' + (procs === 1 ? '' : 'es') + (COLS.length > procs ? ', ' + (COLS.length - procs) +
		' endpoint' + (COLS.length - procs === 1 ? '' : 's') + ' not traced' : '') + ', ' + CONNS.length +
		' connection' + (CONNS.length === 1 ? '' : 's') + ', ' + Math.max(1, D.lanes) + ' lane' +
		(D.lanes === 1 ? '' : 's');
	if (!n)
		$('notes').textContent = 'No events to show: the trace has none, or the filters of socktrace view left none.';
	if (D.over)
		$('notes').textContent = D.over + ' more event' + (D.over === 1 ? '' : 's') + ' not drawn (--limit ' +
			D.limit + '): narrow the view with --pid, --conn, --fn, --since/--until, or use -n 0 for all.';
	connRows();
	applyFilter('');
	fromHash();

	/* For scripts and tests (tests/view/test_html_explorer.py). */
	window.socktrace = {
		data: D,
		filter: function (t) { filterBox.value = t; applyFilter(t); drawNow(); },
		selectConn: function (id) { selectConn(id, true); drawNow(); },
		selectEvent: function (seq) { selectEvent(bySeq[seq], true); drawNow(); },
		drawNow: drawNow,
		shownCount: function () { var c = 0; for (var i = 0; i < n; i++) c += shown[i]; return c; },
		rows: function () { return rows.length; }
	};
	document.body.setAttribute('data-ready', String(n));
})();
