// Package demo fills an empty data dir with a realistic demo account —
// programs, affiliates, clicks, leads and purchases over 90 days — for
// `spiffy demo`. It is a tool, imported by main.go only: it builds the
// accounts through package app and writes the bulk of the traffic straight
// to the store in large batches, which is why it takes both.
package demo
