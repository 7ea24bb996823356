// Package export writes Spiffy's CSV files: the one RFC 4180 dialect with
// its formula guard (csv.go), the merchant and portal column sets, the
// background exports that the admin starts and downloads later (runner.go),
// and the scrubbing of a person's rows from files already written
// (erase.go). It reads through the store and knows nothing of the rules
// that decide who may export what: package app does.
package export
