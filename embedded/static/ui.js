// The admin UI's and the portal's behaviour. It lives here, served from
// /static/ui.js, and never inline in the pages, so that the pages'
// Content-Security-Policy can allow scripts from 'self' only (no
// 'unsafe-inline'): an injected <script> or on…= attribute does not run.
// Every part finds its elements by data- attributes.
(function () {
  'use strict';

  // <form data-confirm="Question?">: asks before the form is sent.
  document.addEventListener('submit', function (e) {
    var q = e.target.getAttribute && e.target.getAttribute('data-confirm');
    if (q && !window.confirm(q)) e.preventDefault();
  });

  // <input data-select>: a read-only value selected whole when focused,
  // ready to copy by hand.
  document.addEventListener('focusin', function (e) {
    if (e.target.matches && e.target.matches('input[data-select]')) e.target.select();
  });

  // [data-copy] buttons copy the input, textarea or <pre> beside them. They
  // stay hidden without the clipboard API; the field is still selectable.
  if (navigator.clipboard) {
    document.querySelectorAll('[data-copy]').forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-copy]');
    if (!b || !navigator.clipboard) return;
    var src = b.parentNode.querySelector('input, textarea, pre');
    var text = 'value' in src ? src.value : src.textContent;
    navigator.clipboard.writeText(text).then(function () {
      var label = b.textContent;
      b.textContent = 'Copied';
      setTimeout(function () { b.textContent = label; }, 1500);
    });
  });

  // The portal's [data-portal-copy="input id"] buttons, with a fallback to
  // execCommand where the clipboard API is missing (plain-HTTP installs).
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-portal-copy]');
    if (!b) return;
    var input = document.getElementById(b.getAttribute('data-portal-copy'));
    if (!input) return;
    var label = b.textContent;
    var done = function () {
      b.textContent = 'Copied!'; b.classList.add('is-copied');
      setTimeout(function () { b.textContent = label; b.classList.remove('is-copied'); }, 1600);
    };
    var fallback = function () { input.focus(); input.select(); try { document.execCommand('copy'); done(); } catch (err) {} };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(input.value).then(done, fallback); } else { fallback(); }
  });

  // The portal's sub-ID field (#sub, data-base = the referral link) shows
  // the link with &sub= as the affiliate types.
  var sub = document.getElementById('sub'), out = document.getElementById('sub-out'), link = document.getElementById('sub-link');
  if (sub && out && link) {
    sub.addEventListener('input', function () {
      var v = sub.value.trim(), base = sub.getAttribute('data-base'), i = base.indexOf('#');
      var head = i < 0 ? base : base.slice(0, i), frag = i < 0 ? '' : base.slice(i);
      out.hidden = v === '';
      link.value = v === '' ? base : head + '&sub=' + encodeURIComponent(v) + frag;
    });
  }
})();
