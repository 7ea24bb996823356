// The portal's "Send test event" (<form data-webhook-test="result id">):
// posts with fetch and shows the delivery in place — the status code and
// how long it took, or the error — polling the message while the
// dispatcher has not tried it yet. Without this script the form posts and
// the page reloads with a notice, as before.
(function () {
  'use strict';
  var pollEvery = 500, pollFor = 30000; // past webhooks.timeout's default (10 s)

  function show(out, text, state) {
    out.textContent = text;
    out.className = 'wh-test-result' + (state ? ' is-' + state : '');
  }

  function describe(d) {
    if (d.status === 'delivered') {
      return ['Delivered: ' + d.status_code + ' in ' + d.latency_ms + ' ms', 'ok'];
    }
    var why = d.status_code ? 'answered ' + d.status_code : (d.error || 'no answer');
    if (d.status === 'failed') return ['Failed: ' + why, 'error'];
    return ['Not delivered: ' + why + '. It is retried on the usual schedule.', 'error'];
  }

  function poll(out, url, until) {
    fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.status === 'pending' && d.attempts === 0) {
          if (Date.now() > until) return show(out, 'Queued: not tried yet. Its delivery shows in the log below.', '');
          return setTimeout(function () { poll(out, url, until); }, pollEvery);
        }
        var r = describe(d);
        show(out, r[0], r[1]);
      })
      .catch(function () { show(out, 'Could not read the delivery; reload the page to see it.', 'error'); });
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    var outID = form.getAttribute && form.getAttribute('data-webhook-test');
    var out = outID && document.getElementById(outID);
    if (!out || !window.fetch || e.defaultPrevented) return;
    e.preventDefault();
    var button = form.querySelector('button');
    button.disabled = true;
    show(out, 'Sending a test event…', '');
    fetch(form.action, {
      method: 'POST', body: new FormData(form), credentials: 'same-origin',
      headers: { Accept: 'application/json' }
    }).then(function (r) {
      return r.json().then(function (d) { return { ok: r.ok, d: d }; });
    }).then(function (res) {
      if (!res.ok) return show(out, res.d.message || 'The test event was not sent.', 'error');
      poll(out, res.d.status_url, Date.now() + pollFor);
    }).catch(function () {
      show(out, 'The test event could not be sent; check your connection.', 'error');
    }).then(function () { button.disabled = false; });
  });
})();
