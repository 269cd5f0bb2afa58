/* SPDX-License-Identifier: ISC */
/* folio: offline search for an edition page (index.html).  The data comes
 * from _folio/search-index.js, which sets window.FOLIO_SEARCH (a <script>,
 * because browsers refuse fetch and XHR of file:// URLs).  docs/FORMAT.md
 * describes the index, the folding and the matching; the folding must stay
 * identical to folio_search_fold() in src/reader.c.  Plain ES5, ASCII only:
 * the build embeds this file as a C string. */
(function () {
	'use strict';

	var TOKEN_MAX = 40; /* code points; longer tokens are cut */
	var SHOW_MAX = 100;
	var DELAY = 150;    /* ms after the last keystroke */
	var PREFIXES = ['\u0648\u0627\u0644', '\u0628\u0627\u0644', '\u0643\u0627\u0644',
		'\u0641\u0627\u0644', '\u0644\u0644', '\u0627\u0644'];

	/* ---- folding (steps 1-4) and tokens (step 5) ---- */

	function removed(c) {
		return (c >= 0x0300 && c <= 0x036f) || (c >= 0x0610 && c <= 0x061a) ||
			(c >= 0x064b && c <= 0x065f) || c === 0x0670 ||
			(c >= 0x06d6 && c <= 0x06ed) || c === 0x0640 ||
			(c >= 0x200c && c <= 0x200f) || c === 0x061c;
	}

	function mapped(c) {
		switch (c) {
		case 0x0000: return 0x0020;
		case 0x0671: return 0x0627;
		case 0x0649: return 0x064a;
		case 0x0629: return 0x0647;
		case 0x06cc: return 0x064a;
		case 0x06a9: return 0x0643;
		default: return c;
		}
	}

	function isSeparator(c) {
		return c < 0x30 || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
			(c >= 0x7b && c <= 0xbf) || c === 0x060c || c === 0x061b ||
			c === 0x061f || (c >= 0x066a && c <= 0x066d) || c === 0x06d4 ||
			(c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x303f) ||
			(c >= 0xfe10 && c <= 0xfe1f) || (c >= 0xfe30 && c <= 0xfe4f) ||
			(c >= 0xff00 && c <= 0xff0f);
	}

	function fold(s) {
		var out = [], i, c;

		s = String(s);
		if (typeof s.normalize === 'function') {
			try {
				s = s.normalize('NFKD');
			} catch (e) { /* keep s */ }
		}
		s = s.toLowerCase();
		for (i = 0; i < s.length; i++) {
			c = s.charCodeAt(i);
			if (!removed(c))
				out.push(String.fromCharCode(mapped(c)));
		}
		return out.join('');
	}

	/* UTF-16 units of t that hold its first max code points. */
	function cutLength(t, max) {
		var i = 0, k = 0, c;

		while (i < t.length && k < max) {
			c = t.charCodeAt(i);
			i += c >= 0xd800 && c <= 0xdbff && i + 1 < t.length &&
				(t.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
			k++;
		}
		return i;
	}

	function cut(t) {
		return t.substring(0, cutLength(t, TOKEN_MAX));
	}

	/* The tokens of an already folded string, cut to TOKEN_MAX. */
	function split(f) {
		var out = [], start = -1, i;

		for (i = 0; i <= f.length; i++) {
			if (i === f.length || isSeparator(f.charCodeAt(i))) {
				if (start >= 0)
					out.push(cut(f.substring(start, i)));
				start = -1;
			} else if (start < 0) {
				start = i;
			}
		}
		return out;
	}

	function tokens(s) {
		return split(fold(s));
	}

	/* Step 6: what the index holds for one (uncut) token. */
	function indexed(t) {
		var out = [cut(t)], i, p, rest;

		for (i = 0; i < PREFIXES.length; i++) {
			p = PREFIXES[i];
			if (t.length > p.length && t.lastIndexOf(p, 0) === 0) {
				rest = t.substring(p.length);
				if (cutLength(rest, 1) < rest.length) { /* two code points or more */
					out.push(cut(rest));
					break;
				}
			}
		}
		return out;
	}

	/* ---- the index ---- */

	var data = null, articleTerms = [], titles = [];

	function load() {
		var d = window.FOLIO_SEARCH;

		if (data !== null)
			return true;
		if (!d || d.v !== 2 || !d.a || typeof d.a.length !== 'number')
			return false;
		data = d;
		return true;
	}

	/* How many terms of article id start with q: a binary search for the
	 * first term not less than q (terms are sorted in UTF-16 order, the
	 * order of JavaScript's <), then the run of terms q is a prefix of.
	 * The terms are split on first use; an article whose string does not
	 * hold q at all is answered unsplit, so the first search need not
	 * split the whole index. */
	function prefixed(id, q) {
		var list = articleTerms[id], s, lo = 0, hi, mid, n = 0;

		if (!list) {
			s = data.a[id] ? data.a[id][4] : '';
			if (typeof s !== 'string' || s.indexOf(q) < 0)
				return 0;
			list = articleTerms[id] = s.split(' ');
		}
		hi = list.length;
		while (lo < hi) {
			mid = (lo + hi) >> 1;
			if (list[mid] < q)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo + n < list.length && list[lo + n].lastIndexOf(q, 0) === 0)
			n++;
		return n;
	}

	function titleTerms(id) {
		var list, out, i;

		if (!titles[id]) {
			list = split(fold(data.a[id][1]));
			out = [];
			for (i = 0; i < list.length; i++)
				out = out.concat(indexed(list[i]));
			titles[id] = out;
		}
		return titles[id];
	}

	function startsWithAny(list, q) {
		for (var i = 0; i < list.length; i++) {
			if (list[i].lastIndexOf(q, 0) === 0)
				return true;
		}
		return false;
	}

	/* Articles matching every token of query, best first, as objects
	 * {id, title, terms}; null for a query without tokens. */
	function search(query) {
		var list = tokens(query), qt = [], seen = {}, results = [];
		var i, id, n, k, title;

		for (i = 0; i < list.length; i++) {
			if (!seen.hasOwnProperty('$' + list[i])) {
				seen['$' + list[i]] = true;
				qt.push(list[i]);
			}
		}
		if (qt.length === 0)
			return null;
		if (!load())
			return [];
		for (id = 0; id < data.a.length; id++) {
			n = 0;
			for (i = 0; i < qt.length; i++) {
				k = prefixed(id, qt[i]);
				if (k === 0)
					break;
				n += k;
			}
			if (i < qt.length)
				continue;
			title = 0;
			for (i = 0; i < qt.length; i++)
				title += startsWithAny(titleTerms(id), qt[i]) ? 1 : 0;
			results.push({id: id, title: title, terms: n});
		}
		results.sort(function (a, b) {
			return b.title - a.title || b.terms - a.terms || a.id - b.id;
		});
		return results;
	}

	/* ---- the page ---- */

	function href(path) {
		return encodeURIComponent(path).replace(/%2F/g, '/').replace(/[!'()*]/g, function (c) {
			return '%' + c.charCodeAt(0).toString(16).toUpperCase();
		});
	}

	function arabic() {
		var lang = document.documentElement.getAttribute('lang') || '';
		return /^ar(-|$)/i.test(lang);
	}

	function statusText(n, query) {
		if (arabic()) {
			if (n === 0)
				return '\u0644\u0627 \u0646\u062a\u0627\u0626\u062c \u0644\u0640\u00ab' + query + '\u00bb';
			return '\u0627\u0644\u0646\u062a\u0627\u0626\u062c: ' + n +
				(n > SHOW_MAX ? ' (\u0623\u0648\u0644 ' + SHOW_MAX + ')' : '');
		}
		if (n === 0)
			return 'No results for \u201c' + query + '\u201d';
		return n + (n === 1 ? ' result' : ' results') + ' for \u201c' + query + '\u201d' +
			(n > SHOW_MAX ? ', the first ' + SHOW_MAX + ' shown' : '');
	}

	function byId(id) {
		return document.getElementById(id);
	}

	function setHidden(el, hidden) {
		if (hidden)
			el.setAttribute('hidden', '');
		else
			el.removeAttribute('hidden');
	}

	var shown = null;

	function show(query) {
		var section = byId('results'), list = byId('results-list'), status = byId('results-status');
		var results, i, a, li, link;

		if (!section || !list || !status || query === shown)
			return;
		shown = query;
		while (list.firstChild)
			list.removeChild(list.firstChild);
		results = search(query);
		if (results === null) {
			status.textContent = '';
			setHidden(section, true);
			return;
		}
		if (!load()) {
			status.textContent = arabic() ? '\u0627\u0644\u0628\u062d\u062b \u063a\u064a\u0631 \u0645\u062a\u0627\u062d' :
				'Search is not available';
			setHidden(section, false);
			return;
		}
		for (i = 0; i < results.length && i < SHOW_MAX; i++) {
			a = data.a[results[i].id];
			li = document.createElement('li');
			link = document.createElement('a');
			link.setAttribute('href', href(String(a[0])));
			if (a[3])
				link.setAttribute('lang', a[3]);
			link.setAttribute('dir', a[2] === 'rtl' ? 'rtl' : 'ltr');
			link.textContent = a[1];
			li.appendChild(link);
			list.appendChild(li);
		}
		status.textContent = statusText(results.length, query);
		setHidden(section, false);
	}

	function queryFromLocation() {
		var parts = location.search.replace(/^\?/, '').split('&'), i, eq, v;

		for (i = 0; i < parts.length; i++) {
			eq = parts[i].indexOf('=');
			if (eq < 0 || parts[i].substring(0, eq) !== 'q')
				continue;
			v = parts[i].substring(eq + 1).replace(/\+/g, ' ');
			try {
				return decodeURIComponent(v);
			} catch (e) {
				return v;
			}
		}
		return '';
	}

	function keepInUrl(query) {
		var url;

		if (!window.history || typeof history.replaceState !== 'function')
			return;
		url = query ? '?q=' + encodeURIComponent(query).replace(/%20/g, '+') :
			location.pathname.replace(/^.*\//, '') || 'index.html';
		try {
			history.replaceState(null, '', url);
		} catch (e) { /* file:// in some browsers */ }
	}

	function start() {
		var input = byId('q'), form = byId('search'), timer = null, q;

		if (!input)
			return;
		q = queryFromLocation();
		if (q)
			input.value = q;
		show(input.value);
		function later() {
			clearTimeout(timer);
			timer = setTimeout(function () {
				show(input.value);
				keepInUrl(input.value);
			}, DELAY);
		}
		/* 'search' and 'change' too: the clear button, and scripts that
		 * set the value without an input event */
		input.addEventListener('input', later);
		input.addEventListener('search', later);
		input.addEventListener('change', later);
		if (form) {
			form.addEventListener('submit', function (e) {
				e.preventDefault();
				clearTimeout(timer);
				show(input.value);
				keepInUrl(input.value);
			});
		}
	}

	window.folioSearch = {
		fold: fold,
		tokens: tokens,
		indexed: function (s) {
			var list = split(fold(s)), out = [], i;
			for (i = 0; i < list.length; i++)
				out = out.concat(indexed(list[i]));
			return out;
		},
		search: function (query) {
			var r = search(query), out = [], i;
			if (r === null)
				return null;
			for (i = 0; i < r.length; i++)
				out.push(r[i].id);
			return out;
		}
	};

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
}());
