package chromedpdriver

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

const proxyUser, proxyPass = "wauser", "s3cret-Pa55"

// testProxy is a proxy written for the tests: it counts what went
// through it.
type testProxy struct {
	ln   net.Listener
	used atomic.Int64
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// stop closes the proxy and its connections, and waits for them.
func (p *testProxy) stop() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *testProxy) addr() string { return p.ln.Addr().String() }

func startTestProxy(t *testing.T, serve func(p *testProxy, c net.Conn)) *testProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &testProxy{ln: ln, conns: map[net.Conn]bool{}}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns[c] = true
			p.mu.Unlock()
			p.wg.Go(func() {
				defer c.Close()
				serve(p, c)
			})
		}
	})
	t.Cleanup(p.stop)
	return p
}

// pipe copies both ways until both sides end.
func pipe(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(a, b); a.Close() })
	wg.Go(func() { _, _ = io.Copy(b, a); b.Close() })
	wg.Wait()
}

// serveHTTPProxy is an HTTP proxy with Basic auth: CONNECT tunnels and
// absolute-URI requests.
func serveHTTPProxy(p *testProxy, c net.Conn) {
	br := bufio.NewReader(c)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(proxyUser+":"+proxyPass))
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.Header.Get("Proxy-Authorization") != want {
			_, _ = io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
			continue
		}
		p.used.Add(1)
		if req.Method == http.MethodConnect {
			up, err := net.Dial("tcp", req.Host)
			if err != nil {
				_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			pipe(&bufConn{Conn: c, r: br}, up)
			return
		}
		req.RequestURI = ""
		req.Header.Del("Proxy-Authorization")
		req.Header.Del("Proxy-Connection")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
			return
		}
		err = resp.Write(c)
		resp.Body.Close()
		if err != nil {
			return
		}
	}
}

// bufConn reads what the bufio.Reader holds before the connection.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// serveSOCKS5 is a SOCKS5 server that requires username and password.
func serveSOCKS5(p *testProxy, c net.Conn) {
	buf := make([]byte, 512)
	if _, err := io.ReadFull(c, buf[:2]); err != nil || buf[0] != 5 {
		return
	}
	if _, err := io.ReadFull(c, buf[:buf[1]]); err != nil {
		return
	}
	_, _ = c.Write([]byte{5, 2})
	if _, err := io.ReadFull(c, buf[:2]); err != nil {
		return
	}
	user := make([]byte, buf[1])
	io.ReadFull(c, user)
	io.ReadFull(c, buf[:1])
	pass := make([]byte, buf[0])
	io.ReadFull(c, pass)
	if string(user) != proxyUser || string(pass) != proxyPass {
		_, _ = c.Write([]byte{1, 1})
		return
	}
	_, _ = c.Write([]byte{1, 0})
	req, err := readSocksAddr(c, 3)
	if err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		host = net.IP(req[4:8]).String()
	case 3:
		host = string(req[5 : 5+int(req[4])])
	case 4:
		host = net.IP(req[4:20]).String()
	}
	port := binary.BigEndian.Uint16(req[len(req)-2:])
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		_, _ = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	p.used.Add(1)
	_, _ = c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	pipe(c, up)
}

func launchProxied(t *testing.T, p *Pool, proxy string, d time.Duration) (*Session, *recorder, error) {
	t.Helper()
	rec := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ws, err := p.Launch(ctx, wasend.LaunchRequest{Proxy: proxy, OnEvent: rec.add})
	if err != nil {
		return nil, rec, err
	}
	return ws.(*Session), rec, nil
}

// TestProxy loads the imitation through an HTTP proxy with Basic auth
// (answered through the Fetch domain) and a SOCKS5 proxy with username
// and password (through the local relay), in both modes, and checks that
// a wrong password or a dead proxy fails the launch quickly with
// wasend.ErrProxy, and that the password reaches no log and no error.
func TestProxy(t *testing.T) {
	t.Parallel()
	_, base := startFake(t)
	httpProxy := startTestProxy(t, serveHTTPProxy)
	socksProxy := startTestProxy(t, serveSOCKS5)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := dead.Addr().String()
	dead.Close()

	for _, mode := range []Mode{Persistent, Ephemeral} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			p, logs := testPool(t, base, WithMode(mode))
			for _, c := range []struct {
				name  string
				proxy string
				tp    *testProxy
			}{
				{"http", "http://" + proxyUser + ":" + proxyPass + "@" + httpProxy.addr(), httpProxy},
				{"socks5", "socks5://" + proxyUser + ":" + proxyPass + "@" + socksProxy.addr(), socksProxy},
			} {
				t.Run(c.name, func(t *testing.T) {
					before := c.tp.used.Load()
					s, rec, err := launchProxied(t, p, c.proxy, 30*time.Second)
					require.NoError(t, err)
					defer s.Close(context.Background())
					rec.waitFrom(t, 0, 20*time.Second, "qr", isQR)
					assert.Greater(t, c.tp.used.Load(), before, "the page came through the proxy")
				})
			}
			for _, c := range []struct{ name, proxy string }{
				{"http wrong password", "http://" + proxyUser + ":wrong-" + proxyPass + "@" + httpProxy.addr()},
				{"socks5 wrong password", "socks5://" + proxyUser + ":wrong-" + proxyPass + "@" + socksProxy.addr()},
				{"dead http", "http://" + proxyUser + ":" + proxyPass + "@" + deadAddr},
				{"dead socks5", "socks5://" + deadAddr},
				{"bad scheme", "ftp://" + proxyUser + ":" + proxyPass + "@" + deadAddr},
			} {
				t.Run(c.name, func(t *testing.T) {
					start := time.Now()
					_, _, err := launchProxied(t, p, c.proxy, 30*time.Second)
					require.ErrorIs(t, err, wasend.ErrProxy)
					assert.Less(t, time.Since(start), 10*time.Second, "quickly, never a hang")
					assert.NotContains(t, err.Error(), proxyPass)
				})
			}
			t.Run("proxy lost", func(t *testing.T) {
				// The proxy goes away under a running session: its next page
				// load fails, and the session reports ErrProxy.
				tp := startTestProxy(t, serveHTTPProxy)
				s, rec, err := launchProxied(t, p, "http://"+proxyUser+":"+proxyPass+"@"+tp.addr(), 30*time.Second)
				require.NoError(t, err)
				defer s.Close(context.Background())
				rec.waitFrom(t, 0, 20*time.Second, "qr", isQR)
				tp.stop()
				_, err = chromedp.Run(s.current().ctx, chromedp.Evaluate[bool]("location.reload(), true"))
				require.NoError(t, err)
				rec.waitFrom(t, 0, 20*time.Second, "error", isStatus(wasend.ContextError, wasend.ErrProxy))
			})
			assert.NotContains(t, logs.String(), proxyPass, "no log line holds the password")
			assert.Contains(t, logs.String(), "***@", "the masked proxy is logged")
		})
	}
}
