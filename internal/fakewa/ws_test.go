package fakewa

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipeWS returns a server side wsConn and the client end of a pipe.
func pipeWS(t *testing.T) (*wsConn, net.Conn) {
	t.Helper()
	srv, cli := net.Pipe()
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return &wsConn{conn: srv, r: bufio.NewReader(srv), w: bufio.NewWriter(srv)}, cli
}

func TestWSAccept(t *testing.T) {
	// The example of RFC 6455, section 1.3.
	assert.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", wsAccept("dGhlIHNhbXBsZSBub25jZQ=="))
}

func TestWSReadMessage(t *testing.T) {
	tests := []struct {
		name   string
		frames func(w io.Writer)
		want   string
		err    bool
	}{
		{"short text", func(w io.Writer) { _ = writeClientFrame(w, opText, true, []byte("hi")) }, "hi", false},
		{"16 bit length", func(w io.Writer) { _ = writeClientFrame(w, opText, true, bytes.Repeat([]byte("a"), 300)) }, strings.Repeat("a", 300), false},
		{"64 bit length", func(w io.Writer) { _ = writeClientFrame(w, opText, true, bytes.Repeat([]byte("b"), 70000)) }, strings.Repeat("b", 70000), false},
		{"fragmented", func(w io.Writer) {
			_ = writeClientFrame(w, opText, false, []byte("he"))
			_ = writeClientFrame(w, opContinuation, false, []byte("ll"))
			_ = writeClientFrame(w, opContinuation, true, []byte("o"))
		}, "hello", false},
		{"unmasked", func(w io.Writer) { _, _ = w.Write([]byte{0x81, 0x02, 'h', 'i'}) }, "", true},
		{"stray continuation", func(w io.Writer) { _ = writeClientFrame(w, opContinuation, true, []byte("x")) }, "", true},
		{"reserved bits", func(w io.Writer) { _, _ = w.Write([]byte{0xC1, 0x80, 0, 0, 0, 0}) }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, cli := pipeWS(t)
			go tt.frames(cli)
			op, msg, err := c.ReadMessage()
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, byte(opText), op)
			assert.Equal(t, tt.want, string(msg))
		})
	}
}

func TestWSPingAndClose(t *testing.T) {
	c, cli := pipeWS(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage()
		done <- err
	}()
	require.NoError(t, writeClientFrame(cli, opPing, true, []byte("p")))
	r := bufio.NewReader(cli)
	hdr := make([]byte, 3)
	_, err := io.ReadFull(r, hdr)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x80 | opPong, 1, 'p'}, hdr, "a ping gets a pong with the same payload")

	require.NoError(t, writeClientFrame(cli, opClose, true, []byte{0x03, 0xE8}))
	_, err = io.ReadFull(r, hdr[:2])
	require.NoError(t, err)
	assert.Equal(t, []byte{0x80 | opClose, 2}, hdr[:2])
	assert.ErrorIs(t, <-done, io.EOF)
}

func TestWSWriteText(t *testing.T) {
	for _, n := range []int{5, 200, 70000} {
		c, cli := pipeWS(t)
		payload := bytes.Repeat([]byte("z"), n)
		go func() { _ = c.WriteText(payload) }()
		r := bufio.NewReader(cli)
		var hdr [2]byte
		_, err := io.ReadFull(r, hdr[:])
		require.NoError(t, err)
		assert.Equal(t, byte(0x80|opText), hdr[0])
		assert.Zero(t, hdr[1]&0x80, "server frames are not masked")
		ext := map[byte]int{126: 2, 127: 8}[hdr[1]]
		_, err = io.ReadFull(r, make([]byte, ext))
		require.NoError(t, err)
		got := make([]byte, n)
		_, err = io.ReadFull(r, got)
		require.NoError(t, err)
		assert.Equal(t, payload, got)
	}
}
