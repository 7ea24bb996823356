// Package views holds the composite views of the admin and portal pages:
// each built from store reads in one read transaction — a page's rows with
// the names they refer to, its counts and totals — so the parts of a page
// agree. The views are read models, not rules: package app validates what
// a page asks for (and who may see it), opens the read transaction and
// calls the Read functions here; the views that need no checking are read
// through a Reader. Like every package under app, views never imports app.
package views
