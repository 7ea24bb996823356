/*! SpiffyJS - Spiffy's affiliate tracking script. No dependencies, ES5.
 * Install: <script src="https://SPIFFY/spiffy.js" async></script> and the
 * queue stub from Settings. API:
 *   spiffy('referral')            -> the held referral id, or null
 *   spiffy('visitor')             -> the visitor id, or null
 *   spiffy('lead', {email, name}[, function (status, body) {}])
 *   spiffy('consent', true|false) -> with data-require-consent on the tag
 * Forms carrying data-spiffy-lead are captured on submit. Stripe Payment
 * Links (buy.stripe.com), <stripe-pricing-table> and <stripe-buy-button> get
 * the referral as their client_reference_id. data-api="/path" on the tag
 * sends tracking to that first-party path instead of the script's origin.
 * Events Spiffy did not take are kept and sent again on the next page view.
 */
(function (w, d) {
  'use strict';
  try {
    var REF = 'spiffy_ref', VID = 'spiffy_vid', DAY = 864e5, CT = 'text/plain;charset=UTF-8';
    var base = '', needConsent = false, consented = false, handled = false, inflight = false, replayed = false;
    // The server writes tracking.cookie_domain here. On a page under it the
    // server sets spiffy_ref and spiffy_vid (Set-Cookie outlives Safari's
    // 7-day cap on script-set cookies): requests carry credentials, and the
    // script reads the cookies but never rewrites them.
    var srvDomain = ''/*cookie_domain*/, srv = false, Q = 'spiffy_q', CLICK = '/t/click';
    var waiting = [], visitorId = null, cookieDomain = null, stamped = false, pending = false;
    var loc = w.location, own = Object.prototype.hasOwnProperty;

    var now = function () { return +new Date(); };
    var noop = function () {};

    // Storage. Every access may throw (cookies or storage blocked, sandboxed
    // frames), so each one is guarded and failure means "nothing stored".
    var lsGet = function (k) {
      try { return w.localStorage.getItem(k); } catch (e) { return null; }
    };
    var lsSet = function (k, v) {
      try {
        if (v === null) { w.localStorage.removeItem(k); } else { w.localStorage.setItem(k, v); }
      } catch (e) {}
    };
    var cookieGet = function (k) {
      try {
        var parts = d.cookie.split(/;\s*/), i;
        for (i = 0; i < parts.length; i++) {
          if (parts[i].indexOf(k + '=') === 0) { return decodeURIComponent(parts[i].slice(k.length + 1)) || null; }
        }
      } catch (e) {}
      return null;
    };
    var cookieWrite = function (k, v, exp, domain) {
      d.cookie = k + '=' + encodeURIComponent(v) + '; expires=' + exp.toUTCString() + '; path=/; SameSite=Lax' +
        (domain ? '; domain=' + domain : '') + (loc.protocol === 'https:' ? '; Secure' : '');
    };
    // The widest domain the browser accepts a cookie for (shop.com for
    // www.shop.com; public suffixes are refused), so that a referral made on
    // one subdomain counts on the others.
    var findDomain = function () {
      var host = loc.hostname, parts = host.split('.'), i, dom, probe = 'spiffy_probe';
      if (/^[\d.]+$/.test(host) || host.indexOf(':') >= 0) { return ''; }
      for (i = parts.length - 2; i > 0; i--) {
        dom = parts.slice(i).join('.');
        cookieWrite(probe, '1', new Date(now() + 6e4), dom);
        if (cookieGet(probe)) {
          cookieWrite(probe, '', new Date(0), dom);
          return dom;
        }
      }
      return '';
    };
    var cookieSet = function (k, v, exp) {
      try {
        if (cookieDomain === null) { cookieDomain = findDomain(); }
        cookieWrite(k, v, exp, cookieDomain);
      } catch (e) {}
    };
    // put keeps a value in a cookie and in localStorage (under the same
    // name, its expiry under name_exp); a null value removes them.
    var put = function (k, v, exp) {
      if (v === null) {
        cookieSet(k, '', new Date(0));
        try { cookieWrite(k, '', new Date(0), ''); } catch (e) {}
        lsSet(k, null);
        lsSet(k + '_exp', null);
        return;
      }
      if (!srv) { cookieSet(k, v, exp); }
      lsSet(k, v);
      lsSet(k + '_exp', String(+exp));
    };
    // get reads a value from its cookie, or from localStorage when the
    // cookie is gone (cleared, or capped by the browser) but the value is
    // still within its expiry.
    var get = function (k) {
      var v = cookieGet(k), exp;
      if (v) { return v; }
      v = lsGet(k);
      exp = +lsGet(k + '_exp');
      if (!v || !(exp > now())) { return null; }
      if (allowed() && !srv) { cookieSet(k, v, new Date(exp)); }
      return v;
    };
    var allowed = function () { return !needConsent || consented; };

    var randomID = function () {
      var c = w.crypto || w.msCrypto, a = null, s = '', i, chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
      try {
        if (c && c.getRandomValues && w.Uint8Array) { a = c.getRandomValues(new w.Uint8Array(22)); }
      } catch (e) {}
      for (i = 0; i < 22; i++) { s += chars.charAt((a ? a[i] : Math.floor(Math.random() * 256)) % 36); }
      return s;
    };
    // visitor returns the visitor id, making one (and refreshing its cookie
    // once per page) only when storing is allowed.
    var visitor = function () {
      if (visitorId) { return visitorId; }
      var v = get(VID);
      if (!allowed()) { return v; }
      visitorId = v || randomID();
      put(VID, visitorId, new Date(now() + 365 * DAY));
      return visitorId;
    };
    var referral = function () { return get(REF); };

    // Network. XHR with a text/plain body is a "simple" cross-origin request:
    // no preflight; credentials only for the server's cookies.
    var answer = function (cb, status, body) {
      if (cb) { try { cb(status, body); } catch (e) {} }
    };
    var post = function (path, data, cb) {
      try {
        var x = new w.XMLHttpRequest();
        x.open('POST', base + path, true);
        try { x.timeout = 10000; x.withCredentials = srv; } catch (e) {}
        x.setRequestHeader('Content-Type', CT);
        x.onreadystatechange = function () {
          if (x.readyState !== 4) { return; }
          var body = null;
          try { body = JSON.parse(x.responseText); } catch (e) {}
          answer(cb, x.status, body);
        };
        x.send(JSON.stringify(data));
      } catch (e) {
        answer(cb, 0, null);
      }
    };
    // beacon sends without waiting for an answer and survives the page
    // being left (a form submission): sendBeacon, else fetch keepalive.
    var beacon = function (path, data) {
      var body = JSON.stringify(data), n = w.navigator;
      try {
        if (n && n.sendBeacon && n.sendBeacon(base + path, body)) { return; }
      } catch (e) {}
      try {
        if (w.fetch) {
          w.fetch(base + path, { method: 'POST', body: body, keepalive: true, credentials: srv ? 'include' : 'omit',
            headers: { 'Content-Type': CT } })['catch'](noop);
          return;
        }
      } catch (e) {}
      post(path, data);
    };

    var params = function () {
      var out = {}, q = loc.search.replace(/^\?/, '').split('&'), i, kv, k;
      var dec = function (s) {
        try { return decodeURIComponent((s || '').replace(/\+/g, ' ')); } catch (e) { return ''; }
      };
      for (i = 0; i < q.length; i++) {
        kv = q[i].split('=');
        k = dec(kv[0]);
        if (k && !own.call(out, k)) { out[k] = dec(kv.slice(1).join('=')); }
      }
      return out;
    };

    // The retry queue: every event carries a client event id (eid), and one
    // the server did not take (network error, 5xx, 429) stays in
    // localStorage, at most 20 for at most 3 days, to be sent again with
    // the same eid on the next page view; the server answers a repeat with
    // its first answer and stores nothing twice.
    var backlog = function () {
      var q = null;
      try { q = JSON.parse(lsGet(Q)); } catch (e) {}
      return q && q.push ? q : [];
    };
    var keep = function (ev, yes) {
      var q = backlog(), out = [], i;
      for (i = 0; i < q.length; i++) {
        if (q[i] && q[i].b && q[i].b.eid !== ev.b.eid && q[i].at > now() - 3 * DAY) { out.push(q[i]); }
      }
      if (yes && allowed()) { out.push(ev); }
      lsSet(Q, out.length ? JSON.stringify(out.slice(-20)) : null);
    };
    var event = function (path, body) {
      body.eid = randomID();
      return { p: path, b: body, at: now() };
    };
    var send = function (ev, cb) {
      post(ev.p, ev.b, function (status, r) {
        keep(ev, !status || status === 429 || status > 499);
        answer(cb, status, r);
      });
    };
    // got keeps the referral a click's answer (new or repeated) says to keep.
    var got = function (status, r) {
      if ((status === 201 || status === 200) && r && r.referral && allowed()) {
        var exp = new Date(Date.parse(r.expires_at));
        if (isNaN(+exp)) { exp = new Date(now() + 30 * DAY); }
        put(REF, r.referral, exp);
        later();
      }
    };
    // resend sends the queued events in order, stopping at the first the
    // server still does not take.
    var resend = function (list, i, done) {
      var ev = list[i];
      if (!ev) { return done(); }
      if (!(ev.at > now() - 3 * DAY) || !ev.b) { return resend(list, i + 1, done); }
      send(ev, function (status, r) {
        if (ev.p === CLICK) { got(status, r); }
        if (!status || status === 429 || status > 499) { return done(); }
        resend(list, i + 1, done);
      });
    };

    var flush = function () {
      var list = waiting, i;
      waiting = [];
      for (i = 0; i < list.length; i++) { lead(list[i][0], list[i][1]); }
    };

    // track posts the page's referral code, if any, once per page, and keeps
    // the referral the server says to keep.
    var track = function () {
      var p = params();
      var code = (own.call(p, 'ref') && p.ref) || (own.call(p, 'via') && p.via) || (own.call(p, 'aff') && p.aff);
      if (handled || !code || !allowed()) { return; }
      handled = true;
      inflight = true;
      send(event(CLICK, {
        ref: code, sub: own.call(p, 'sub') ? p.sub : '', prev: referral() || '',
        url: loc.href, referrer: d.referrer || '', vid: visitor() || ''
      }), function (status, r) {
        inflight = false;
        got(status, r);
        flush();
      });
    };
    // run sends what earlier pages could not, then the page's own click.
    var run = function () {
      if (!allowed()) { return; }
      if (replayed) { return track(); }
      replayed = true;
      inflight = true;
      resend(backlog(), 0, function () {
        inflight = false;
        track();
        flush();
      });
    };

    // lead reports an opt-in. Without a referral there is nothing to
    // attribute, so nothing (no personal data) is sent at all. With a
    // callback it waits for the answer; otherwise it is sent as a beacon.
    var lead = function (data, cb, immediately) {
      if (!allowed()) { return answer(cb, 0, null); }
      if (inflight && !immediately) { waiting.push([data, cb]); return; }
      var ref = referral();
      if (!ref) { return answer(cb, 202, { attributed: false }); }
      data = data || {};
      var ev = event('/t/lead', { email: String(data.email || ''), name: String(data.name || ''), referral: ref,
        vid: visitor() || '', url: loc.href });
      if (cb) { return send(ev, cb); }
      // A beacon's fate is unknown: it is queued too, and the next page
      // view's resend (a repeat, answered 200) takes it off the queue.
      keep(ev, true);
      beacon(ev.p, ev.b);
    };

    // A submit of a form marked data-spiffy-lead: read the email field and,
    // when there is one, a name field, and send them as a beacon. Nothing
    // here may delay or stop the form's own submission.
    var onSubmit = function (e) {
      try {
        var f = e.target || e.srcElement, els, i, el, t, n, email = '', name = '', named = false;
        if (!f || !f.getAttribute || f.getAttribute('data-spiffy-lead') === null) { return; }
        els = f.elements;
        for (i = 0; i < els.length; i++) {
          el = els[i];
          t = String(el.type || '').toLowerCase();
          n = String(el.name || el.id || '').toLowerCase();
          if (!el.value || t === 'hidden' || t === 'password') { continue; }
          if (!email && (t === 'email' || /e-?mail/.test(n))) {
            email = el.value;
          } else if (!named && /name/.test(n) && !/user|company|e-?mail/.test(n)) {
            name = el.value;
            named = n === 'name' || n === 'full_name' || n === 'fullname';
          }
        }
        if (email) { lead({ email: email, name: name }, null, true); }
      } catch (err) {}
    };

    // Stripe's no-code checkouts take the referral as client_reference_id,
    // so a merchant without a server needs no code. A value the merchant set
    // is left alone: only an empty one or ours (data-spiffy-ref) is written,
    // or removed when consent is withdrawn.
    var CRI = 'client_reference_id', MARK = 'data-spiffy-ref';
    // param: a link's client_reference_id, and the link with it set to v.
    var param = function (href, v) {
      var hash = '', i = href.indexOf('#'), parts = [], out = [], old = '', j, kv;
      if (i >= 0) { hash = href.slice(i); href = href.slice(0, i); }
      i = href.indexOf('?');
      if (i >= 0) { parts = href.slice(i + 1).split('&'); href = href.slice(0, i); }
      for (j = 0; j < parts.length; j++) {
        kv = parts[j].split('=');
        if (kv[0] === CRI) {
          try { old = decodeURIComponent(kv.slice(1).join('=')); } catch (e) { old = kv[1]; }
        } else if (parts[j]) {
          out.push(parts[j]);
        }
      }
      if (v) { out.push(CRI + '=' + encodeURIComponent(v)); }
      return [old, href + (out.length ? '?' + out.join('&') : '') + hash];
    };
    var stamp = function () {
      var v = allowed() ? referral() : null, els, i, el, link, p, old;
      if (v && !/^[\w-]{1,200}$/.test(v)) { v = null; }
      if (!v && !stamped) { return; }
      els = d.querySelectorAll('a[href^="https://buy.stripe.com/"],stripe-pricing-table,stripe-buy-button');
      for (i = 0; i < els.length; i++) {
        el = els[i];
        link = el.tagName === 'A';
        p = link ? param(el.getAttribute('href'), v) : null;
        old = (link ? p[0] : el.getAttribute('client-reference-id')) || '';
        if (old === (v || '') || (old && old !== el.getAttribute(MARK))) { continue; }
        if (link) {
          el.setAttribute('href', p[1]);
        } else if (v) {
          el.setAttribute('client-reference-id', v);
        } else {
          el.removeAttribute('client-reference-id');
        }
        if (v) { el.setAttribute(MARK, v); stamped = true; } else { el.removeAttribute(MARK); }
      }
    };
    // later stamps once per burst of DOM changes, for elements added later.
    var later = function () {
      if (pending) { return; }
      pending = true;
      w.setTimeout(function () {
        pending = false;
        try { stamp(); } catch (e) {}
      }, 0);
    };

    var consent = function (yes) {
      if (yes) {
        consented = true;
        run();
        later();
        return;
      }
      // Withdrawn (or refused without data-require-consent): clear and stop
      // storing for the rest of this page.
      needConsent = true;
      consented = false;
      visitorId = null;
      waiting = [];
      put(REF, null);
      put(VID, null);
      lsSet(Q, null);
      later();
    };

    var api = function (cmd, a, b) {
      try {
        switch (cmd) {
        case 'referral': return referral();
        case 'visitor': return allowed() ? visitor() : get(VID);
        case 'lead': lead(a, typeof b === 'function' ? b : null); return;
        case 'consent': consent(a === true || a === 'true' || a === 1); return;
        }
      } catch (e) {}
      return null;
    };

    // Our own origin, from our src, so /t/* goes to Spiffy and not to the
    // merchant's site.
    var me = d.currentScript, all, i, re = /\/spiffy\.js([?#].*)?$/;
    if (!me || !re.test(me.src || '')) {
      me = null;
      all = d.getElementsByTagName('script');
      for (i = all.length - 1; i >= 0; i--) {
        if (re.test(all[i].src || '')) { me = all[i]; break; }
      }
    }
    if (me) {
      base = (me.getAttribute('data-api') || me.src.replace(re, '')).replace(/\/+$/, '');
      needConsent = me.getAttribute('data-require-consent') !== null;
    }
    i = loc.hostname.toLowerCase();
    if (srvDomain && (i === srvDomain || i.slice(-srvDomain.length - 1) === '.' + srvDomain)) {
      srv = true;
      cookieDomain = srvDomain;
    }

    var queued = w.spiffy && w.spiffy.q;
    w.spiffy = api;
    if (d.addEventListener) {
      d.addEventListener('submit', onSubmit, true);
      d.addEventListener('DOMContentLoaded', later);
    }
    try {
      new w.MutationObserver(later).observe(d.documentElement, { childList: true, subtree: true, attributes: true,
        attributeFilter: ['href', 'client-reference-id'] });
    } catch (e) {}
    try { run(); } catch (e) {}
    later();
    if (queued && queued.length) {
      for (i = 0; i < queued.length; i++) { api.apply(null, queued[i]); }
    }
  } catch (e) {}
})(window, document);
