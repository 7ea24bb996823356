package store

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// IDLen is the length of every record id: 26 Crockford base32 characters
// (a ULID). The first 10 characters encode the creation time in milliseconds,
// so ids sort by time, both as strings and as key bytes.
const IDLen = 26

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var idState struct {
	sync.Mutex
	lastMS  uint64
	lastRnd [10]byte
}

// NewID returns a new ULID whose time part is t (in milliseconds). Ids made
// in the same millisecond by this process increase monotonically, so that a
// burst of writes keeps its order.
func NewID(t time.Time) string {
	ms := uint64(t.UnixMilli())
	var rnd [10]byte
	idState.Lock()
	if ms == idState.lastMS {
		rnd = idState.lastRnd
		for i := len(rnd) - 1; i >= 0; i-- { // increment the 80-bit random part
			rnd[i]++
			if rnd[i] != 0 {
				break
			}
		}
	} else {
		if _, err := rand.Read(rnd[:]); err != nil {
			panic("store: crypto/rand failed: " + err.Error())
		}
		rnd[0] &= 0x7f // leave room to increment without overflowing
	}
	idState.lastMS, idState.lastRnd = ms, rnd
	idState.Unlock()
	return encodeULID(ms, rnd)
}

// MinID is the smallest id that can be made at time t: a bound for range scans.
func MinID(t time.Time) string { return encodeULID(uint64(t.UnixMilli()), [10]byte{}) }

func encodeULID(ms uint64, rnd [10]byte) string {
	var b [16]byte
	binary.BigEndian.PutUint16(b[0:], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:], uint32(ms))
	copy(b[6:], rnd[:])
	// 128 bits -> 26 chars of 5 bits; the first char carries the top 3 bits.
	var out [IDLen]byte
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	for i := IDLen - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether s has the form of an id, so that handlers can answer
// "not found" without touching the store for garbage.
func ValidID(s string) bool {
	if len(s) != IDLen || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U') {
			return false
		}
	}
	return true
}

// IDTime returns the creation time encoded in a valid id.
func IDTime(id string) time.Time {
	var ms uint64
	for i := 0; i < 10 && i < len(id); i++ {
		ms = ms<<5 | uint64(indexOf(id[i]))
	}
	return time.UnixMilli(int64(ms)).UTC()
}

func indexOf(c byte) int {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return 0
}
