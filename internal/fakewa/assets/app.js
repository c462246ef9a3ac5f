// The page script of fakewa: a hand-written imitation of the WhatsApp Web
// client. It renders the DOM that bots rely on and talks to the fake servers
// under /__wa/ (a WebSocket for pushes, fetch for requests).
(function () {
  'use strict';

  var CFG = JSON.parse(document.getElementById('wa-boot').textContent);
  // M26 is the mid-2026 markup (Markup2026): no message-out/message-in
  // classes, speaker labels, WDS icons without data-icon.
  var M26 = CFG.markup === '2026';

  // fake returns the fake's own helper class, which only the classic
  // markup carries; the 2026 markup has obfuscated classes only.
  function fake(name) { return M26 ? '' : name; }

  // ---------------------------------------------------------------- helpers

  function fnv(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }

  // cls returns obfuscated class names for a key, stable for one server.
  function cls(key) {
    var n = CFG.classes.length;
    var v = fnv(key);
    var a = CFG.classes[v % n];
    var b = CFG.classes[(v >>> 9) % n];
    return a === b ? a : a + ' ' + b;
  }

  // h builds an element. attrs are set in order; "class" holds semantic
  // classes and gets obfuscated ones appended unless "exact" is set; "on"
  // maps event names to handlers.
  function h(tag, attrs) {
    attrs = attrs || {};
    var el = document.createElement(tag);
    var keys = Object.keys(attrs);
    for (var i = 0; i < keys.length; i++) {
      var k = keys[i];
      var v = attrs[k];
      if (k === 'on' || k === 'exact' || v == null) continue;
      if (k === 'class') continue;
      el.setAttribute(k, v);
    }
    var sem = attrs['class'] || '';
    var c = attrs.exact ? sem : (sem ? sem + ' ' : '') + cls(tag + '|' + sem + '|' + keys.join(','));
    if (c) el.setAttribute('class', c);
    if (attrs.on) {
      Object.keys(attrs.on).forEach(function (ev) { el.addEventListener(ev, attrs.on[ev]); });
    }
    for (var j = 2; j < arguments.length; j++) append(el, arguments[j]);
    return el;
  }

  function append(el, kid) {
    if (kid == null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { append(el, k); }); return; }
    el.appendChild(typeof kid === 'string' ? document.createTextNode(kid) : kid);
  }

  var PATHS = {
    'tail-out': ['0 0 8 13', 'M5.19 1H0v11.19l6.47-8.62C7.53 2.16 6.96 1 5.19 1z'],
    'tail-in': ['0 0 8 13', 'M2.81 1H8v11.19L1.53 3.57C.47 2.16 1.04 1 2.81 1z'],
    'wds-ic-status-pending': ['0 0 16 15', 'M9.75 7.71H8.5V5.5a.5.5 0 0 0-1 0v2.71a.5.5 0 0 0 .5.5h1.75a.5.5 0 0 0 0-1zM8 2.25a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11zm0 9.9a4.4 4.4 0 1 1 0-8.8 4.4 4.4 0 0 1 0 8.8z'],
    'wds-ic-delivered': ['0 0 12 11', 'M11.16 1.3 10.28.62a.38.38 0 0 0-.53.06L4.3 7.54 2.14 5.52a.38.38 0 0 0-.53.02l-.8.82a.38.38 0 0 0 .02.53l3.3 3.1c.16.15.41.13.55-.04l6.54-8.12a.38.38 0 0 0-.06-.53z'],
    'wds-ic-read': ['0 0 16 11', 'M11.07.65 10.2 0a.38.38 0 0 0-.53.06L4.3 6.9 2.12 4.9a.38.38 0 0 0-.53.02l-.8.82a.38.38 0 0 0 .02.53l3.3 3.1c.16.15.41.13.55-.04L11.14 1.2a.38.38 0 0 0-.07-.54zm4.3 0L14.5 0a.38.38 0 0 0-.53.06L8.6 6.9l-.63-.6-.74.93 1.4 1.31c.16.15.41.13.55-.04l6.27-7.31a.38.38 0 0 0-.07-.54z'],
    'ic-schedule': ['0 0 16 15', 'M9.75 7.71H8.5V5.5a.5.5 0 0 0-1 0v2.71a.5.5 0 0 0 .5.5h1.75a.5.5 0 0 0 0-1zM8 2.25a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11zm0 9.9a4.4 4.4 0 1 1 0-8.8 4.4 4.4 0 0 1 0 8.8z'],
    'msg-time': ['0 0 16 15', 'M9.75 7.71H8.5V5.5a.5.5 0 0 0-1 0v2.71a.5.5 0 0 0 .5.5h1.75a.5.5 0 0 0 0-1zM8 2.25a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11zm0 9.9a4.4 4.4 0 1 1 0-8.8 4.4 4.4 0 0 1 0 8.8z'],
    'msg-check': ['0 0 12 11', 'M11.16 1.3 10.28.62a.38.38 0 0 0-.53.06L4.3 7.54 2.14 5.52a.38.38 0 0 0-.53.02l-.8.82a.38.38 0 0 0 .02.53l3.3 3.1c.16.15.41.13.55-.04l6.54-8.12a.38.38 0 0 0-.06-.53z'],
    'msg-dblcheck': ['0 0 16 11', 'M11.07.65 10.2 0a.38.38 0 0 0-.53.06L4.3 6.9 2.12 4.9a.38.38 0 0 0-.53.02l-.8.82a.38.38 0 0 0 .02.53l3.3 3.1c.16.15.41.13.55-.04L11.14 1.2a.38.38 0 0 0-.07-.54zm4.3 0L14.5 0a.38.38 0 0 0-.53.06L8.6 6.9l-.63-.6-.74.93 1.4 1.31c.16.15.41.13.55-.04l6.27-7.31a.38.38 0 0 0-.07-.54z'],
    'wds-ic-send-filled': ['0 0 24 24', 'M3.4 20.4 20.85 12.9a1 1 0 0 0 0-1.84L3.4 3.6a1 1 0 0 0-1.39 1.1L3.4 11l9.6 1-9.6 1-1.39 6.3a1 1 0 0 0 1.39 1.1z'],
    'ptt': ['0 0 24 24', 'M12 14.2a3.2 3.2 0 0 0 3.2-3.2V5a3.2 3.2 0 0 0-6.4 0v6a3.2 3.2 0 0 0 3.2 3.2zm5.6-3.2a5.6 5.6 0 0 1-11.2 0H4.6a7.4 7.4 0 0 0 6.4 7.3V21h2v-2.7a7.4 7.4 0 0 0 6.4-7.3z'],
    'search': ['0 0 24 24', 'M15.9 14.3h-.9l-.3-.3a6.5 6.5 0 1 0-.7.7l.3.3v.8l5 5 1.5-1.5-4.9-5zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9z'],
    'search-alt': ['0 0 24 24', 'M15.9 14.3h-.9l-.3-.3a6.5 6.5 0 1 0-.7.7l.3.3v.8l5 5 1.5-1.5-4.9-5zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9z'],
    'menu': ['0 0 24 24', 'M12 7a2 2 0 1 0-.01-4.01A2 2 0 0 0 12 7zm0 2a2 2 0 1 0 .01 4.01A2 2 0 0 0 12 9zm0 6a2 2 0 1 0 .01 4.01A2 2 0 0 0 12 15z'],
    'new-chat-outline': ['0 0 24 24', 'M19 3H5a2 2 0 0 0-2 2v14l4-4h12a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2zm-1 7h-5v5h-2v-5H6V8h5V3h2v5h5z'],
    'plus-rounded': ['0 0 24 24', 'M11 13H5v-2h6V5h2v6h6v2h-6v6h-2z'],
    'document-filled': ['0 0 24 24', 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm-1 7V3.5L18.5 9z'],
    'media-filled': ['0 0 24 24', 'M20 4H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zM5 17l3.5-4.5 2.5 3 3.5-4.5L19 17z'],
    'back': ['0 0 24 24', 'M12 4l1.4 1.4L7.8 11H20v2H7.8l5.6 5.6L12 20l-8-8z'],
    'x': ['0 0 24 24', 'M19.1 17.2 13.9 12l5.2-5.2-1.9-1.9-5.2 5.2-5.2-5.2-1.9 1.9 5.2 5.2-5.2 5.2 1.9 1.9 5.2-5.2 5.2 5.2z'],
    'media-play': ['0 0 24 24', 'M8 5v14l11-7z'],
    'audio-file': ['0 0 26 34', 'M17 0H3a3 3 0 0 0-3 3v28a3 3 0 0 0 3 3h20a3 3 0 0 0 3-3V9zm-1 10V2l8 8z'],
    'alert-phone': ['0 0 48 48', 'M24 4a20 20 0 1 0 0 40 20 20 0 0 0 0-40zm-2 9h4v14h-4zm0 18h4v4h-4z'],
    'alert-computer': ['0 0 48 48', 'M24 4a20 20 0 1 0 0 40 20 20 0 0 0 0-40zm-2 9h4v14h-4zm0 18h4v4h-4z'],
    'refresh-large': ['0 0 24 24', 'M17.6 6.4A8 8 0 1 0 19.7 14h-2.1a6 6 0 1 1-1.4-6.2L13 11h7V4z'],
    'lock-small': ['0 0 10 12', 'M5 1a2.5 2.5 0 0 0-2.5 2.5V5H2a1 1 0 0 0-1 1v4a1 1 0 0 0 1 1h6a1 1 0 0 0 1-1V6a1 1 0 0 0-1-1h-.5V3.5A2.5 2.5 0 0 0 5 1zm-1.5 4V3.5a1.5 1.5 0 0 1 3 0V5z'],
    'default-user': ['0 0 212 212', 'M106 0a106 106 0 1 0 0 212 106 106 0 0 0 0-212zm0 44a38 38 0 1 1 0 76 38 38 0 0 1 0-76zm0 156a94 94 0 0 1-68-29c12-22 38-36 68-36s56 14 68 36a94 94 0 0 1-68 29z'],
    'status-time': ['0 0 16 15', 'M9.75 7.71H8.5V5.5a.5.5 0 0 0-1 0v2.71a.5.5 0 0 0 .5.5h1.75a.5.5 0 0 0 0-1zM8 2.25a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11zm0 9.9a4.4 4.4 0 1 1 0-8.8 4.4 4.4 0 0 1 0 8.8z'],
    'status-check': ['0 0 12 11', 'M11.16 1.3 10.28.62a.38.38 0 0 0-.53.06L4.3 7.54 2.14 5.52a.38.38 0 0 0-.53.02l-.8.82a.38.38 0 0 0 .02.53l3.3 3.1c.16.15.41.13.55-.04l6.54-8.12a.38.38 0 0 0-.06-.53z'],
    'status-dblcheck': ['0 0 16 11', 'M11.07.65 10.2 0a.38.38 0 0 0-.53.06L4.3 6.9 2.12 4.9a.38.38 0 0 0-.53.02l-.8.82a.38.38 0 0 0 .02.53l3.3 3.1c.16.15.41.13.55-.04L11.14 1.2a.38.38 0 0 0-.07-.54zm4.3 0L14.5 0a.38.38 0 0 0-.53.06L8.6 6.9l-.63-.6-.74.93 1.4 1.31c.16.15.41.13.55-.04l6.27-7.31a.38.38 0 0 0-.07-.54z'],
    'ic-error': ['0 0 24 24', 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 15h-2v-2h2zm0-4h-2V7h2z'],
    'warning-outline': ['0 0 24 24', 'M1 21h22L12 2 1 21zm12-3h-2v-2h2v2zm0-4h-2v-4h2v4z'],
    'passkey': ['0 0 24 24', 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-3 0-8 1.5-8 4.5V20h12v-2.5c0-1 .4-1.9 1-2.6A14 14 0 0 0 9 13zm12-2a3 3 0 1 0-4 2.8V20l1 1 1.5-1.5-1-1 1-1-1-1V13.8A3 3 0 0 0 21 11z'],
    'intro-md-beta-logo-light': ['0 0 64 64', 'M32 4a28 28 0 0 0-24.2 42L4 60l14.4-3.7A28 28 0 1 0 32 4zm0 5a23 23 0 1 1-12 42.6l-.9-.5-8.5 2.2 2.3-8.3-.6-.9A23 23 0 0 1 32 9z']
  };

  var SVGNS = 'http://www.w3.org/2000/svg';

  // svg builds the <svg> of an icon; title adds <title>name</title>.
  function svg(name, fill, title) {
    var p = PATHS[name];
    var vb = p[0].split(' ');
    var s = document.createElementNS(SVGNS, 'svg');
    s.setAttribute('viewBox', p[0]);
    s.setAttribute('height', vb[3]);
    s.setAttribute('width', vb[2]);
    s.setAttribute('preserveAspectRatio', 'xMidYMid meet');
    s.setAttribute('fill', 'none');
    if (title) {
      var t = document.createElementNS(SVGNS, 'title');
      t.textContent = name;
      s.appendChild(t);
    }
    var path = document.createElementNS(SVGNS, 'path');
    path.setAttribute('fill', fill || 'currentColor');
    path.setAttribute('d', p[1]);
    s.appendChild(path);
    return s;
  }

  // icon is <span data-icon="name"><svg><title>name</title>…</svg></span>.
  // In the 2026 markup a WDS icon (wds-ic-*, ic-*) has no data-icon and no
  // testid: <span aria-hidden|aria-label><svg><title>name</title>…
  function icon(name, opts) {
    opts = opts || {};
    var wds = M26 && /^(wds-)?ic-/.test(name);
    var attrs = { 'aria-hidden': 'true', 'data-icon': wds ? null : name };
    if (opts.testid && !wds) attrs['data-testid'] = name;
    if (opts.label != null) { attrs['aria-hidden'] = 'false'; attrs['aria-label'] = opts.label; }
    if (opts['class']) attrs['class'] = opts['class'];
    var span = h('span', attrs);
    span.appendChild(svg(name, opts.fill, opts.title !== false));
    return span;
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function rid(n) {
    var a = new Uint8Array(n);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('').toUpperCase();
  }

  function b64(n) {
    var a = new Uint8Array(n);
    crypto.getRandomValues(a);
    return btoa(String.fromCharCode.apply(null, a));
  }

  async function post(path, body) {
    var r = await fetch(path, {
      method: 'POST', cache: 'no-store',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    });
    if (!r.ok) throw new Error(path + ': ' + r.status);
    return r.status === 204 ? null : r.json();
  }

  async function get(path, params) {
    var u = new URL(path, location.origin);
    Object.keys(params).forEach(function (k) { u.searchParams.set(k, params[k]); });
    var r = await fetch(u, { cache: 'no-store' });
    if (!r.ok) throw new Error(path + ': ' + r.status);
    return r.json();
  }

  function pad(n) { return String(n).padStart(2, '0'); }
  function hhmm(ts) { var d = new Date(ts); return pad(d.getHours()) + ':' + pad(d.getMinutes()); }
  function prePlain(ts, who) {
    var d = new Date(ts);
    return '[' + hhmm(ts) + ', ' + (d.getMonth() + 1) + '/' + d.getDate() + '/' + d.getFullYear() + '] ' + (who || 'Me') + ': ';
  }

  function normNL(s) { return String(s).replace(/\r\n?/g, '\n'); }

  // ------------------------------------------------------------------ state

  var TAB_KEY = 'fakewa-tab';
  var tab = sessionStorage.getItem(TAB_KEY);
  if (!tab) { tab = rid(8); sessionStorage.setItem(TAB_KEY, tab); }

  var app = {
    cid: rid(12), tab: tab, state: 'boot',
    token: null, phone: null, online: true, conflicted: false, loggedOut: false,
    restrict: {}, chatNew: false, logoutBanner: false, composing: null, pauseTimer: null,
    ref: null, qrExpired: false,
    bootDone: false, auth: null,
    ws: null, wsTries: 0,
    route: null, startSeq: 0,
    chat: null, chats: new Map(), rowsById: new Map(), rowsByCk: new Map(), seen: new Map(),
    ed: null, els: {}, preview: null
  };

  var appRoot = document.getElementById('app');

  function report() {
    var st = app.state === 'main' && app.conflicted ? 'conflict' : app.state;
    post('/__wa/state', { cid: app.cid, tab: app.tab, state: st, url: location.href, chat: app.chat || '' })
      .catch(function () {});
  }

  function setState(s) { app.state = s; report(); }

  function mount(node) { appRoot.replaceChildren(node); }

  // ---------------------------------------------------------- user agent

  function uaRejected(ua) {
    if (new RegExp(CFG.rejectUA).test(ua)) return true;
    if (CFG.minChrome > 0) {
      var m = /Chrome\/(\d+)/.exec(ua);
      if (m && Number(m[1]) < CFG.minChrome) return true;
    }
    return false;
  }

  function showUnsupported() {
    if (!CFG.unsupported) {
      var t = document.getElementById('wa-unsupported');
      appRoot.replaceChildren(t.content.cloneNode(true));
    }
    setState('unsupported');
  }

  // --------------------------------------------------------------- storage

  var K_TOKEN = 'fakewa-login-token';
  var SESSION_KEYS = ['last-wid-md', 'last-wid', 'WebEncKeySalt', 'WANoiseInfo', K_TOKEN];

  function idbOpen() {
    return new Promise(function (resolve, reject) {
      var r = indexedDB.open('wawc', 1);
      r.onupgradeneeded = function () {
        var db = r.result;
        if (!db.objectStoreNames.contains('user')) db.createObjectStore('user', { keyPath: 'key' });
      };
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
      r.onblocked = function () { reject(new Error('blocked')); };
    });
  }

  async function idb(mode, fn) {
    var db = await idbOpen();
    try {
      return await new Promise(function (resolve, reject) {
        var tx = db.transaction('user', mode);
        var res;
        var req = fn(tx.objectStore('user'));
        if (req) req.onsuccess = function () { res = req.result; };
        tx.oncomplete = function () { resolve(res); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    } finally {
      db.close();
    }
  }

  // readSession returns the stored login token when localStorage and the
  // IndexedDB row agree, or null.
  async function readSession() {
    var tok = localStorage.getItem(K_TOKEN);
    if (!tok || !localStorage.getItem('last-wid-md')) return null;
    try {
      var row = await idb('readonly', function (st) { return st.get('me'); });
      if (row && row.token === tok) return tok;
    } catch (e) { /* fall through */ }
    return null;
  }

  async function persistSession(m) {
    var wid = m.phone + '@c.us';
    localStorage.setItem('last-wid-md', JSON.stringify(m.phone + ':' + m.n + '@c.us'));
    localStorage.setItem('last-wid', JSON.stringify(wid));
    localStorage.setItem('WebEncKeySalt', JSON.stringify(b64(32)));
    localStorage.setItem('WANoiseInfo', JSON.stringify(JSON.stringify({ pubKey: b64(32), privKey: b64(32) })));
    localStorage.setItem(K_TOKEN, m.token);
    localStorage.removeItem('old-logout-cred');
    try {
      await idb('readwrite', function (st) {
        return st.put({ key: 'me', wid: wid, device: m.n, token: m.token, linkedAt: Date.now() });
      });
    } catch (e) { /* the login then lasts for this page only */ }
  }

  async function clearSession() {
    SESSION_KEYS.forEach(function (k) { localStorage.removeItem(k); });
    localStorage.setItem('old-logout-cred', JSON.stringify(b64(24)));
    try { await idb('readwrite', function (st) { return st.clear(); }); } catch (e) { /* nothing stored */ }
  }

  // ------------------------------------------------------------ connection

  function connect() {
    var u = new URL('/__wa/ws', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('cid', app.cid);
    u.searchParams.set('tab', app.tab);
    if (app.token) u.searchParams.set('token', app.token);
    var ws;
    try { ws = new WebSocket(u.href); } catch (e) { reconnectLater(); return; }
    app.ws = ws;
    ws.onopen = function () { app.wsTries = 0; app.wsUp = true; renderAlerts(); };
    ws.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      handle(m);
    };
    ws.onclose = function () {
      if (app.ws !== ws) return;
      app.ws = null;
      app.wsUp = false;
      renderAlerts();
      reconnectLater();
    };
  }

  function reconnectLater() {
    var d = Math.min(3000, 100 * Math.pow(2, app.wsTries++));
    setTimeout(connect, d);
  }

  function handle(m) {
    switch (m.type) {
      case 'auth':
        if (app.state === 'boot') { app.auth = m; advance(); }
        else if (!m.ok && app.token) onLogout({ reason: '0' });
        break;
      case 'qr':
        app.ref = m.ref;
        app.qrExpired = false;
        if (app.state === 'qr') paintQR();
        break;
      case 'qr-expired':
        app.qrExpired = true;
        if (app.state === 'qr') paintQR();
        break;
      case 'linked': onLinked(m); break;
      case 'logout': onLogout(m); break;
      case 'conflict': onConflict(); break;
      case 'phone': app.online = !!m.online; renderAlerts(); break;
      case 'msg': onServerMessage(m.message, m.unread); break;
      case 'ack': onAck(m); break;
      case 'read': onRead(m); break;
      case 'restrict': onRestrict(m.restrict || {}); break;
      case 'passkey': showPasskey(); break;
    }
  }

  // ------------------------------------------------------------------ boot

  function boot() {
    if (CFG.unsupported || uaRejected(navigator.userAgent)) { showUnsupported(); return; }
    app.route = parseRoute();
    window.addEventListener('popstate', onNavigate);
    document.addEventListener('click', onLinkClick);
    animateStartup();
    setTimeout(function () { app.bootDone = true; advance(); }, CFG.bootDelay);
    readSession().then(function (tok) {
      if (!tok && localStorage.getItem(K_TOKEN)) {
        SESSION_KEYS.forEach(function (k) { localStorage.removeItem(k); });
      }
      app.token = tok;
      connect();
    });
    report();
  }

  function animateStartup() {
    var bar = appRoot.querySelector('#initial_startup progress');
    if (!bar) return;
    var t0 = performance.now();
    (function step() {
      if (app.state !== 'boot' || !bar.isConnected) return;
      var pct = CFG.bootDelay > 0 ? Math.min(100, ((performance.now() - t0) * 100) / CFG.bootDelay) : 100;
      bar.value = Math.floor(pct);
      if (pct < 100) setTimeout(step, 50);
    })();
  }

  function advance() {
    if (app.state !== 'boot' || !app.bootDone || !app.auth) return;
    var m = app.auth;
    if (m.ok) {
      app.phone = m.phone;
      app.online = m.online !== false;
      startLoading();
      return;
    }
    if (m.loggedOut) { app.token = null; clearSession(); }
    showLanding();
  }

  async function onLinked(m) {
    app.logoutBanner = false;
    app.token = m.token;
    app.phone = m.phone;
    app.online = m.online !== false;
    app.loggedOut = false;
    await persistSession(m);
    post('/__wa/linked', { cid: app.cid }).catch(function () {});
    if (app.state === 'boot') {
      app.auth = { ok: true, phone: m.phone, online: m.online };
      advance();
      return;
    }
    startLoading();
  }

  async function onLogout(m) {
    app.startSeq++;
    app.conflicted = false;
    app.chat = null;
    app.route = null;
    app.phone = null;
    app.token = null;
    app.ed = null;
    app.loggedOut = true;
    app.logoutBanner = !!m.banner;
    closeOverlays();
    await clearSession();
    history.replaceState(null, '', '/?post_logout=1&logout_reason=' + encodeURIComponent(m.reason || '0'));
    if (app.state === 'boot') { app.auth = { ok: false }; advance(); return; }
    showLanding();
  }

  // -------------------------------------------------------------- landing

  var STEPS = [
    'Open WhatsApp on your phone',
    'Tap Menu or Settings and select Linked Devices',
    'Tap on Link a Device',
    'Point your phone to this screen to capture the code'
  ];

  function landingFrame(main) {
    return h('div', { 'class': 'app-wrapper-web font-fix' },
      h('div', { 'class': 'landing-wrapper' },
        h('div', { 'class': 'landing-wrapper-before' }),
        h('div', { 'class': 'landing-header' },
          icon('intro-md-beta-logo-light'),
          h('div', { 'class': 'landing-headerTitle' }, 'WhatsApp Web')),
        h('div', { 'class': 'landing-window' }, main)));
  }

  function showLanding() {
    var canvas = h('canvas', { 'aria-label': 'Scan this QR code to link a device!', role: 'img', width: '264', height: '264', exact: true });
    var qr = h('div', { 'data-testid': 'qrcode', 'class': 'landing-qr' }, h('span', { exact: true }), canvas);
    app.els.qr = qr;
    app.els.canvas = canvas;
    var main = h('div', { 'class': 'landing-main' },
      app.logoutBanner ? loggedOutBanner() : null,
      h('div', { 'class': 'landing-title' }, 'To use WhatsApp on your computer:'),
      h('div', { 'class': 'landing-body' },
        h('ol', {}, STEPS.map(function (s) { return h('li', {}, s); })),
        qr),
      h('a', { href: '#', 'class': 'landing-help', on: { click: function (e) { e.preventDefault(); } } }, 'Need help to get started?'),
      h('div', { 'class': 'landing-alt' },
        h('button', { type: 'button', 'class': 'link-phone', on: { click: showPhoneForm } }, 'Link with phone number')));
    mount(landingFrame(main));
    setState('qr');
    paintQR();
  }

  function paintQR() {
    var qr = app.els.qr;
    if (!qr || !qr.isConnected) return;
    if (app.ref && qr.getAttribute('data-ref') !== app.ref) qr.setAttribute('data-ref', app.ref);
    drawQR(app.els.canvas, app.ref, app.qrExpired);
    var span = qr.firstChild;
    span.replaceChildren();
    if (app.qrExpired) {
      var btn = h('button', { type: 'button', 'class': 'qr-reload', on: { click: reloadQR } },
        h('div', {}, icon('refresh-large', { title: false })),
        h('div', {}, 'Click to reload QR code'));
      span.appendChild(btn);
    }
  }

  function reloadQR() {
    post('/__wa/qr/reload', { cid: app.cid }).catch(function () {});
  }

  // drawQR paints a deterministic pattern derived from the payload.
  function drawQR(canvas, ref, dim) {
    var ctx = canvas.getContext('2d');
    var N = 33, S = 8;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, 264, 264);
    if (!ref) return;
    var x = fnv(ref) || 1;
    function rnd() { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; }
    ctx.fillStyle = dim ? '#c9d1d5' : '#122e31';
    function finder(cx, cy) {
      ctx.fillRect(cx * S, cy * S, 7 * S, 7 * S);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect((cx + 1) * S, (cy + 1) * S, 5 * S, 5 * S);
      ctx.fillStyle = dim ? '#c9d1d5' : '#122e31';
      ctx.fillRect((cx + 2) * S, (cy + 2) * S, 3 * S, 3 * S);
    }
    for (var yy = 0; yy < N; yy++) {
      for (var xx = 0; xx < N; xx++) {
        var inFinder = (xx < 8 && yy < 8) || (xx >= N - 8 && yy < 8) || (xx < 8 && yy >= N - 8);
        if (!inFinder && (rnd() & 1)) ctx.fillRect(xx * S, yy * S, S, S);
      }
    }
    finder(0, 0);
    finder(N - 7, 0);
    finder(0, N - 7);
  }

  function showPhoneForm() {
    var input = h('input', {
      type: 'text', 'aria-label': 'Type your phone number.', inputmode: 'tel',
      autocomplete: 'off', value: '+', 'class': 'selectable-text copyable-text'
    });
    var err = h('div', { 'class': 'landing-error', role: 'alert' });
    var next = h('button', { type: 'button', 'class': 'landing-next', on: { click: submit } }, 'Next');
    input.addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); submit(); } });
    async function submit() {
      err.textContent = '';
      try {
        var r = await post('/__wa/pair', { cid: app.cid, phone: input.value });
        showCode(r.code);
      } catch (e) {
        err.textContent = 'Invalid phone number.';
      }
    }
    var main = h('div', { 'class': 'landing-main' },
      h('div', { 'class': 'landing-title' }, 'Enter phone number'),
      h('div', { 'class': 'landing-text' }, 'Select a country and enter your phone number.'),
      input, err, next,
      h('div', { 'class': 'landing-alt' },
        h('button', { type: 'button', 'class': 'link-qr', on: { click: backToQR } }, 'Link with QR code')));
    mount(landingFrame(main));
    app.els.qr = null;
    setState('pairing');
    input.focus();
  }

  function showCode(code) {
    var chars = code.split('');
    function cell(c) { return h('div', { 'class': 'code-cell' }, h('span', {}, c)); }
    var codeEl = h('div', { 'aria-details': 'link-device-phone-number-code-screen-instructions', 'data-link-code': chars.join(',') },
      h('div', { 'class': 'light' },
        chars.slice(0, 4).map(cell),
        h('span', { 'aria-hidden': 'true' }, '-'),
        chars.slice(4).map(cell)));
    var main = h('div', { 'class': 'landing-main' },
      h('div', { 'class': 'landing-title' }, 'Enter code on phone'),
      codeEl,
      h('div', { id: 'link-device-phone-number-code-screen-instructions' },
        h('ol', {},
          h('li', {}, 'Open WhatsApp on your phone'),
          h('li', {}, 'Tap Menu or Settings and select Linked devices'),
          h('li', {}, 'Tap Link a device'),
          h('li', {}, 'Tap Link with phone number instead and enter this code on your phone'))),
      h('div', { 'class': 'landing-alt' },
        h('button', { type: 'button', 'class': 'link-qr', on: { click: backToQR } }, 'Link with QR code')));
    mount(landingFrame(main));
    setState('pairing');
  }

  function backToQR() {
    app.ref = null;
    showLanding();
    reloadQR();
  }

  // -------------------------------------------------------------- loading

  function startLoading() {
    var bar = h('progress', { value: '0', max: '100', dir: 'ltr', exact: true });
    var pb = h('div', { role: 'progressbar', 'aria-label': 'Loading your chats', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' }, bar);
    var label = h('div', { 'class': 'loading-label' }, 'Loading your chats [0%]');
    mount(h('div', { 'class': 'app-wrapper-web font-fix' },
      h('div', { 'class': 'loading-screen' },
        h('div', { 'class': 'graphic' }, icon('intro-md-beta-logo-light')),
        pb, label,
        h('div', { 'class': 'loading-secondary' }, icon('lock-small'), " Don't close this window. Your messages are downloading."))));
    setState('loading');
    var total = CFG.loadingDelay;
    var t0 = performance.now();
    (function step() {
      if (app.state !== 'loading') return;
      var el = performance.now() - t0;
      var pct = total > 0 ? Math.min(100, Math.floor((el * 100) / total)) : 100;
      bar.value = pct;
      pb.setAttribute('aria-valuenow', String(pct));
      label.textContent = 'Loading your chats [' + pct + '%]';
      if (pct >= 100) { enterMain(); return; }
      setTimeout(step, Math.max(16, Math.min(200, total / 10)));
    })();
  }

  // ----------------------------------------------------------------- main

  function enterMain() {
    if (app.restrict.tempBan) { showTempBan(); return; }
    renderMain();
    app.state = 'main';
    renderAlerts();
    loadChats();
    if (app.conflicted) showConflict();
    report();
    runRoute();
  }

  function headerButton(label, name) {
    return h('div', { role: 'button', tabindex: '0', title: label, 'aria-label': label, 'data-tab': '2' }, icon(name));
  }

  function renderMain() {
    var alerts = h('span', { 'class': 'side-alerts' });
    var search = h('input', {
      type: 'text', 'data-tab': '3', 'aria-label': 'Search or start a new chat',
      placeholder: 'Search or start a new chat', title: 'Search input textbox',
      'data-testid': 'chat-list-search', autocomplete: 'off', 'class': 'selectable-text copyable-text'
    });
    search.addEventListener('input', renderChatList);
    search.addEventListener('keydown', function (e) {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      var q = search.value.trim().replace(/[\s\-()]/g, '').replace(/^\+/, '');
      if (/^\d+$/.test(q)) {
        search.value = '';
        renderChatList();
        startChat(q, null);
        return;
      }
      var first = app.els.grid && app.els.grid.querySelector('[role="row"]');
      if (first) first.click();
    });
    var grid = h('div', { 'aria-label': 'Chat list', role: 'grid', 'aria-rowcount': '0', 'aria-colcount': '1' });
    var newChat = headerButton('New chat', 'new-chat-outline');
    newChat.addEventListener('click', function () { search.focus(); });
    var profile = h('div', { 'class': 'avatar', title: 'Profile', 'aria-label': 'Profile', role: 'button', tabindex: '0' }, icon('default-user'));
    profile.addEventListener('click', showProfile);
    var header = h('header', { 'data-testid': 'chatlist-header' },
      profile,
      h('div', { 'class': 'header-actions' }, newChat, headerButton('Menu', 'menu')));
    var side = h('div', { id: 'side' },
      alerts,
      h('div', { 'data-testid': 'chat-list-search-container', 'class': 'search-box' }, icon('search'), search),
      h('div', { id: 'pane-side' },
        h('div', { tabindex: '-1', 'data-tab': '4' },
          h('div', { 'data-testid': 'chat-list' }, grid))));
    var mainCol = h('div', { 'class': 'main-column' }, intro());
    var sideCol = h('div', { 'class': 'side-column' }, header, side);
    var overlays = h('span', { 'class': 'overlays' });
    var toasts = h('div', { 'class': 'toasts', 'aria-live': 'polite' });
    mount(h('div', { 'class': 'app-wrapper-web font-fix os-linux' },
      h('div', { tabindex: '-1', 'class': 'two' },
        sideCol,
        mainCol),
      overlays, toasts));
    app.els = { alerts: alerts, search: search, grid: grid, mainCol: mainCol, overlays: overlays, toasts: toasts, sideCol: sideCol };
    app.chat = null;
    app.ed = null;
  }

  // showProfile opens the profile drawer over the chat list, with the
  // account's number (the app's own wid, as last-wid-md stores it).
  function showProfile() {
    var col = app.els.sideCol;
    if (!col || !app.phone || (app.els.drawer && app.els.drawer.isConnected)) return;
    var num = formatNumber(app.phone);
    var back = h('div', { role: 'button', tabindex: '0', 'aria-label': 'Back', title: 'Back', 'class': 'round-button' }, icon('back'));
    var drawer = h('div', { role: 'region', 'aria-label': 'Profile', 'class': 'drawer' },
      h('header', { 'class': 'drawer-header' }, back, h('h1', { title: 'Profile', 'class': 'drawer-title' }, 'Profile')),
      h('div', { 'class': 'drawer-body' },
        h('div', { 'class': 'avatar drawer-avatar' }, icon('default-user')),
        h('div', { 'class': 'drawer-section' },
          h('div', { 'class': 'drawer-label' }, 'Phone'),
          h('span', { dir: 'auto', title: num, 'class': 'selectable-text copyable-text' }, num))));
    function close() { drawer.remove(); app.els.drawer = null; }
    back.addEventListener('click', close);
    drawer.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); } });
    app.els.drawer = drawer;
    col.appendChild(drawer);
  }

  function intro() {
    return h('div', { 'class': 'intro', 'data-testid': 'intro-pane' },
      h('span', { 'data-testid': 'intro-md-beta-logo-light' }, svg('intro-md-beta-logo-light')),
      h('h1', { 'data-testid': 'intro-title' }, 'WhatsApp Web'),
      h('div', { 'data-testid': 'intro-text' },
        'Send and receive messages without keeping your phone online.', h('br'),
        'Use WhatsApp on up to 4 linked devices and 1 phone at the same time.'),
      h('div', { 'class': 'intro-secondary' }, icon('lock-small'), ' End-to-end encrypted'));
  }

  function renderAlerts() {
    var box = app.els.alerts;
    if (!box || !box.isConnected) return;
    box.replaceChildren();
    if (!app.online) {
      box.appendChild(h('div', { 'data-testid': 'alert-phone', 'class': 'alert', role: 'button', tabindex: '0' },
        icon('alert-phone'),
        h('div', { 'class': 'alert-body' },
          h('div', { 'class': 'alert-title' }, 'Phone not connected'),
          h('div', { 'class': 'alert-text' }, 'Make sure your phone has an active internet connection.'),
          h('div', { 'class': 'alert-status' }, 'Trying to reach phone'))));
    }
    if (!app.ws || !app.wsUp) {
      box.appendChild(h('div', { 'data-testid': 'alert-computer', 'class': 'alert', role: 'button', tabindex: '0' },
        icon('alert-computer'),
        h('div', { 'class': 'alert-body' },
          h('div', { 'class': 'alert-title' }, 'Computer not connected'),
          h('div', { 'class': 'alert-text' }, 'Make sure your computer has an active Internet connection.'))));
    }
  }

  // ----------------------------------------------------------- chat list

  async function loadChats() {
    try {
      var r = await get('/__wa/chats', { cid: app.cid });
      (r.chats || []).forEach(function (c) {
        noteChat(c.chat, c.text, c.at, c.in ? 'in' : c.status, c.id || null, true);
        setUnread(c.chat, c.unread || 0, true);
      });
    } catch (e) { /* an empty list */ }
    renderChatList();
  }

  // noteChat records the last message of a chat.
  function noteChat(chat, text, at, status, id, quiet) {
    var cur = app.chats.get(chat);
    // The answer to a send can come after the socket's ack of the same
    // message: its status never goes back.
    if (cur && id && cur.id === id && !laterStatus(cur.status, status)) status = cur.status;
    if (!cur || at >= cur.at) app.chats.set(chat, { text: text, at: at, status: status, id: id, unread: cur ? cur.unread : 0 });
    if (!quiet) renderChatList();
  }

  var ORDER = ['pending', 'sent', 'delivered', 'read'];

  // laterStatus reports whether status next may follow status cur.
  function laterStatus(cur, next) {
    if (cur === next || next === 'failed') return true;
    if (cur === 'failed') return false;
    return ORDER.indexOf(next) >= ORDER.indexOf(cur);
  }

  // setUnread records the number of unread incoming messages of a chat,
  // as the server counts them.
  function setUnread(chat, n, quiet) {
    var cur = app.chats.get(chat);
    if (!cur) return;
    cur.unread = n || 0;
    if (!quiet) renderChatList();
  }

  var LIST_ICON = { pending: 'status-time', sent: 'status-check', delivered: 'status-dblcheck', read: 'status-dblcheck' };
  // The 2026 chat list (WAWebChatMsgAck): no aria-label, no data-icon.
  var LIST_ICON_2026 = { pending: 'ic-schedule', sent: 'wds-ic-delivered', delivered: 'wds-ic-read', read: 'wds-ic-read' };

  // listIcon is the status icon of a chat's last message; an incoming one
  // has none.
  function listIcon(status) {
    if (status === 'in' || status === 'failed') return null;
    if (M26) return icon(LIST_ICON_2026[status] || 'ic-schedule', { 'class': status === 'read' ? 'x1rv0e52' : null });
    return icon(LIST_ICON[status] || 'status-time', { fill: status === 'read' ? '#53bdeb' : null, 'class': status === 'read' ? 'x1rv0e52' : null });
  }

  // renderChatList updates the rows of the chat list in place, so that a
  // row a driver found stays the same node while statuses change.
  function renderChatList() {
    var grid = app.els.grid;
    if (!grid || !grid.isConnected) return;
    if (!app.els.rows) app.els.rows = new Map();
    var rows = app.els.rows;
    var q = (app.els.search && app.els.search.value.trim().toLowerCase()) || '';
    var items = Array.from(app.chats.entries())
      .filter(function (e) { return !q || ('+' + e[0]).indexOf(q) >= 0 || e[1].text.toLowerCase().indexOf(q) >= 0; })
      .sort(function (a, b) { return b[1].at - a[1].at; });
    var wanted = new Set(items.map(function (e) { return e[0]; }));
    rows.forEach(function (r, chat) {
      if (!wanted.has(chat)) { r.row.remove(); rows.delete(chat); }
    });
    items.forEach(function (e, i) {
      var chat = e[0], c = e[1];
      var r = rows.get(chat);
      if (!r) { r = chatRow(chat); rows.set(chat, r); }
      r.row.setAttribute('aria-rowindex', String(i + 1));
      r.row.setAttribute('aria-selected', String(app.chat === chat));
      var time = hhmm(c.at);
      if (r.time.textContent !== time) r.time.textContent = time;
      if (r.status !== c.status) {
        r.status = c.status;
        var li = listIcon(c.status);
        if (li) r.iconSlot.replaceChildren(li); else r.iconSlot.replaceChildren();
      }
      if (r.preview.textContent !== c.text) {
        r.preview.textContent = c.text;
        r.preview.setAttribute('title', c.text);
      }
      renderBadge(r, chat === app.chat && readable() ? 0 : c.unread || 0);
      if (grid.children[i] !== r.row) grid.insertBefore(r.row, grid.children[i] || null);
    });
    grid.setAttribute('aria-rowcount', String(items.length));
  }

  function chatRow(chat) {
    var name = '+' + chat;
    var time = h('div', { 'class': 'cell-time' });
    var iconSlot = h('span', { 'class': 'cell-status' });
    var preview = h('span', { dir: 'auto', 'class': 'cell-preview' });
    var badgeSlot = h('div', { 'class': 'cell-badge' });
    var title = h('span', { dir: 'auto', title: name, 'class': 'cell-title' }, name);
    var top = h('div', { 'class': 'cell-top' }, title, time);
    var row = h('div', { role: 'row', tabindex: '-1' },
      h('div', { 'data-testid': 'cell-frame-container', 'class': 'cell' },
        h('div', { 'class': 'avatar' }, icon('default-user')),
        h('div', { role: 'gridcell', 'aria-colindex': '2', 'class': 'cell-main' },
          top,
          h('div', { 'class': 'cell-bottom' }, iconSlot, preview, badgeSlot))));
    row.addEventListener('click', function () { app.startSeq++; closeOverlays(); openChat(chat, null); });
    return { row: row, time: time, iconSlot: iconSlot, preview: preview, status: null, top: top, title: title, badgeSlot: badgeSlot, unread: 0 };
  }

  // renderBadge shows the unread count of a chat row (WAWebUnreadCount):
  // span[aria-label="N unread messages"] with the number, and the hidden
  // label that the real title cell carries before the name.
  function renderBadge(r, n) {
    if (r.unread === n) return;
    r.unread = n;
    if (r.label) { r.label.remove(); r.label = null; }
    r.badgeSlot.replaceChildren();
    if (!n) return;
    r.label = h('span', { style: 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)' }, unreadText(n));
    r.top.insertBefore(r.label, r.title);
    r.badgeSlot.appendChild(h('span', { 'aria-label': unreadText(n), 'data-testid': 'icon-unread-count', 'class': 'unread-badge' }, String(n)));
  }

  // ----------------------------------------------------------------- chat

  function parseRoute() {
    var path = location.pathname.replace(/\/+$/, '');
    if (path !== '/send') return null;
    var q = new URLSearchParams(location.search);
    if (!q.has('phone')) return null;
    return { phone: q.get('phone') || '', text: q.has('text') ? q.get('text') : null };
  }

  // onNavigate is the router: it reacts to popstate, as the real app does
  // when a script changes the URL and dispatches the event.
  function onNavigate() {
    var r = parseRoute();
    if (!r) return;
    app.route = r;
    runRoute();
  }

  // onLinkClick handles a click on a link to /send?phone= of this page or
  // of web.whatsapp.com in the app, without a reload, as the real app does
  // (whatsapp-web.md §10.7).
  function onLinkClick(e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    var a = e.target && e.target.closest ? e.target.closest('a[href]') : null;
    if (!a) return;
    var u;
    try { u = new URL(a.getAttribute('href'), location.href); } catch (err) { return; }
    if (u.origin !== location.origin && u.hostname !== 'web.whatsapp.com') return;
    if (u.pathname.replace(/\/+$/, '') !== '/send' || !u.searchParams.has('phone')) return;
    e.preventDefault();
    app.route = { phone: u.searchParams.get('phone') || '', text: u.searchParams.has('text') ? u.searchParams.get('text') : null };
    runRoute();
  }

  function runRoute() {
    if (!app.route || app.state !== 'main' || app.conflicted) return;
    var r = app.route;
    app.route = null;
    history.replaceState(null, '', '/');
    startChat(r.phone, r.text);
  }

  async function startChat(phone, text) {
    var seq = ++app.startSeq;
    closeOverlays();
    var cancel = h('button', { type: 'button', 'class': 'modal-button', on: { click: function () { app.startSeq++; closeOverlays(); } } }, 'Cancel');
    var spinner = document.createElementNS(SVGNS, 'svg');
    spinner.setAttribute('role', 'status');
    spinner.setAttribute('viewBox', '0 0 44 44');
    spinner.setAttribute('width', '44');
    spinner.setAttribute('height', '44');
    spinner.setAttribute('class', 'spinner ' + cls('spinner'));
    var circle = document.createElementNS(SVGNS, 'circle');
    circle.setAttribute('cx', '22');
    circle.setAttribute('cy', '22');
    circle.setAttribute('r', '18');
    circle.setAttribute('fill', 'none');
    circle.setAttribute('stroke-width', '4');
    spinner.appendChild(circle);
    showOverlay(h('div', { 'class': 'overlay', 'data-animate-modal-backdrop': 'true' },
      h('div', { 'data-animate-modal-popup': 'true', 'aria-label': 'Starting chat', tabindex: '-1', 'class': 'popup' },
        h('div', { 'data-animate-modal-body': 'true', 'class': 'popup-body' },
          h('h1', { 'class': 'popup-title' }, 'Starting chat'),
          spinner),
        h('div', { 'class': 'popup-controls' }, cancel))));
    report();
    var t0 = performance.now();
    var exists = false, wid = phone;
    if (/^\d{6,15}$/.test(phone)) {
      try {
        var r = await get('/__wa/contact', { cid: app.cid, phone: phone });
        exists = !!r.exists;
        // queryWidExists answers with the chat's own number (the Brazil
        // ninth digit, Mexico 52/521), which the chat then uses.
        if (exists && r.phone) wid = r.phone;
      } catch (e) { exists = false; }
    }
    var wait = CFG.startingDelay - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    if (seq !== app.startSeq || app.state !== 'main') return;
    if (!exists) { closeOverlays(); closeChat(); showInvalid(phone); return; }
    // The history is fetched while the modal still shows, so that the
    // modal goes and the chat appears in the same task.
    var hist = await fetchChat(wid);
    if (seq !== app.startSeq || app.state !== 'main') return;
    closeOverlays();
    showChat(wid, text == null ? null : normNL(text), hist);
  }

  // formatNumber writes a number as the 2026 dialog does: "+1 555-123-4567"
  // for a North American number, else "+" and the digits.
  function formatNumber(phone) {
    var m = /^1(\d{3})(\d{3})(\d{4})$/.exec(phone);
    return m ? '+1 ' + m[1] + '-' + m[2] + '-' + m[3] : '+' + phone;
  }

  function showInvalid(phone) {
    if (M26) { showNotOnWhatsApp(phone); return; }
    var msg = 'Phone number shared via url is invalid.';
    var ok = h('div', { role: 'button', 'data-testid': 'popup-controls-ok', tabindex: '0', 'class': 'modal-button' }, 'OK');
    ok.addEventListener('click', function () { closeOverlays(); report(); });
    ok.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); ok.click(); } });
    showOverlay(h('div', { role: 'dialog', 'class': 'overlay' },
      h('div', { 'data-animate-modal-popup': 'true', 'aria-label': msg, 'class': 'popup' },
        h('div', { 'data-animate-modal-body': 'true', 'class': 'popup-body' }, h('div', {}, msg)),
        ok)));
  }

  // showNotOnWhatsApp is the 2026 ConfirmPopup (viewName
  // open-chat-not-found): no aria-label with the text, no testids, an OK
  // button.
  function showNotOnWhatsApp(phone) {
    var ok = h('button', { type: 'button', 'class': 'modal-button primary' }, 'OK');
    ok.addEventListener('click', function () { closeOverlays(); report(); });
    showOverlay(h('div', { role: 'dialog', 'aria-modal': 'true', 'class': 'overlay' },
      h('div', { 'data-animate-modal-popup': 'true', 'class': 'popup' },
        h('div', { 'data-animate-modal-body': 'true', 'class': 'popup-body' },
          h('div', {}, 'The number ' + formatNumber(String(phone).replace(/^\+/, '')) + " isn't on WhatsApp.")),
        h('div', { 'class': 'popup-controls' }, ok))));
  }

  function showOverlay(node) {
    var box = app.els.overlays;
    if (!box) return;
    box.appendChild(node);
  }

  // closeOverlays removes the chat modals; the conflict dialog stays.
  function closeOverlays() {
    var box = app.els.overlays;
    if (!box) return;
    Array.from(box.children).forEach(function (c) { if (c !== app.els.conflict) c.remove(); });
  }

  // closeChat shows the intro pane instead of a chat.
  function closeChat() {
    if (!app.chat || !app.els.mainCol) return;
    endTyping();
    app.chat = null;
    app.ed = null;
    app.els.list = null;
    app.els.mainCol.replaceChildren(intro());
    renderChatList();
    report();
  }

  // fetchChat returns the history of the chat with phone and whether it is
  // a new chat.
  async function fetchChat(phone) {
    try {
      var r = await get('/__wa/chat', { cid: app.cid, phone: phone });
      return { messages: r.messages || [], isNew: !!r['new'] };
    } catch (e) {
      return { messages: [], isNew: false };
    }
  }

  async function openChat(phone, text) {
    var seq = app.startSeq;
    var hist = await fetchChat(phone);
    if (app.state !== 'main' || seq !== app.startSeq) return;
    showChat(phone, text, hist);
  }

  function showChat(phone, text, hist) {
    renderChat(phone, hist.messages, hist.isNew);
    if (app.ed) {
      if (text != null) app.ed.setText(text);
      app.ed.focus();
    }
    renderChatList();
    report();
  }

  var STATUS = {
    pending: ['msg-time', ' Pending '],
    sent: ['msg-check', ' Sent '],
    delivered: ['msg-dblcheck', ' Delivered '],
    read: ['msg-dblcheck', ' Read ']
  };

  // The 2026 ticks (WAWebMessageStatus): an aria-label and an svg title,
  // no data-icon; one tick is titled wds-ic-delivered (sic).
  var STATUS_2026 = {
    pending: 'wds-ic-status-pending',
    sent: 'wds-ic-delivered',
    delivered: 'wds-ic-read',
    read: 'wds-ic-read'
  };

  function statusIcon(status) {
    var st = STATUS[status] || STATUS.pending;
    if (M26) {
      return icon(STATUS_2026[status] || STATUS_2026.pending,
        { label: st[1], 'class': status === 'read' ? 'x1rv0e52' : null, fill: status === 'read' ? 'rgb(0,123,252)' : null });
    }
    return icon(st[0], { label: st[1], testid: true, fill: status === 'read' ? '#53bdeb' : null, 'class': status === 'read' ? 'x1rv0e52' : null });
  }

  // speakerLabel is the hidden label that tells the direction in the 2026
  // markup: "You:" or "{Name}:".
  function speakerLabel(name) {
    return h('span', { 'aria-label': name + ':', style: 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)' });
  }

  // renderRow renders a message. first says whether it starts a run of
  // rows of its direction; in the 2026 markup only such a row has a tail.
  function renderRow(v, first) {
    var inc = !!v.in;
    var idDiv = h('div', { tabindex: '-1', 'class': fake('focusable-list-item') });
    if (v.dataId) idDiv.setAttribute('data-id', v.dataId);
    var textSpan = h('span', {});
    textSpan.textContent = v.text;
    var statusSlot = inc ? null : h('div', { 'class': fake('msg-status') }, statusIcon(v.status));
    var tail = M26 && !first ? null : icon(inc ? 'tail-in' : 'tail-out', { title: false });
    var who = inc ? '+' + v.chat : 'Me';
    // An attachment without a caption has no text block.
    var textBlock = v.media && !v.text ? null
      : h('div', { 'class': 'copyable-text', 'data-pre-plain-text': prePlain(v.at, who) },
        h('div', { 'class': fake('bubble-text') },
          h('span', { dir: 'auto', 'class': 'selectable-text copyable-text' }, textSpan)));
    idDiv.appendChild(
      h('div', { 'class': M26 ? '' : (inc ? 'message-in' : 'message-out') + ' focusable-list-item' },
        tail,
        h('div', { 'class': fake('bubble') },
          M26 ? speakerLabel(inc ? formatNumber(v.chat) : 'You') : null,
          v.media ? mediaThumb(v.media) : null,
          textBlock,
          h('div', { 'class': fake('msg-meta') },
            h('span', { dir: 'auto', 'class': fake('msg-clock') }, hhmm(v.at)),
            statusSlot))));
    var row = h('div', { role: 'row', style: inc ? 'justify-content:flex-start' : null }, idDiv);
    row._fakewa = { idDiv: idDiv, statusSlot: statusSlot, status: v.status, in: inc, id: v.id || null, read: !!v.read };
    if (v.id) app.rowsById.set(v.id, row);
    if (!inc && v.status === 'failed') setRowFailed(row, v.fail);
    return row;
  }

  // startsRun reports whether a row of direction inc after the list's
  // last row starts a run.
  function startsRun(list, inc) {
    var last = list && list.lastElementChild;
    while (last && !last._fakewa && last.hasAttribute('data-unread-divider')) last = last.previousElementSibling;
    return !last || !last._fakewa || last._fakewa.in !== inc;
  }

  function setRowStatus(row, status, fail) {
    var meta = row._fakewa;
    if (meta.in || meta.status === 'failed') return;
    if (status === 'failed') { setRowFailed(row, fail); return; }
    var order = ['pending', 'sent', 'delivered', 'read'];
    if (order.indexOf(status) < order.indexOf(meta.status)) return;
    meta.status = status;
    meta.statusSlot.replaceChildren(statusIcon(status));
  }

  function bindRow(row, v) {
    var meta = row._fakewa;
    if (!meta.idDiv.hasAttribute('data-id')) meta.idDiv.setAttribute('data-id', v.dataId);
    meta.id = v.id;
    app.rowsById.set(v.id, row);
    setRowStatus(row, v.status, v.fail);
  }

  var FAIL_LABEL = 'Something went wrong. Click to learn more.';
  var CAPPED_FAIL_LABEL = 'Your message couldn\u2019t send because you\u2019ve reached your monthly limit of new chat messages. Click to learn more.';

  // setRowFailed shows a rejected message as WAWebMessageMeta and
  // WAWebMsgSendFailIcon do: the tick goes, and a round red button with
  // the error icon sits next to the bubble.
  function setRowFailed(row, fail) {
    var meta = row._fakewa;
    meta.status = 'failed';
    meta.statusSlot.replaceChildren();
    var label = fail === 'capped' ? CAPPED_FAIL_LABEL : FAIL_LABEL;
    var btn = h('div', { role: 'button', tabindex: '0', 'aria-label': label, title: label, 'class': 'fail-icon' }, icon('ic-error'));
    btn.addEventListener('click', function () {
      var dlg = confirmPopup([h('div', {}, 'Your message was not sent.')], [
        modalButton('Cancel', false, function () { dlg.remove(); }),
        modalButton('Try again', true, function () { dlg.remove(); })]);
      showOverlay(dlg);
    });
    meta.idDiv.firstChild.appendChild(btn);
  }

  // appendRow renders v at the end of the open chat and returns the row.
  function appendRow(v) {
    var list = app.els.list;
    var row = renderRow(v, startsRun(list, !!v.in));
    if (!list || !list.isConnected) return row;
    list.appendChild(row);
    list.scrollTop = list.scrollHeight;
    return row;
  }

  function renderChat(phone, hist, isNew) {
    var name = '+' + phone;
    endTyping();
    app.chat = phone;
    app.chatNew = !!isNew;
    app.rowsById = new Map();
    app.rowsByCk = new Map();
    var list = h('div', {
      tabindex: '0', 'data-tab': '8', role: 'application', 'class': 'message-list',
      'aria-label': 'Message list. Press right arrow key on a message to open message context menu.'
    });
    var conv = h('div', { 'data-testid': 'conversation-panel-wrapper', 'class': 'conversation' }, list);
    var main = h('div', { id: 'main' },
      h('header', { 'class': 'chat-header' },
        h('div', { 'class': 'avatar', title: 'Profile details', role: 'button' }, icon('default-user')),
        h('div', { 'class': 'chat-title', role: 'button' },
          h('div', {}, h('span', { dir: 'auto', title: name, 'class': 'chat-name' }, name)),
          h('div', { 'class': 'chat-subtitle' }, h('span', {}, 'click here for contact info'))),
        h('div', { 'class': 'header-actions' }, headerButton('Search', 'search-alt'), headerButton('Menu', 'menu'))),
      conv);
    app.els.list = list;
    app.els.conv = conv;
    app.els.mainCol.replaceChildren(main);
    renderFooter();
    hist = mergeSeen(phone, hist);
    var unread = hist.filter(function (v) { return v.in && !v.read; }).length;
    hist.forEach(function (v) {
      if (unread && v.in && !v.read) {
        list.appendChild(unreadDivider(unread));
        unread = 0;
      }
      var row = renderRow(v, startsRun(list, !!v.in));
      list.appendChild(row);
      var seen = app.seen.get(v.id);
      if (seen && !v.in) setRowStatus(row, seen.status, seen.fail);
    });
    list.scrollTop = list.scrollHeight;
    markReadSoon();
  }

  // mergeSeen adds to the history of chat the messages that the server
  // pushed while the page fetched it, and the read flags it learnt since.
  function mergeSeen(chat, hist) {
    var have = new Set();
    hist.forEach(function (v) {
      have.add(v.id);
      var seen = app.seen.get(v.id);
      if (seen && seen.v.read) v.read = true;
    });
    var extra = [];
    app.seen.forEach(function (e) { if (e.v.chat === chat && !have.has(e.v.id)) extra.push(e.v); });
    extra.sort(function (a, b) { return a.at - b.at; });
    return hist.concat(extra);
  }

  function unreadText(n) { return n === 1 ? '1 unread message' : n + ' unread messages'; }

  // unreadDivider is the line above the first unread message of a chat
  // when it opens (WA "{count} unread messages"); not a [role=row].
  function unreadDivider(n) {
    return h('div', { 'data-unread-divider': 'true', 'class': fake('unread-divider') },
      h('span', { 'aria-live': 'polite' }, unreadText(n)));
  }

  // newChatBlock returns the restriction that replaces the compose box of
  // the open chat: 'timelock', 'capped' or null. Only new chats (no
  // message exchanged yet) are blocked.
  function newChatBlock() {
    if (!app.chatNew) return null;
    if (app.restrict.timelock) return 'timelock';
    if (app.restrict.cap) return 'capped';
    return null;
  }

  // renderFooter renders the open chat's footer: the compose box, or the
  // restricted compose bar of a timelock or of the new-chat cap.
  function renderFooter() {
    var conv = app.els.conv;
    if (!conv || !conv.isConnected) return;
    var old = conv.querySelector('footer');
    var block = newChatBlock();
    if (old && !block && !old._block && app.ed) return; // the composer stays, with its text
    var footer;
    if (block) {
      endTyping();
      app.ed = null;
      footer = h('footer', { 'class': 'compose' }, restrictedBar(block));
    } else {
      var sendSlot = h('div', { 'class': 'send-slot' });
      var ed = makeEditor(function (text) { renderSendSlot(sendSlot, text); noteTyping(text); }, sendMessage);
      footer = h('footer', { 'class': 'compose' },
        attachSlot(),
        h('div', { 'class': 'lexical-rich-text-input', exact: true },
          ed.el,
          h('div', { 'class': 'compose-placeholder', 'aria-hidden': 'true' }, 'Type a message')),
        sendSlot);
      app.ed = ed;
      renderSendSlot(sendSlot, '');
    }
    footer._block = block;
    if (old) old.replaceWith(footer); else conv.appendChild(footer);
  }

  // restrictedBar is WAWebReachoutTimelockRestrictedComposeBar (testid in
  // the 2026 builds only) or WAWebIndividualNewChatCappedComposeBar: grey
  // text and a clickable link, no contenteditable.
  function restrictedBar(block) {
    var tl = block === 'timelock';
    var link = h('span', { role: 'button', tabindex: '0', 'class': 'restricted-link' }, tl ? 'Show details' : 'See details');
    link.addEventListener('click', function () { if (tl) showTimelockModal(); else showCapModal(); });
    return h('div', { 'class': 'restricted-bar', 'data-testid': tl && M26 ? 'reachout-timelock-compose-bar' : null },
      h('span', {}, (tl ? app.restrict.timelock.bar : "You've reached the monthly limit on new chats you can start.") + ' '),
      link);
  }

  // confirmPopup is the ConfirmPopup of the real page: role=dialog,
  // aria-modal, the popup and its body; the testid popup-contents only in
  // the classic markup.
  function confirmPopup(kids, buttons, full) {
    return h('div', { role: 'dialog', 'aria-modal': 'true', 'class': 'overlay' + (full ? ' full' : '') },
      h('div', { 'data-animate-modal-popup': 'true', 'class': 'popup' },
        h('div', { 'data-animate-modal-body': 'true', 'class': 'popup-body' },
          h('div', { 'data-testid': M26 ? null : 'popup-contents', 'class': 'popup-contents' }, kids)),
        h('div', { 'class': 'popup-controls' }, buttons)));
  }

  function modalButton(label, primary, onClick) {
    return h('button', { type: 'button', 'class': 'modal-button' + (primary ? ' primary' : ''), on: { click: onClick } }, label);
  }

  // countdown writes the time left as WAWebClockDurationFormatters does:
  // "HH:MM:SS" up to 24 hours, else "N days".
  function countdown(until) {
    var ms = Math.max(0, until - Date.now());
    if (ms > 86400000) return Math.ceil(ms / 86400000) + ' days';
    var t = Math.floor(ms / 1000);
    return pad(Math.floor(t / 3600)) + ':' + pad(Math.floor(t / 60) % 60) + ':' + pad(t % 60);
  }

  function showTimelockModal() {
    var tl = app.restrict.timelock;
    if (!tl) return;
    var clock = h('div', { 'class': 'countdown' }, countdown(tl.until));
    var timer = setInterval(function () {
      if (!clock.isConnected) { clearInterval(timer); return; }
      clock.textContent = countdown(tl.until);
    }, 1000);
    var tid = function (n) { return M26 ? 'reachout-timelock-restricted-modal-' + n : null; };
    var dlg = confirmPopup([
      clock,
      h('h1', { 'class': 'popup-title', 'data-testid': tid('title') }, tl.title),
      h('div', { 'data-testid': tid('subtitle') }, 'Recent activity on your account may be a sign of spam, automated or bulk messaging. Learn more'),
      h('ul', {},
        h('li', { 'data-testid': tid('bullet-1') }, tl.allDevices ? 'You can still use WhatsApp on your primary device without restrictions.'
          : 'You can answer calls, reply to new messages, and keep messaging in your chats and groups.'),
        h('li', { 'data-testid': tid('bullet-2') }, "You won't be able to start new chats and use some other features for now."),
        h('li', { 'data-testid': tid('bullet-3') }, "We'll let you know when restrictions are lifted."))
    ], [modalButton('Close', true, function () { dlg.remove(); })]);
    showOverlay(dlg);
  }

  function showCapModal() {
    var c = app.restrict.cap;
    if (!c) return;
    var dlg = confirmPopup([
      h('h1', { 'class': 'popup-title' }, "You've started " + c.used + ' of ' + c.total + ' new chats this month'),
      h('div', {}, "To help manage how many messages people get, there's a monthly limit on new chats you can start with people who haven't responded to you. Learn more"),
      h('ul', {},
        h('li', {}, "You can't start any more new chats until " + c.until + '. Track in Settings.'),
        h('li', {}, 'Continue to answer calls and reply to messages in existing chats.'))
    ], [modalButton('Not now', false, function () { dlg.remove(); }), modalButton('Get WhatsApp Business', true, function () {})]);
    showOverlay(dlg);
  }

  // onRestrict applies the account's restrictions pushed by the server.
  function onRestrict(r) {
    app.restrict = r;
    if (r.tempBan) {
      if (app.state === 'main' || app.state === 'temp-ban') showTempBan();
      return;
    }
    if (app.state === 'temp-ban') { enterMain(); return; }
    if (app.state === 'main') renderFooter();
  }

  // showTempBan is WAWebTempBanScreen: a full-screen ConfirmPopup with the
  // reason, the time left, "Log out" and "Learn more".
  function showTempBan() {
    var tb = app.restrict.tempBan;
    endTyping();
    app.startSeq++;
    app.chat = null;
    app.ed = null;
    app.els = {};
    mount(h('div', { 'class': 'app-wrapper-web font-fix' },
      confirmPopup([h('div', {}, tb.reason), h('div', {}, tb.again)], [
        modalButton('Log out', false, function () {}),
        modalButton('Learn more', true, function () {})
      ], true)));
    setState('temp-ban');
  }

  // loggedOutBanner is WAWebLoggedOutBanner with the default text of a 403.
  function loggedOutBanner() {
    return h('div', { 'class': 'logged-out-banner' }, icon('warning-outline'),
      h('div', {}, 'You have been logged out. To log back in, you will need to verify your phone number.'));
  }

  // showPasskey is the Shortcake passkey overlay in its passkey_prompt
  // state. Its English strings are unknown (stripped from the sources),
  // so a driver must rely on the testids only.
  function showPasskey() {
    app.els.qr = null;
    var alert = h('span', { role: 'alert' });
    mount(landingFrame(h('div', { 'data-testid': 'shortcake_passkey_screen', 'class': 'landing-main passkey' },
      h('div', { 'data-testid': 'shortcake_passkey_prompt_card', 'class': 'passkey-card' },
        icon('passkey'), alert,
        h('button', { type: 'button', 'data-testid': 'shortcake_passkey_continue_button', 'class': 'modal-button primary',
          on: { click: function () { alert.textContent = 'Passkey not available'; } } }, 'Continue'),
        h('button', { type: 'button', 'data-testid': 'shortcake_cancel_button', 'class': 'modal-button', on: { click: backToQR } }, 'Cancel')))));
    setState('passkey');
  }

  // ---------------------------------------------------------- attachments

  var MEDIA_ACCEPT = 'image/*,video/mp4,video/3gpp,video/quicktime';

  // attachSlot is the footer's Attach button with its menu, and the two
  // hidden file inputs, which stay in the DOM whether the menu shows or
  // not (whatsapp-web.md §5), so that a driver can set their files.
  function attachSlot() {
    var media = h('input', { type: 'file', accept: MEDIA_ACCEPT, tabindex: '-1', style: 'display:none', exact: true });
    var doc = h('input', { type: 'file', accept: '*', tabindex: '-1', style: 'display:none', exact: true });
    media.addEventListener('change', function () { takeFile(media, 'media'); });
    doc.addEventListener('change', function () { takeFile(doc, 'document'); });
    var btn = h('button', { type: 'button', 'aria-label': 'Attach', title: 'Attach', 'aria-expanded': 'false', 'class': 'round-button' }, icon('plus-rounded'));
    var slot = h('div', { 'class': 'attach-slot' }, btn, media, doc);
    var menu = null;
    // closeMenu closes the menu and reports whether it was open.
    function closeMenu() {
      var was = !!menu;
      if (menu) { menu.remove(); menu = null; }
      btn.setAttribute('aria-expanded', 'false');
      return was;
    }
    app.els.closeMenu = closeMenu;
    function item(label, name, input) {
      return h('button', { type: 'button', role: 'menuitem', 'aria-label': label, 'class': 'attach-item',
        on: { click: function () { closeMenu(); input.click(); } } }, icon(name), h('span', {}, label));
    }
    btn.addEventListener('click', function () {
      if (menu) { closeMenu(); return; }
      menu = h('div', { role: 'menu', 'class': 'attach-menu' },
        item('Document', 'document-filled', doc),
        item('Photos & videos', 'media-filled', media));
      menu.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.preventDefault(); closeMenu(); btn.focus(); } });
      slot.appendChild(menu);
      btn.setAttribute('aria-expanded', 'true');
    });
    app.els.attachSlot = slot;
    return slot;
  }

  var NOUN = { image: 'image', video: 'video', document: 'document' };

  // takeFile checks the file chosen through a hidden input as the real
  // app does (its toast texts), then opens the preview.
  function takeFile(input, which) {
    var f = input.files && input.files[0];
    input.value = '';
    if (!f || app.state !== 'main' || !app.chat || !app.ed) return;
    var kind = 'document';
    if (which === 'media') {
      if (/^image\//.test(f.type)) kind = 'image';
      else if (/^video\//.test(f.type)) kind = 'video';
      else { toast('1 file you tried adding is not supported.'); return; }
    }
    if (f.size === 0) { toast('1 ' + NOUN[kind] + ' you tried adding has no content.'); return; }
    var limit = kind === 'document' ? CFG.documentLimit : CFG.imageLimit;
    if (f.size > limit) { toast('1 ' + NOUN[kind] + ' you tried adding is larger than the ' + fmtSize(limit) + ' limit.'); return; }
    showPreview(f, kind);
  }

  // toast shows a short message at the bottom of the app.
  function toast(text) {
    var box = app.els.toasts;
    if (!box || !box.isConnected) return;
    var t = h('div', { role: 'alert', 'class': 'toast' }, h('span', {}, text));
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 5000);
  }

  // fmtSize writes a size as WAWebL10nFilesize does: "16 MB", "120 kB".
  function fmtSize(n) {
    var KB = 1024, MB = 1024 * 1024;
    if (n < KB) return n + ' B';
    if (n < MB) return Math.round(n / KB) + ' kB';
    var v = n / MB;
    return (v >= 10 || v === Math.floor(v) ? String(Math.round(v)) : v.toFixed(1)) + ' MB';
  }

  // docType is the type line of a document card: the extension in upper
  // case, else the MIME subtype, else FILE.
  function docType(name, mime) {
    var m = /\.([A-Za-z0-9]{1,6})$/.exec(name);
    if (m) return m[1].toUpperCase();
    m = /^[^/]+\/([A-Za-z0-9.+-]+)$/.exec(mime || '');
    return m && m[1] !== 'octet-stream' ? m[1].toUpperCase() : 'FILE';
  }

  // docCard is the document card of a bubble or of the preview.
  function docCard(name, size, mime) {
    var type = docType(name, mime);
    var sz = fmtSize(size);
    return h('div', { 'data-testid': 'document-thumb', role: 'button', tabindex: '0', title: 'Download "' + name + '"', 'class': 'document-card' },
      icon('audio-file'),
      h('div', { 'class': 'document-body' },
        h('span', { dir: 'auto', title: name, 'class': 'document-name' }, name),
        h('div', { 'class': 'document-meta' },
          h('span', { title: type }, type), h('span', { 'aria-hidden': 'true' }, ' \u2022 '), h('span', { title: sz }, sz))));
  }

  // previewOf is the chat list text of a message (message.preview in Go).
  function previewOf(v) {
    var md = v.media;
    if (!md) return v.text;
    if (md.kind === 'document') return md.name;
    if (v.text) return v.text;
    return md.kind === 'video' ? 'Video' : 'Photo';
  }

  // mediaThumb is the attachment part of a bubble.
  function mediaThumb(md) {
    if (md.kind === 'document') return docCard(md.name, md.size, md.mime);
    if (md.kind === 'video') {
      return h('div', { 'data-testid': 'video-thumb', role: 'button', 'aria-label': 'Play video', 'class': 'media-thumb' }, icon('media-play'));
    }
    var src = md.url ? (/^blob:/.test(md.url) ? md.url : md.url + '&cid=' + encodeURIComponent(app.cid)) : null;
    return h('div', { 'data-testid': 'image-thumb', role: 'button', 'aria-label': 'Open picture', 'class': 'media-thumb' },
      h('img', { src: src, alt: '', draggable: 'false', exact: true }));
  }

  // showPreview is the media editor: the file, a caption box and Send.
  function showPreview(file, kind) {
    closePreview();
    var chat = app.chat;
    var url = kind === 'document' ? null : URL.createObjectURL(file);
    var p = { file: file, kind: kind, chat: chat, url: url };
    var sendBtn = h('div', { role: 'button', tabindex: '0', 'aria-label': 'Send', title: 'Send', 'class': 'round-button send-button preview-send' }, icon('wds-ic-send-filled'));
    var ed = makeEditor(function () {}, function () { sendMedia(p); }, true);
    var close = h('div', { role: 'button', tabindex: '0', 'aria-label': 'Close', title: 'Close', 'class': 'round-button' }, icon('x'));
    var body = kind === 'document' ? docCard(file.name, file.size, file.type)
      : kind === 'video' ? h('video', { src: url, controls: '', 'class': 'preview-media', exact: true })
        : h('img', { src: url, alt: '', 'class': 'preview-media', exact: true });
    var dlg = h('div', { role: 'dialog', 'aria-modal': 'true', 'class': 'overlay media-preview' },
      h('div', { 'class': 'preview-panel' },
        h('div', { 'class': 'preview-header' }, close, h('span', { dir: 'auto', title: file.name, 'class': 'preview-name' }, file.name)),
        h('div', { 'class': 'preview-body' }, body),
        h('div', { 'class': 'preview-footer' },
          h('div', { 'class': 'lexical-rich-text-input', exact: true }, ed.el,
            h('div', { 'class': 'compose-placeholder', 'aria-hidden': 'true' }, 'Add a caption')),
          sendBtn)));
    p.ed = ed;
    p.dlg = dlg;
    sendBtn.addEventListener('click', function () { sendMedia(p); });
    sendBtn.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sendMedia(p); } });
    close.addEventListener('click', closePreview);
    dlg.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.preventDefault(); closePreview(); } });
    app.preview = p;
    showOverlay(dlg);
    ed.focus();
  }

  function closePreview() {
    var p = app.preview;
    app.preview = null;
    if (!p) return;
    if (p.dlg) p.dlg.remove();
    if (p.url && !p.sent) URL.revokeObjectURL(p.url);
  }

  // sendMedia sends the file of the preview with its caption, once: the
  // row shows at once, Pending while the bytes upload.
  function sendMedia(p) {
    if (p.sent || !p.dlg || !p.dlg.isConnected || app.state !== 'main' || app.conflicted || app.chat !== p.chat) return;
    p.sent = true;
    var caption = p.ed.getText();
    if (!/\S/.test(caption)) caption = '';
    app.preview = null;
    p.dlg.remove();
    var ck = rid(10);
    var at = Date.now();
    var chat = p.chat, f = p.file;
    var v = { text: caption, at: at, status: 'pending', chat: chat,
      media: { kind: p.kind, name: f.name, mime: f.type, size: f.size, url: p.kind === 'image' ? p.url : null } };
    var row = appendRow(v);
    app.rowsByCk.set(ck, row);
    noteChat(chat, previewOf(v), at, 'pending', null);
    var u = new URL('/__wa/media', location.origin);
    [['cid', app.cid], ['to', chat], ['kind', p.kind], ['name', f.name], ['mime', f.type], ['caption', caption], ['ck', ck]]
      .forEach(function (kv) { u.searchParams.set(kv[0], kv[1]); });
    fetch(u, { method: 'POST', cache: 'no-store', headers: { 'Content-Type': 'application/octet-stream' }, body: f })
      .then(function (r) { if (!r.ok) throw new Error('media: ' + r.status); return r.json(); })
      .then(function (sv) {
        bindRow(row, sv);
        noteChat(chat, previewOf(sv), sv.at, sv.status, sv.id);
      })
      .catch(function () { /* the row stays Pending */ });
  }

  // ------------------------------------------------------------- presence

  function wsSend(obj) {
    if (app.ws && app.ws.readyState === 1) app.ws.send(JSON.stringify(obj));
  }

  // noteTyping sends "composing" for the open chat when its compose box
  // changes, and "paused" after three seconds without a change.
  function noteTyping(text) {
    if (!app.chat || !/\S/.test(text)) return;
    if (app.composing !== app.chat) {
      endTyping();
      app.composing = app.chat;
      wsSend({ type: 'presence', chat: app.chat, state: 'composing' });
    }
    clearTimeout(app.pauseTimer);
    app.pauseTimer = setTimeout(endTyping, 3000);
  }

  // endTyping sends "paused" for the chat being typed in, if any.
  function endTyping() {
    clearTimeout(app.pauseTimer);
    if (app.composing) wsSend({ type: 'presence', chat: app.composing, state: 'paused' });
    app.composing = null;
  }

  function renderSendSlot(slot, text) {
    var has = /\S/.test(text);
    var cur = slot.firstChild;
    if (cur && (cur.getAttribute('aria-label') === 'Send') === has) return;
    var btn = has
      ? h('button', { type: 'button', 'data-tab': '11', 'aria-label': 'Send', 'class': 'round-button send-button' }, icon('wds-ic-send-filled'))
      : h('button', { type: 'button', 'aria-label': 'Voice message', 'class': 'round-button' }, icon('ptt'));
    btn.addEventListener('mousedown', function (e) { e.preventDefault(); });
    if (has) btn.addEventListener('click', function () { sendMessage(); });
    slot.replaceChildren(btn);
  }

  // sendMessage sends the text of the compose box, once.
  function sendMessage() {
    if (app.state !== 'main' || app.conflicted || !app.chat || !app.ed) return;
    var text = app.ed.getText();
    if (!/\S/.test(text)) return;
    clearTimeout(app.pauseTimer);
    app.composing = null;
    app.ed.setText('');
    var ck = rid(10);
    var at = Date.now();
    var chat = app.chat;
    var row = appendRow({ text: text, at: at, status: 'pending', chat: chat });
    app.rowsByCk.set(ck, row);
    noteChat(chat, text, at, 'pending', null);
    post('/__wa/send', { cid: app.cid, to: chat, text: text, ck: ck }).then(function (v) {
      bindRow(row, v);
      noteChat(chat, v.text, v.at, v.status, v.id);
    }).catch(function () { /* the row stays Pending */ });
  }

  function onServerMessage(v, unread) {
    remember(v);
    noteChat(v.chat, previewOf(v), v.at, v.in ? 'in' : v.status, v.id, true);
    if (v.in && unread != null) setUnread(v.chat, unread, true);
    renderChatList();
    var row = v.ck && app.rowsByCk.get(v.ck);
    if (row) { bindRow(row, v); return; }
    if (app.chat === v.chat && !app.rowsById.has(v.id)) appendRow(v);
    if (v.in) markReadSoon();
  }

  function onAck(m) {
    var seen = app.seen.get(m.id);
    if (seen && !seen.fail) { seen.status = m.status; seen.fail = m.status === 'failed' ? m.fail : null; }
    var row = app.rowsById.get(m.id);
    if (row) setRowStatus(row, m.status, m.fail);
    var c = app.chats.get(m.chat);
    if (c && c.id === m.id) { c.status = m.status; renderChatList(); }
  }

  // onRead applies the read receipts that a page of the account sent.
  function onRead(m) {
    (m.ids || []).forEach(function (id) {
      var seen = app.seen.get(id);
      if (seen) seen.v.read = true;
      var row = app.rowsById.get(id);
      if (row) { row._fakewa.read = true; row._fakewa.reading = false; }
    });
    setUnread(m.chat, m.unread || 0);
  }

  // remember keeps the newest messages the server pushed, so that a chat
  // whose history was fetched just before an event still shows it.
  function remember(v) {
    app.seen.set(v.id, { v: v, status: v.status, fail: v.fail || null });
    if (app.seen.size > 500) app.seen.delete(app.seen.keys().next().value);
  }

  // ------------------------------------------------------------ read state

  // readable reports whether the page may send read receipts for the open
  // chat: the real app does only while its window is visible and focused.
  function readable() {
    return app.state === 'main' && !app.conflicted && !!app.chat &&
      document.visibilityState === 'visible' && document.hasFocus();
  }

  function markReadSoon() { setTimeout(markRead, 0); }

  // markRead sends the read receipts of the incoming rows of the open chat
  // that are not read yet.
  function markRead() {
    if (!readable()) return;
    var list = app.els.list;
    if (!list || !list.isConnected) return;
    var chat = app.chat, ids = [], rows = [];
    Array.prototype.forEach.call(list.children, function (row) {
      var meta = row._fakewa;
      if (!meta || !meta.in || meta.read || meta.reading || !meta.id) return;
      meta.reading = true;
      ids.push(meta.id);
      rows.push(row);
    });
    renderChatList();
    if (!ids.length) return;
    post('/__wa/read', { cid: app.cid, chat: chat, ids: ids }).then(function () {
      rows.forEach(function (row) { row._fakewa.read = true; row._fakewa.reading = false; });
    }, function () {
      rows.forEach(function (row) { row._fakewa.reading = false; });
      renderChatList();
    });
  }

  window.addEventListener('focus', function () { renderChatList(); markRead(); });
  // A click outside the attach menu closes it.
  document.addEventListener('mousedown', function (e) {
    if (app.els.attachSlot && !app.els.attachSlot.contains(e.target) && app.els.closeMenu) app.els.closeMenu();
  }, true);
  // Escape closes the open chat when no dialog or menu shows, as in the
  // real app.
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape' || app.state !== 'main' || e.defaultPrevented) return;
    var box = app.els.overlays;
    if (box && box.children.length) return;
    if (app.els.closeMenu && app.els.closeMenu()) { e.preventDefault(); return; }
    if (app.els.drawer && app.els.drawer.isConnected) { e.preventDefault(); app.els.drawer.remove(); app.els.drawer = null; return; }
    if (app.chat) { e.preventDefault(); app.startSeq++; closeChat(); }
  });
  document.addEventListener('visibilitychange', function () { renderChatList(); markRead(); });

  // ------------------------------------------------------------- conflict

  var CONFLICT_TEXT = 'WhatsApp is open in another window. Click "Use Here" to use WhatsApp in this window.';

  function onConflict() {
    app.conflicted = true;
    if (app.ed) app.ed.el.blur();
    if (app.state === 'main') showConflict();
    report();
  }

  function showConflict() {
    if (app.els.conflict && app.els.conflict.isConnected) return;
    app.startSeq++;
    closeOverlays();
    var close = h('button', { type: 'button', 'data-testid': 'popup-controls-cancel', 'class': 'modal-button' }, 'Close');
    var use = h('button', { type: 'button', 'data-testid': 'popup-controls-ok', 'class': 'modal-button primary' }, 'Use here');
    close.addEventListener('click', function () { window.close(); });
    use.addEventListener('click', takeover);
    var dlg = h('div', { role: 'dialog', 'class': 'overlay' },
      h('div', { 'data-animate-modal-popup': 'true', 'aria-label': CONFLICT_TEXT, 'class': 'popup' },
        h('div', { 'data-animate-modal-body': 'true', 'class': 'popup-body' }, h('div', {}, CONFLICT_TEXT)),
        h('div', { 'class': 'popup-controls' }, close, use)));
    app.els.conflict = dlg;
    showOverlay(dlg);
  }

  async function takeover() {
    try { await post('/__wa/takeover', { cid: app.cid }); } catch (e) { return; }
    app.conflicted = false;
    if (app.els.conflict) { app.els.conflict.remove(); app.els.conflict = null; }
    report();
    runRoute();
  }

  // --------------------------------------------------------------- editor

  var BLOCKS = { P: 1, DIV: 1, LI: 1, UL: 1, OL: 1, H1: 1, H2: 1, H3: 1, H4: 1, H5: 1, H6: 1, BLOCKQUOTE: 1, PRE: 1, SECTION: 1, ARTICLE: 1, TABLE: 1, TR: 1 };

  // tokens flattens the editor DOM into text, line breaks, block starts and
  // ends, and caret positions.
  function tokens(root) {
    var out = [];
    (function walk(n) {
      for (var i = 0; i < n.childNodes.length; i++) {
        var c = n.childNodes[i];
        out.push({ t: 'pos', node: n, off: i });
        if (c.nodeType === 3) out.push({ t: 'text', node: c, s: c.data });
        else if (c.nodeType === 1) {
          if (c.tagName === 'BR') out.push({ t: 'br' });
          else if (BLOCKS[c.tagName]) { out.push({ t: 'bs' }); walk(c); out.push({ t: 'be' }); }
          else walk(c);
        }
      }
      out.push({ t: 'pos', node: n, off: n.childNodes.length });
    })(root);
    return out;
  }

  // placeholderBR reports whether the <br> at tk[i] only keeps its block
  // open (nothing follows it in the block), so it adds no line.
  function placeholderBR(tk, i) {
    for (var j = i + 1; j < tk.length; j++) {
      var k = tk[j];
      if (k.t === 'pos' || (k.t === 'text' && k.s === '')) continue;
      return k.t === 'be';
    }
    return true;
  }

  // readModel returns the lines of the editor DOM (each block one line, a
  // <br> or "\n" a line break) and the caret offset of (fNode, fOff) in the
  // joined text, or -1.
  function readModel(root, fNode, fOff) {
    var tk = tokens(root);
    var lines = [];
    var open = false, touched = false, total = 0, caret = -1;
    function newLine() {
      if (lines.length) total += 1;
      lines.push('');
      open = true;
      touched = false;
    }
    for (var i = 0; i < tk.length; i++) {
      var k = tk[i];
      switch (k.t) {
        case 'pos':
          if (caret < 0 && k.node === fNode && k.off === fOff) caret = open ? total : total + (lines.length ? 1 : 0);
          break;
        case 'text': {
          if (k.node === fNode && caret < 0 && k.s === '') caret = open ? total : total + (lines.length ? 1 : 0);
          if (k.s === '') break;
          if (!open) newLine();
          if (k.node === fNode && caret < 0) caret = total + Math.min(fOff, k.s.length);
          var parts = k.s.split('\n');
          for (var p = 0; p < parts.length; p++) {
            if (p > 0) newLine();
            lines[lines.length - 1] += parts[p];
            total += parts[p].length;
          }
          touched = true;
          break;
        }
        case 'br':
          if (placeholderBR(tk, i)) break;
          if (!open) newLine();
          newLine();
          break;
        case 'bs':
          if (!(open && !touched)) newLine();
          break;
        case 'be':
          open = false;
          break;
      }
    }
    if (!lines.length) lines.push('');
    var len = lines.join('\n').length;
    if (caret > len) caret = len;
    return { lines: lines, caret: caret };
  }

  var P_CLASS = 'selectable-text copyable-text';

  // makeEditor returns a Lexical-like editor: the compose box, or with
  // caption set the caption box of the attachment preview.
  function makeEditor(onChange, onEnter, caption) {
    var root = document.createElement('div');
    var attrs = caption
      ? [['contenteditable', 'true'], ['role', 'textbox'], ['data-lexical-editor', 'true'], ['tabindex', '0'],
        ['aria-label', 'Add a caption'], ['aria-placeholder', 'Add a caption'], ['spellcheck', 'true']]
      : [['contenteditable', 'true'], ['role', 'textbox'], ['data-lexical-editor', 'true'], ['tabindex', '10'],
        ['data-tab', '10'], ['aria-owns', 'emoji-suggestion'], ['aria-label', 'Type a message'],
        ['aria-placeholder', 'Type a message'], ['spellcheck', 'true']];
    attrs.forEach(function (a) { root.setAttribute(a[0], a[1]); });
    root.style.cssText = 'user-select: text; white-space: pre-wrap; word-break: break-word;';
    var lines = [''];

    function text() { return lines.join('\n'); }

    function render() {
      root.replaceChildren.apply(root, lines.map(function (l) {
        var p = document.createElement('p');
        p.setAttribute('class', P_CLASS);
        if (l) {
          var s = document.createElement('span');
          s.setAttribute('data-lexical-text', 'true');
          s.textContent = l;
          p.appendChild(s);
        } else {
          p.appendChild(document.createElement('br'));
        }
        return p;
      }));
    }

    function canonical() {
      if (root.childNodes.length !== lines.length) return false;
      for (var i = 0; i < lines.length; i++) {
        var p = root.childNodes[i];
        if (p.nodeType !== 1 || p.tagName !== 'P' || p.getAttribute('class') !== P_CLASS || p.attributes.length !== 1 || p.childNodes.length !== 1) return false;
        var c = p.firstChild;
        if (lines[i] === '') {
          if (c.nodeType !== 1 || c.tagName !== 'BR') return false;
        } else {
          if (c.nodeType !== 1 || c.tagName !== 'SPAN' || c.getAttribute('data-lexical-text') !== 'true' ||
            c.childNodes.length !== 1 || c.firstChild.nodeType !== 3 || c.firstChild.data !== lines[i]) return false;
        }
      }
      return true;
    }

    function setCaret(pos) {
      var li = 0;
      while (li < lines.length - 1 && pos > lines[li].length) { pos -= lines[li].length + 1; li++; }
      var p = root.childNodes[li];
      if (!p) return;
      var r = document.createRange();
      if (lines[li]) {
        var tn = p.firstChild.firstChild;
        r.setStart(tn, Math.max(0, Math.min(pos, tn.length)));
      } else {
        r.setStart(p, 0);
      }
      r.collapse(true);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(r);
    }

    // selection returns [start, end] offsets in the text, or null when the
    // selection is outside the editor.
    function selection() {
      var sel = window.getSelection();
      if (!sel.rangeCount) return null;
      var r = sel.getRangeAt(0);
      if (!root.contains(r.startContainer) || !root.contains(r.endContainer)) return null;
      var a = readModel(root, r.startContainer, r.startOffset).caret;
      var b = r.collapsed ? a : readModel(root, r.endContainer, r.endOffset).caret;
      if (a < 0 || b < 0) return null;
      return a <= b ? [a, b] : [b, a];
    }

    function changed() {
      onChange(text());
    }

    function insert(s) {
      if (!s) return;
      var range = selection();
      var t = text();
      if (!range) range = [t.length, t.length];
      var nt = t.slice(0, range[0]) + s + t.slice(range[1]);
      lines = nt.split('\n');
      render();
      if (document.activeElement === root) setCaret(range[0] + s.length);
      changed();
    }

    function sync() {
      var sel = window.getSelection();
      var fn = null, fo = 0;
      if (sel.rangeCount && root.contains(sel.focusNode)) { fn = sel.focusNode; fo = sel.focusOffset; }
      var m = readModel(root, fn, fo);
      lines = m.lines;
      if (!canonical()) {
        render();
        if (fn && m.caret >= 0) setCaret(m.caret);
      }
      changed();
    }

    // Enter is handled on keydown, as Lexical does: Enter sends, Shift+Enter
    // starts a new line, and the default is canceled. A CDP "char" event
    // that follows a keyDown (chromedp's SendKeys("\n") sends one) is a
    // separate key press, and the browser inserts its line break like any
    // typed character, as in the real page.
    root.addEventListener('keydown', function (e) {
      if (e.isComposing || e.keyCode === 229) return;
      if (e.key === 'Enter' || e.keyCode === 13) {
        e.preventDefault();
        if (e.shiftKey) insert('\n');
        else onEnter();
      }
    });
    root.addEventListener('beforeinput', function (e) {
      var t = e.inputType;
      if (t === 'formatBold' || t === 'formatItalic' || t === 'formatUnderline' || t === 'formatStrikeThrough') {
        e.preventDefault();
      }
    });
    root.addEventListener('input', sync);
    root.addEventListener('paste', function (e) {
      e.preventDefault();
      var dt = e.clipboardData;
      var s = dt ? dt.getData('text/plain') : '';
      insert(normNL(s));
    });
    root.addEventListener('drop', function (e) {
      e.preventDefault();
      var dt = e.dataTransfer;
      insert(normNL(dt ? dt.getData('text/plain') : ''));
    });
    root.addEventListener('focus', function () {
      var sel = window.getSelection();
      if (!sel.rangeCount || !root.contains(sel.getRangeAt(0).startContainer)) setCaret(text().length);
    });

    render();
    return {
      el: root,
      getText: text,
      setText: function (s) {
        lines = normNL(s).split('\n');
        render();
        if (document.activeElement === root) setCaret(text().length);
        changed();
      },
      focus: function () {
        root.focus();
        setCaret(text().length);
      }
    };
  }

  boot();
})();
