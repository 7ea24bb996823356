package store

import (
	"encoding/binary"
	"errors"
	"time"
)

// The high-volume records (clicks, leads, purchases) use this compact binary
// encoding instead of JSON: a full scan of a million leads for a CSV export
// spends most of its time decoding, and this is several times faster than
// encoding/json. Each record starts with a version byte so fields can be
// added later; decoders accept shorter (older) records and leave the missing
// fields zero.

var errCorrupt = errors.New("store: corrupt record")

type encoder struct{ b []byte }

func newEncoder(version byte, sizeHint int) *encoder {
	e := &encoder{b: make([]byte, 0, sizeHint)}
	e.b = append(e.b, version)
	return e
}

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) int(v int64) { e.b = binary.AppendVarint(e.b, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// time encodes Unix microseconds; the zero time encodes as 0.
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.int(0)
		return
	}
	e.int(t.UnixMicro())
}

type decoder struct {
	b       []byte
	version byte
	err     error
}

func newDecoder(b []byte) *decoder {
	if len(b) == 0 {
		return &decoder{err: errCorrupt}
	}
	return &decoder{b: b[1:], version: b[0]}
}

// more reports whether fields remain: older records simply end earlier.
func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

func (d *decoder) str() string {
	if !d.more() {
		return ""
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || uint64(len(d.b)-k) < n {
		d.err = errCorrupt
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}

func (d *decoder) int() int64 {
	if !d.more() {
		return 0
	}
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) bool() bool {
	if !d.more() {
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

func (d *decoder) time() time.Time {
	us := d.int()
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
