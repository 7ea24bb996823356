// Affiliate pickers: an <input data-suggest="URL" list="ID"> gets its
// <datalist> filled with the affiliates the server finds for what is typed
// (GET URL?q= → {"data":[{"id","name","email","code"}]}). Picking one puts
// its email in the field; the server resolves an email, a referral code or
// an id, so the form works the same without this script.
(function () {
  'use strict';
  function wire(input) {
    var list = document.getElementById(input.getAttribute('list'));
    if (!list || input.dataset.suggestWired) return;
    input.dataset.suggestWired = '1';
    var timer = 0, asked = '', pending = null;
    function fill(items) {
      list.textContent = '';
      items.forEach(function (s) {
        var o = document.createElement('option');
        o.value = s.email;
        o.label = s.name + (s.code ? ' · ' + s.code : '');
        o.textContent = o.label;
        list.appendChild(o);
      });
    }
    function ask() {
      var q = input.value.trim();
      if (q === asked) return;
      asked = q;
      if (pending) pending.abort();
      if (!q) { fill([]); return; }
      pending = window.AbortController ? new AbortController() : null;
      fetch(input.getAttribute('data-suggest') + '?q=' + encodeURIComponent(q), {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        signal: pending ? pending.signal : undefined
      }).then(function (r) { return r.ok ? r.json() : { data: [] }; })
        .then(function (body) { if (q === asked) fill(body.data || []); })
        .catch(function () { /* aborted or offline: the typed text still submits */ });
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 120);
    });
  }
  function wireAll() {
    Array.prototype.forEach.call(document.querySelectorAll('input[data-suggest][list]'), wire);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wireAll);
  else wireAll();
})();
