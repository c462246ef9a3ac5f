package chromedpdriver

// A local SOCKS5 relay for a SOCKS5 proxy with credentials, which Chrome
// cannot send: the browser talks SOCKS5 without auth to 127.0.0.1, and the
// relay talks SOCKS5 with username and password (RFC 1928, RFC 1929) to
// the upstream proxy, then copies bytes both ways. It lives as long as its
// session.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// socksRelay is a running relay.
type socksRelay struct {
	ln         net.Listener
	upstream   string
	user, pass string
	log        *slog.Logger

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newSocksRelay(upstream, user, pass string, log *slog.Logger) (*socksRelay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &socksRelay{ln: ln, upstream: upstream, user: user, pass: pass, log: log, conns: map[net.Conn]struct{}{}}
	r.wg.Go(r.serve)
	return r, nil
}

func (r *socksRelay) addr() string { return r.ln.Addr().String() }

// close stops the relay and its connections, and waits for them.
func (r *socksRelay) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	_ = r.ln.Close()
	for c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// track registers a connection, or closes it when the relay is closed.
func (r *socksRelay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		_ = c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *socksRelay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	_ = c.Close()
}

func (r *socksRelay) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		if !r.track(c) {
			return
		}
		r.wg.Go(func() {
			defer r.untrack(c)
			if err := r.relay(c); err != nil {
				r.log.Debug("socks relay", "err", err)
			}
		})
	}
}

// relay serves one browser connection.
func (r *socksRelay) relay(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(proxyDialTimeout * 2))
	// Greeting: VER NMETHODS METHODS; the relay wants no auth (0).
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != 5 {
		return errors.New("bad greeting")
	}
	if _, err := io.CopyN(io.Discard, c, int64(hdr[1])); err != nil {
		return err
	}
	if _, err := c.Write([]byte{5, 0}); err != nil {
		return err
	}
	// Request: VER CMD RSV ATYP DST.ADDR DST.PORT, passed on as it is.
	req, err := readSocksAddr(c, 3)
	if err != nil {
		return err
	}
	if req[1] != 1 {
		_, _ = c.Write([]byte{5, 7, 0, 1, 0, 0, 0, 0, 0, 0}) // command not supported
		return errors.New("not a CONNECT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), proxyDialTimeout)
	up, err := socksDial(ctx, r.upstream, r.user, r.pass)
	cancel()
	if err != nil {
		_, _ = c.Write([]byte{5, 1, 0, 1, 0, 0, 0, 0, 0, 0})
		return err
	}
	r.mu.Lock()
	r.conns[up] = struct{}{}
	r.mu.Unlock()
	defer r.untrack(up)
	_ = up.SetDeadline(time.Now().Add(proxyDialTimeout))
	if _, err := up.Write(req); err != nil {
		return err
	}
	reply, err := readSocksAddr(up, 3)
	if err != nil {
		return err
	}
	if _, err := c.Write(reply); err != nil || reply[1] != 0 {
		return fmt.Errorf("upstream reply %d", reply[1])
	}
	_ = c.SetDeadline(time.Time{})
	_ = up.SetDeadline(time.Time{})
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
	return nil
}

// readSocksAddr reads n header bytes then ATYP, the address and the port,
// and returns them all.
func readSocksAddr(c io.Reader, n int) ([]byte, error) {
	b := make([]byte, n+1)
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	var alen int
	switch b[n] {
	case 1:
		alen = 4
	case 4:
		alen = 16
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return nil, err
		}
		b = append(b, l[0])
		alen = int(l[0])
	default:
		return nil, fmt.Errorf("address type %d", b[n])
	}
	rest := make([]byte, alen+2)
	if _, err := io.ReadFull(c, rest); err != nil {
		return nil, err
	}
	return append(b, rest...), nil
}

// socksDial connects to a SOCKS5 proxy and authenticates, with username
// and password when user is set.
func socksDial(ctx context.Context, addr, user, pass string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if err := socksAuth(c, user, pass); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// socksAuth runs the method negotiation and the username/password
// sub-negotiation.
func socksAuth(c net.Conn, user, pass string) error {
	method := byte(0)
	if user != "" {
		method = 2
	}
	if _, err := c.Write([]byte{5, 1, method}); err != nil {
		return err
	}
	var rep [2]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil || rep[0] != 5 {
		return errors.New("not a SOCKS5 proxy")
	}
	if rep[1] != method {
		return errors.New("the proxy refused the authentication method")
	}
	if user == "" {
		return nil
	}
	if len(user) > 255 || len(pass) > 255 {
		return errors.New("credentials too long")
	}
	msg := append([]byte{1, byte(len(user))}, user...)
	msg = append(append(msg, byte(len(pass))), pass...)
	if _, err := c.Write(msg); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		return err
	}
	if rep[1] != 0 {
		return errors.New("the proxy refused the credentials")
	}
	return nil
}

// socksHandshake checks that a SOCKS5 proxy answers and takes the
// credentials.
func socksHandshake(ctx context.Context, addr, user, pass string) error {
	c, err := socksDial(ctx, addr, user, pass)
	if err != nil {
		return err
	}
	return c.Close()
}
