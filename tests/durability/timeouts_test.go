package durability

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/spiffy/spiffy/tests/internal/binary"
)

// A client that trickles its request body one byte at a time cannot hold
// a connection past http.read_timeout (contract §12).
func TestSlowBodyIsCutAtTheReadTimeout(t *testing.T) {
	srv := binary.Start(t, spiffyBin, t.TempDir(), "--http-read-timeout", "1s")
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.Base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write([]byte("POST /t/lead HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan time.Duration, 1)
	go func() {
		// The server answers (or just closes) once the read deadline hits;
		// reading to the end tells when the connection is gone.
		r := bufio.NewReader(conn)
		for {
			if _, err := r.ReadByte(); err != nil {
				closed <- time.Since(start)
				return
			}
		}
	}()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 200; i++ {
		select {
		case d := <-closed:
			if d > 5*time.Second {
				t.Fatalf("connection held for %s with a 1s read timeout", d)
			}
			return
		case <-tick.C:
			_, _ = conn.Write([]byte("{"))
		}
	}
	t.Fatal("the server kept reading a body trickled for a minute")
}
