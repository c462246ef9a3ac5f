package chromedpdriver

// pageJS is the driver's code in the page, a function called as
// f(op, S, A): op names the operation, S is the selector set (a map from
// key to list) and A the operation's argument. evalOp keeps the function
// and the set under Symbol.for('wasend.code') on window, so that an
// evaluation sends only the operation and its argument. Its state lives
// under Symbol.for('wasend.driver'): the WeakSets that mark the rows and
// chat panels seen before a step, the watch's MutationObserver with its
// count of the page's changes and the numbers of the chat panels, the
// toasts already seen, and the box being typed into.
const pageJS = `(function (op, S, A) {
  'use strict';
  var K = Symbol.for('wasend.driver');
  var G = window[K];
  if (!G) {
    G = { seen: new WeakSet(), stale: new WeakSet() };
    Object.defineProperty(window, K, { value: G });
  }
  var bad = {};
  function note(key, sel) { (bad[key] = bad[key] || []).push(sel); }
  function vis(el) { return !!(el.getClientRects && el.getClientRects().length); }
  function norm(s) { return String(s == null ? '' : s).replace(/\s+/g, ' ').trim(); }
  var SKIP = { SCRIPT: 1, STYLE: 1, NOSCRIPT: 1, TEMPLATE: 1 };

  function matcher(t) {
    if (t.length > 2 && t.charAt(0) === '/') {
      var i = t.lastIndexOf('/');
      if (i > 0) {
        var re = new RegExp(t.slice(1, i), t.slice(i + 1));
        return function (s) { return re.test(s); };
      }
    }
    var want = norm(t);
    return function (s) { return s === want; };
  }

  function byText(root, scope, t) {
    var m = matcher(t), out = [];
    if (scope) {
      root.querySelectorAll(scope).forEach(function (el) {
        if (!SKIP[el.tagName] && m(norm(el.textContent)) && vis(el)) out.push(el);
      });
      return out;
    }
    var seen = new Set();
    var w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (var n = w.nextNode(); n; n = w.nextNode()) {
      var el = n.parentElement;
      if (!el || seen.has(el) || SKIP[el.tagName] || !n.data.trim()) continue;
      seen.add(el);
      if (m(norm(el.textContent)) && vis(el)) out.push(el);
    }
    return out;
  }

  // split returns [selector, attribute or null] for "css@attr".
  function split(sel) {
    var i = sel.lastIndexOf('@');
    if (i > 0) {
      var a = sel.slice(i + 1);
      if (/^[A-Za-z_:][-A-Za-z0-9_:.]*$/.test(a)) return [sel.slice(0, i), a];
    }
    return [sel, null];
  }

  function query(root, sel, self) {
    if (sel.indexOf('text=') === 0) return byText(root, null, sel.slice(5));
    var j = sel.indexOf(' >> text=');
    if (j >= 0) return byText(root, sel.slice(0, j), sel.slice(j + 9));
    var out = Array.prototype.slice.call(root.querySelectorAll(sel));
    if (self && root.nodeType === 1 && root.matches(sel)) out.unshift(root);
    return out;
  }

  // first returns the first element of the first entry of key that matches.
  function first(key, root, self) {
    var list = S[key] || [];
    for (var i = 0; i < list.length; i++) {
      var els;
      try { els = query(root || document, split(list[i])[0], self); } catch (e) { note(key, list[i]); continue; }
      if (els.length) return els[0];
    }
    return null;
  }

  // value reads the first match of a value key: an attribute ("@attr") or
  // the text (as a person reads it, emoji included, when rich is set).
  function value(key, root, self, rich) {
    var list = S[key] || [];
    for (var i = 0; i < list.length; i++) {
      var p = split(list[i]), els;
      try { els = query(root || document, p[0], self); } catch (e) { note(key, list[i]); continue; }
      for (var k = 0; k < els.length; k++) {
        var v = p[1] ? els[k].getAttribute(p[1]) : (rich ? norm(textOf(els[k])) : norm(els[k].textContent));
        if (v != null && v !== '') return v;
      }
    }
    return null;
  }

  // all joins the matches of every entry of key, in document order.
  function all(key, root) {
    var list = S[key] || [], set = new Set(), out = [];
    for (var i = 0; i < list.length; i++) {
      var els;
      try { els = query(root || document, split(list[i])[0], false); } catch (e) { note(key, list[i]); continue; }
      els.forEach(function (el) { if (!set.has(el)) { set.add(el); out.push(el); } });
    }
    out.sort(function (a, b) {
      if (a === b) return 0;
      return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    return out;
  }

  function lastNode(n) {
    for (var s = n.nextSibling; s; s = s.nextSibling) {
      if (s.nodeType === 1 || (s.nodeType === 3 && s.data !== '')) return false;
    }
    return true;
  }

  // textOf reads text as a person sees it: emoji images give their alt
  // text, and a <br> that is not a block's last node is a line break.
  function textOf(node) {
    var s = '';
    (function walk(n) {
      for (var c = n.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) s += c.data;
        else if (c.nodeType === 1) {
          if (c.tagName === 'BR') { if (!lastNode(c)) s += '\n'; }
          else if (c.tagName === 'IMG') s += c.getAttribute('alt') || '';
          else if (!SKIP[c.tagName]) walk(c);
        }
      }
    })(node);
    return s;
  }

  // composeText reads the compose box: one line per block.
  function composeText(el) {
    var blocks = Array.prototype.filter.call(el.children, function (c) { return c.tagName === 'P' || c.tagName === 'DIV'; });
    if (!blocks.length) return textOf(el);
    return blocks.map(textOf).join('\n');
  }

  function rowRoot(el) {
    var list = S.row || [];
    for (var i = 0; i < list.length; i++) {
      try { var r = el.closest(list[i]); if (r) return r; } catch (e) { note('row', list[i]); }
    }
    return el;
  }

  function outRows() {
    var set = new Set(), out = [];
    all('out_row').forEach(function (el) {
      var r = rowRoot(el);
      if (!set.has(r)) { set.add(r); out.push(r); }
    });
    return out;
  }

  // status reads a row's tick: its aria-label first, then its icon names
  // (data-icon, svg title), which mislead (the 2026 single tick is titled
  // wds-ic-delivered).
  function status(r) {
    var labels = [], icons = [];
    all('status', r).forEach(function (e) {
      var v = e.getAttribute('aria-label');
      if (v) labels.push(v.trim());
      v = e.getAttribute('data-icon');
      if (v) icons.push(v);
      if (e.tagName.toLowerCase() === 'title') icons.push(e.textContent.trim());
      var t = e.querySelector && e.querySelector('svg title');
      if (t) icons.push(t.textContent.trim());
    });
    function any(toks, list) { return toks.some(function (t) { return (list || []).indexOf(t) >= 0; }); }
    var tiers = [labels, icons];
    for (var i = 0; i < tiers.length; i++) {
      if (any(tiers[i], S.status_pending)) return 'pending';
      if (any(tiers[i], S.status_sent)) return 'sent';
    }
    return labels.length || icons.length ? 'unknown' : 'none';
  }

  // isBlue reports whether a tick element e, or the icon it belongs to,
  // has the blue of a read tick (status_blue): a class or a fill.
  function isBlue(e) {
    var n = e;
    if (n.tagName.toLowerCase() === 'title') n = (n.parentNode && n.parentNode.parentElement) || n;
    var list = S.status_blue || [];
    for (var i = 0; i < list.length; i++) {
      try {
        if (n.matches(list[i]) || n.querySelector(list[i])) return true;
      } catch (err) { note('status_blue', list[i]); }
    }
    return false;
  }

  // ackOf reads the tick under r that the selectors of key find, as an ack:
  // 'pending', 'sent', 'delivered', 'read', 'unknown' (a tick no token
  // names) or 'none' (no tick). The aria-label decides first; the icon
  // names (data-icon, svg title) only when no label is known, and then the
  // blue of status_blue tells read from delivered (the 2026 icons and the
  // chat list's have no label, and the same icon for both).
  function ackOf(r, key) {
    var labels = [], icons = [], blue = false;
    all(key, r).forEach(function (e) {
      var v = e.getAttribute('aria-label');
      if (v) labels.push(v.trim());
      v = e.getAttribute('data-icon');
      if (v) icons.push(v);
      if (e.tagName.toLowerCase() === 'title') icons.push(e.textContent.trim());
      var t = e.querySelector && e.querySelector('svg title');
      if (t) icons.push(t.textContent.trim());
      if (!blue && isBlue(e)) blue = true;
    });
    function any(toks, list) { return toks.some(function (t) { return (list || []).indexOf(t) >= 0; }); }
    function decide(toks, colour) {
      if (any(toks, S.status_read)) return 'read';
      if (any(toks, S.status_delivered)) return colour && blue ? 'read' : 'delivered';
      if (any(toks, S.status_pending)) return 'pending';
      if (any(toks, S.status_sent)) return 'sent';
      return '';
    }
    var a = decide(labels, false) || decide(icons, true);
    return a || (labels.length || icons.length ? 'unknown' : 'none');
  }

  // mediaKey is the text by which the send and the lookup of a media
  // message know its row: the kind, the caption and, for a document, the
  // file name its card shows; "" for a row without an attachment.
  function mediaKey(r, caption) {
    var kind = '', name = '';
    if (first('media_document', r, false)) { kind = 'document'; name = value('media_name', r, false) || ''; }
    else if (first('media_image', r, false)) kind = 'image';
    if (!kind) return '';
    return '\u0000media\u0000' + kind + '\u0000' + (caption || '') + '\u0000' + name;
  }

  function rowInfo(r) {
    var t = first('message_text', r, false);
    var text = t ? textOf(t) : null;
    var mk = mediaKey(r, text);
    return {
      text: mk || text,
      id: value('message_id', r, true) || '',
      pre: value('message_meta', r, true) || '',
      status: status(r),
      ack: ackOf(r, 'status'),
      failed: first('send_failed_capped', r, false) ? 'capped' : (first('send_failed', r, false) ? 'failed' : '')
    };
  }

  function qr() {
    var c = first('qr_canvas');
    var ref = '';
    if (c) { var d = c.closest('[data-ref]'); if (d) ref = d.getAttribute('data-ref') || ''; }
    if (!ref) ref = value('qr_code') || '';
    return { shown: !!c || !!ref, ref: ref };
  }

  function flags() {
    var q = qr();
    return {
      url: location.href,
      errorPage: location.protocol === 'chrome-error:',
      netError: location.protocol === 'chrome-error:' ? ((document.body ? document.body.innerText : '').match(/ERR_[A-Z_]+/) || [''])[0] : '',
      unsupported: !!first('unsupported'),
      conflict: !!first('conflict'),
      qrShown: q.shown, qr: q.ref, qrExpired: q.shown && !!first('qr_reload'),
      pairingForm: !!first('phone_input'),
      pairingCode: value('pairing_code') || '',
      loggedIn: !!first('logged_in'),
      loading: !!first('loading'),
      starting: !!first('starting'),
      invalid: !!first('invalid'),
      phoneOffline: !!first('phone_offline'),
      tempBan: value('temp_ban') || '',
      banner: q.shown ? (value('logged_out_banner') || '') : '',
      passkey: !!first('passkey')
    };
  }

  // press clicks el as the page's own events: pointer and mouse down and
  // up, then click, at its center. Unlike input from the browser, they do
  // not give the page the focus (document.hasFocus()), which WhatsApp Web
  // needs to mark a chat read.
  function press(el) {
    var b = el.getBoundingClientRect();
    var o = { bubbles: true, cancelable: true, composed: true, view: window, button: 0,
      clientX: b.left + b.width / 2, clientY: b.top + b.height / 2 };
    function with2(extra) { var r = {}; for (var k in o) r[k] = o[k]; for (var k2 in extra) r[k2] = extra[k2]; return r; }
    var pe = { pointerId: 1, isPrimary: true, pointerType: 'mouse' };
    if (window.PointerEvent) el.dispatchEvent(new PointerEvent('pointerdown', with2(Object.assign({ buttons: 1 }, pe))));
    el.dispatchEvent(new MouseEvent('mousedown', with2({ buttons: 1 })));
    if (window.PointerEvent) el.dispatchEvent(new PointerEvent('pointerup', with2(pe)));
    el.dispatchEvent(new MouseEvent('mouseup', with2({})));
    el.click();
  }

  // key sends a key as the page's own keydown and keyup events on el.
  function key(el, name, shift) {
    var kc = { Enter: 13, Escape: 27 }[name] || 0;
    var o = { key: name, code: name, keyCode: kc, which: kc,
      shiftKey: !!shift, bubbles: true, cancelable: true, composed: true, view: window };
    el.dispatchEvent(new KeyboardEvent('keydown', o));
    el.dispatchEvent(new KeyboardEvent('keyup', o));
  }

  // caretAtEnd focuses el (without the page getting the focus) and puts
  // the caret at the end of its text; in an input, the selection stays.
  function caretAtEnd(el) {
    el.focus();
    if (el.isContentEditable) {
      var r = document.createRange();
      r.selectNodeContents(el);
      r.collapse(false);
      var s = window.getSelection();
      s.removeAllRanges();
      s.addRange(r);
    }
  }

  function selectContents(el) {
    el.focus();
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }

  // account reads the logged-in account from the page's storage: the
  // first of the account_storage keys that is set.
  function account() {
    var keys = S.account_storage || [];
    for (var i = 0; i < keys.length; i++) {
      var v = null;
      try { v = window.localStorage.getItem(keys[i]); } catch (err) { return ''; }
      if (v) return v;
    }
    return '';
  }

  // unread reads the unread badge of a chat list row: its count, -1 for a
  // badge without one ("Unread"), 0 for none.
  function unread(r) {
    var v = value('unread_badge', r, false);
    if (v == null) return 0;
    var m = /\d+/.exec(v);
    return m ? parseInt(m[0], 10) : -1;
  }

  // inDocOrder sorts elements in document order.
  function inDocOrder(a, b) {
    if (a === b) return 0;
    return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
  }

  // snapshot reads what the watch follows: the open chat's rows (the last
  // A_MAX of them) with their direction, id, text, time and tick, and the
  // chat list's rows with their title, preview, last tick and unread
  // badge.
  function snapshot() {
    var out = { list: [], tz: (Intl.DateTimeFormat().resolvedOptions().timeZone || ''), offset: -new Date().getTimezoneOffset() };
    var panel = first('chat_panel');
    if (panel) {
      var pid = G.panels.get(panel);
      if (!pid) { pid = G.tok + ':' + (++G.pn); G.panels.set(panel, pid); }
      var outs = new Set(outRows()), ins = new Set();
      all('in_row').forEach(function (el) { ins.add(rowRoot(el)); });
      var rows = [], got = new Set();
      (S.row || []).forEach(function (sel) {
        var els;
        try { els = panel.querySelectorAll(sel); } catch (err) { note('row', sel); return; }
        els.forEach(function (r) { if (!got.has(r)) { got.add(r); rows.push(r); } });
      });
      rows.sort(inDocOrder);
      var infos = [];
      rows.forEach(function (r) {
        var t = first('message_text', r, false);
        var id = value('message_id', r, true) || '';
        var ack = ackOf(r, 'status');
        var failed = first('send_failed_capped', r, false) ? 'capped' : (first('send_failed', r, false) ? 'failed' : '');
        if (!t && !id && ack === 'none' && !failed) return; // a divider, not a message
        // Only outgoing rows have a tick.
        var dir = outs.has(r) ? 'out' : (ins.has(r) ? 'in' : ((ack !== 'none' && ack !== 'unknown') || failed ? 'out' : '?'));
        infos.push({ id: id, dir: dir, text: t ? textOf(t) : null, pre: value('message_meta', r, true) || '',
          ack: dir === 'in' ? 'none' : ack, failed: failed });
      });
      out.chat = { pid: pid, title: value('chat_title') || '', rows: infos.slice(-A_MAX) };
    }
    all('list_row').slice(0, L_MAX).forEach(function (r) {
      out.list.push({ title: value('list_title', r, false) || '', preview: value('list_preview', r, false, true) || '',
        ack: ackOf(r, 'list_status'), unread: unread(r) });
    });
    return out;
  }

  // watch is the cheap read of the monitor: a MutationObserver counts the
  // page's changes, and the snapshot is taken only when the page changed
  // since the version W.ver that the driver last read (or W.force).
  function watch(W) {
    if (!G.tok) {
      G.tok = Math.random().toString(36).slice(2);
      G.ver = 0;
      G.panels = new WeakMap();
      G.pn = 0;
    }
    if (!G.obs && document.documentElement) {
      G.obs = new MutationObserver(function () { G.ver++; });
      G.obs.observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
    }
    var r = { v: G.tok + ':' + G.ver, wid: account() };
    if (W.force || W.ver !== r.v) r.snap = snapshot();
    return r;
  }

  var A_MAX = 100, L_MAX = 100;
  var res;
  switch (op) {
    case 'probe': {
      res = flags();
      res.chat = value('chat_title') || '';
      if (A.watch && res.loggedIn) res.watch = watch(A.watch);
      break;
    }
    case 'openrow': {
      // The chat list's row of the chat with the number A.digits, or null;
      // with A.click, a click on it (press), and the open panel becomes
      // stale.
      var rowEl = null;
      all('list_row').some(function (r) {
        var tt = value('list_title', r, false) || '';
        if (tt.replace(/\D/g, '') === A.digits) { rowEl = r; return true; }
        return false;
      });
      if (!rowEl) { res = null; break; }
      var op2 = first('chat_panel');
      if (op2 && A.click) G.stale.add(op2);
      var rb = rowEl.getBoundingClientRect();
      res = { x: rb.left + rb.width / 2, y: rb.top + rb.height / 2, w: rb.width, h: rb.height };
      if (A.click) { rowEl.scrollIntoView({ block: 'nearest' }); press(rowEl); }
      break;
    }
    case 'selftest': {
      var missing = [];
      (A.keys || []).forEach(function (k) { if (!first(k)) missing.push(k); });
      (A.syntax || []).forEach(function (k) {
        (S[k] || []).forEach(function (sel) {
          var css = split(sel)[0];
          if (css.indexOf('text=') === 0) return;
          var j = css.indexOf(' >> text=');
          if (j >= 0) css = css.slice(0, j);
          try { document.querySelector(css); } catch (e) { note(k, sel); }
        });
      });
      res = { missing: missing };
      break;
    }
    case 'chat': {
      res = flags();
      var m = first('chat_panel');
      res.panel = !!m;
      res.fresh = !!m && !G.stale.has(m);
      res.chat = value('chat_title') || '';
      res.compose = !!first('compose');
      var nb = value('new_chat_block'), nc = nb ? null : value('new_chat_capped');
      res.newChats = nb ? 'timelock' : (nc ? 'capped' : '');
      res.barText = nb || nc || '';
      break;
    }
    case 'nav': {
      var p = first('chat_panel');
      if (p) G.stale.add(p);
      window.history.pushState({}, '', A.path);
      window.dispatchEvent(new PopStateEvent('popstate', { state: {} }));
      res = true;
      break;
    }
    case 'navlink': {
      // A click on a link to the chat, which the app handles in place as
      // it does the links of its own messages (whatsapp-web.md §10.7).
      var lp = first('chat_panel');
      if (lp) G.stale.add(lp);
      var a = document.createElement('a');
      a.href = location.origin + A.path;
      a.rel = 'noopener';
      a.style.display = 'none';
      (document.body || document.documentElement).appendChild(a);
      try { a.click(); } finally { a.remove(); }
      res = true;
      break;
    }
    case 'stale': {
      var sp = first('chat_panel');
      if (sp) G.stale.add(sp);
      res = true;
      break;
    }
    case 'jsclick': {
      var ce = first(A.key);
      if (ce) press(ce);
      res = !!ce;
      break;
    }
    case 'press': {
      // The send step's press, guarded: the element of A.key is clicked
      // (or gets Enter, A.enter) only while the open chat's title is still
      // A.chat, checked in the same turn of the page's event loop, so that
      // no chat can open between the check and the press.
      var pt = value('chat_title') || '';
      res = { chat: pt, found: false };
      if (pt !== A.chat) break;
      var pe = first(A.key);
      if (pe) {
        if (A.enter) key(pe, 'Enter', false); else press(pe);
        res.found = true;
      }
      break;
    }
    case 'jskey': {
      // A key (A.name, Enter by default; A.shift: with Shift) as key
      // events on the element of A.key (the compose box by default).
      var ke2 = first(A.key || 'compose');
      if (ke2) key(ke2, A.name || 'Enter', !!A.shift);
      res = !!ke2;
      break;
    }
    case 'type': {
      // The text typed into the box of A.key at its end, as the editing
      // commands of the page (document.execCommand('insertText')), one
      // line at a time with Shift+Enter between lines. The box is kept for
      // typeJS, which types the next pieces.
      var tb = first(A.key);
      G.typing = tb;
      if (tb) {
        caretAtEnd(tb);
        String(A.text).split('\n').forEach(function (line, i) {
          if (i > 0) key(tb, 'Enter', true);
          if (line) document.execCommand('insertText', false, line);
        });
      }
      res = !!tb;
      break;
    }
    case 'focus': {
      var fe = first(A.key);
      if (fe) caretAtEnd(fe);
      res = !!fe;
      break;
    }
    case 'selectall': {
      var se = first(A.key);
      if (se) {
        if (se.select) { se.focus(); se.select(); } else selectContents(se);
      }
      res = !!se;
      break;
    }
    case 'paste': {
      var pe = first(A.key || 'compose');
      if (pe) {
        selectContents(pe);
        var dt = new DataTransfer();
        dt.setData('text/plain', A.text);
        pe.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }
      res = !!pe;
      break;
    }
    case 'clear': {
      var ke = first(A.key || 'compose');
      if (ke) {
        selectContents(ke);
        document.execCommand('delete', false);
      }
      res = !!ke;
      break;
    }
    case 'compose': {
      var ee = first(A.key || 'compose');
      res = ee ? { found: true, text: composeText(ee) } : { found: false, text: '' };
      break;
    }
    case 'mark': {
      var rs = outRows();
      rs.forEach(function (r) { G.seen.add(r); });
      res = {
        rows: rs.map(rowInfo),
        tz: (Intl.DateTimeFormat().resolvedOptions().timeZone || ''),
        offset: -new Date().getTimezoneOffset()
      };
      break;
    }
    case 'confirm': {
      res = flags();
      var all2 = outRows(), fresh = [];
      all2.forEach(function (r) { if (!G.seen.has(r)) fresh.push(rowInfo(r)); });
      res.rows = fresh;
      res.total = all2.length;
      var ce2 = first('compose');
      res.composeFound = !!ce2;
      res.compose = ce2 ? composeText(ce2) : '';
      break;
    }
    case 'rows': {
      // The outgoing rows, and the other rows that hold the text A.text
      // with their direction: "in", or "?" when the selectors cannot tell.
      // A row with a tick is never incoming: only outgoing rows have one,
      // and its icon names do not depend on the page's language, unlike
      // the speaker label ("You:") that in_row relies on.
      var outs = outRows(), outSet = new Set(outs), others = [];
      var panel = first('chat_panel');
      if (panel && typeof A.text === 'string') {
        var done = new Set();
        (S.row || []).forEach(function (sel) {
          var els;
          try { els = panel.querySelectorAll(sel); } catch (e) { note('row', sel); return; }
          els.forEach(function (r) {
            if (outSet.has(r) || done.has(r)) return;
            done.add(r);
            var t = first('message_text', r, false);
            if (!t || textOf(t).replace(/\r\n?/g, '\n') !== A.text) return;
            var st = status(r);
            var ticked = st === 'pending' || st === 'sent';
            others.push({ dir: !ticked && first('in_row', r, true) ? 'in' : '?' });
          });
        });
      }
      res = {
        panel: !!panel,
        rows: outs.map(rowInfo),
        others: others,
        tz: (Intl.DateTimeFormat().resolvedOptions().timeZone || ''),
        offset: -new Date().getTimezoneOffset()
      };
      break;
    }
    case 'element': {
      // The first element of A.key itself, for the DevTools protocol
      // (an input's files), or null.
      res = first(A.key);
      break;
    }
    case 'media': {
      // What a media send waits for: the preview's caption box, or the
      // page's refusal of the file (a toast that was not there when
      // A.mark last marked the toasts as old).
      if (!G.toasts) G.toasts = new WeakSet();
      var terr = '';
      all('media_error').forEach(function (el) {
        if (A.mark) G.toasts.add(el);
        else if (!terr && !G.toasts.has(el)) terr = norm(el.textContent);
      });
      res = { preview: !!first('media_caption'), error: terr, menu: !!first(A.item) };
      break;
    }
    case 'value': {
      res = value(A.key);
      break;
    }
    case 'dump': {
      res = document.documentElement ? document.documentElement.outerHTML : '';
      break;
    }
    default:
      throw new Error('wasend: unknown op ' + op);
  }
  if (res && typeof res === 'object' && !Array.isArray(res) && !(res instanceof Node)) res.bad = bad;
  return res;
})`

// typeJS types its argument into the box that the last "type" operation
// typed into, as that operation does, without the page code (a piece of
// the typing simulation, a few characters, must cost little). It returns
// false when that box is gone.
const typeJS = `(function (text) {
  'use strict';
  var G = window[Symbol.for('wasend.driver')];
  var el = G && G.typing;
  if (!el || !el.isConnected) return false;
  el.focus();
  var sel = window.getSelection();
  if (!sel.rangeCount || !el.contains(sel.getRangeAt(0).endContainer)) {
    var r = document.createRange();
    r.selectNodeContents(el);
    r.collapse(false);
    sel.removeAllRanges();
    sel.addRange(r);
  }
  String(text).split('\n').forEach(function (line, i) {
    if (i > 0) {
      var o = { key: 'Enter', code: 'Enter', keyCode: 13, which: 13, shiftKey: true, bubbles: true, cancelable: true, composed: true, view: window };
      el.dispatchEvent(new KeyboardEvent('keydown', o));
      el.dispatchEvent(new KeyboardEvent('keyup', o));
    }
    if (line) document.execCommand('insertText', false, line);
  });
  return true;
})`
