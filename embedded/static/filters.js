// On a phone the filter cards (<details data-filters-fold open>) start
// folded behind their "Filters" summary, so the list comes first; they
// stay open when the page was asked for with filters, and everywhere
// without this script.
(function () {
  'use strict';
  if (!window.matchMedia || !window.matchMedia('(max-width: 720px)').matches || window.location.search) return;
  document.querySelectorAll('details[data-filters-fold]').forEach(function (d) { d.open = false; });
})();
