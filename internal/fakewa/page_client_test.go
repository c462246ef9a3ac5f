package fakewa

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakePage plays the page's script in Go: it holds the WebSocket of one
// page load and calls the /__wa/ endpoints.
type fakePage struct {
	t    *testing.T
	base string
	cid  string
	tab  string
	conn net.Conn

	mu     sync.Mutex
	events []map[string]any
	cond   chan struct{}
	closed chan struct{}
}

var pageSeq struct {
	sync.Mutex
	n int
}

func nextPageID() string {
	pageSeq.Lock()
	defer pageSeq.Unlock()
	pageSeq.n++
	return fmt.Sprintf("page%d", pageSeq.n)
}

// newTestServer serves s through httptest and closes both with the test.
func newTestServer(t *testing.T, opts ...Option) (*Server, string) {
	t.Helper()
	s := New(fastOptions(opts...)...)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		_ = s.Close()
		ts.Close()
	})
	return s, ts.URL
}

// connectPage opens the WebSocket of a new page load.
func connectPage(t *testing.T, base, tab, token string) *fakePage {
	t.Helper()
	p := &fakePage{t: t, base: base, cid: nextPageID(), tab: tab, cond: make(chan struct{}, 1), closed: make(chan struct{})}
	p.dial(token)
	t.Cleanup(p.close)
	return p
}

func (p *fakePage) dial(token string) {
	t := p.t
	u, err := url.Parse(p.base)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	keyRaw := make([]byte, 16)
	_, _ = rand.Read(keyRaw)
	key := base64.StdEncoding.EncodeToString(keyRaw)
	q := url.Values{"cid": {p.cid}, "tab": {p.tab}}
	if token != "" {
		q.Set("token", token)
	}
	req := "GET /__wa/ws?" + q.Encode() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key +
		"\r\nUser-Agent: " + desktopUA + "\r\n\r\n"
	_, err = conn.Write([]byte(req))
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, wsAccept(key), resp.Header.Get("Sec-WebSocket-Accept"))
	p.conn = conn
	go p.read(br)
}

func (p *fakePage) read(r *bufio.Reader) {
	defer close(p.closed)
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int(hdr[1] & 0x7F)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(r, ext[:]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(r, ext[:]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint64(ext[:]))
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		switch hdr[0] & 0x0F {
		case opText:
			var ev map[string]any
			if json.Unmarshal(payload, &ev) == nil {
				p.mu.Lock()
				p.events = append(p.events, ev)
				p.mu.Unlock()
				select {
				case p.cond <- struct{}{}:
				default:
				}
			}
		case opClose:
			return
		}
	}
}

// writeClientFrame sends a masked client frame.
func writeClientFrame(w io.Writer, op byte, fin bool, payload []byte) error {
	var b bytes.Buffer
	first := op
	if fin {
		first |= 0x80
	}
	b.WriteByte(first)
	switch n := len(payload); {
	case n < 126:
		b.WriteByte(0x80 | byte(n))
	case n <= 0xFFFF:
		b.WriteByte(0x80 | 126)
		_ = binary.Write(&b, binary.BigEndian, uint16(n))
	default:
		b.WriteByte(0x80 | 127)
		_ = binary.Write(&b, binary.BigEndian, uint64(n))
	}
	mask := [4]byte{1, 2, 3, 4}
	b.Write(mask[:])
	for i, c := range payload {
		b.WriteByte(c ^ mask[i%4])
	}
	_, err := w.Write(b.Bytes())
	return err
}

func (p *fakePage) close() {
	if p.conn != nil {
		_ = p.conn.Close()
		<-p.closed
	}
}

// next waits for the first not yet taken event of type typ and returns it.
func (p *fakePage) next(typ string) map[string]any {
	p.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		p.mu.Lock()
		for i, ev := range p.events {
			if ev["type"] == typ {
				p.events = append(p.events[:i:i], p.events[i+1:]...)
				p.mu.Unlock()
				return ev
			}
		}
		got := make([]string, 0, len(p.events))
		for _, ev := range p.events {
			got = append(got, fmt.Sprint(ev["type"]))
		}
		p.mu.Unlock()
		select {
		case <-p.cond:
		case <-deadline:
			p.t.Fatalf("page %s: no %q event; queued: %v", p.cid, typ, got)
		}
	}
}

// none asserts that no event of type typ arrives within d.
func (p *fakePage) none(typ string, d time.Duration) {
	p.t.Helper()
	time.Sleep(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range p.events {
		require.NotEqual(p.t, typ, ev["type"], "unexpected event %v", ev)
	}
}

// post calls a page endpoint and returns the status and the decoded body.
func (p *fakePage) post(path string, body map[string]any) (int, map[string]any) {
	p.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["cid"] = p.cid
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.base+path, "application/json", bytes.NewReader(b))
	require.NoError(p.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// get calls a page endpoint with query parameters.
func (p *fakePage) get(path string, q url.Values) (int, map[string]any) {
	p.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("cid", p.cid)
	resp, err := http.Get(p.base + path + "?" + q.Encode())
	require.NoError(p.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// linkVia runs scan (a Scan-like hook) while playing the page's part: it
// waits for "linked", acknowledges it and returns the login token.
func (p *fakePage) linkVia(scan func() error) string {
	p.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- scan() }()
	ev := p.next("linked")
	code, _ := p.post("/__wa/linked", nil)
	require.Equal(p.t, http.StatusNoContent, code)
	require.NoError(p.t, <-errc)
	return ev["token"].(string)
}

// loggedInPage connects a page and links it to phone.
func loggedInPage(t *testing.T, s *Server, base, phone string) (*fakePage, string) {
	t.Helper()
	p := connectPage(t, base, nextPageID(), "")
	require.Equal(t, false, p.next("auth")["ok"])
	ref := p.next("qr")["ref"].(string)
	tok := p.linkVia(func() error { return s.Scan(t.Context(), ref, phone) })
	return p, tok
}

// sendText sends a message as the page does and returns the answer.
func (p *fakePage) sendText(to, text string) (int, map[string]any) {
	p.t.Helper()
	return p.post("/__wa/send", map[string]any{"to": to, "text": text, "ck": strings.ToUpper(nextPageID())})
}
