// Package store owns Spiffy's persistent state. It is the only package that
// imports Badger: it defines the record types, the key layout (keys.go is the
// schema), secondary indexes, unique keys, counters, migrations, backups and
// value-log GC.
//
// Every write goes through one writer goroutine (see writer.go) that applies
// the operations of many callers in a single Badger transaction and answers
// each caller only after that transaction is committed and synced to disk.
// Reads use ordinary read-only Badger transactions and never wait for the
// writer.
package store
