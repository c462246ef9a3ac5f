package chromedpdriver

// This file applies a browser context's proxy (wasend.LaunchRequest.Proxy):
// a check before launch, the flags or browser-context parameters that send
// the browser through it, answers to the proxy's auth challenges through
// the DevTools Fetch domain, and, for SOCKS5 with credentials (which Chrome
// cannot send), a local relay (socks.go). The credentials never reach a log
// or an error: both use wasend.MaskProxy.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend"
)

// proxyDialTimeout bounds the check of a proxy before a launch.
const proxyDialTimeout = 5 * time.Second

// proxyBypass makes Chrome send even loopback addresses through the
// proxy: its default bypass list holds them.
const proxyBypass = "<-loopback>"

// proxyErrors are the net errors of a page load that a proxy caused.
var proxyErrors = []string{
	"ERR_PROXY_CONNECTION_FAILED", "ERR_TUNNEL_CONNECTION_FAILED", "ERR_SOCKS_CONNECTION_FAILED",
	"ERR_SOCKS_CONNECTION_HOST_UNREACHABLE", "ERR_PROXY_AUTH_UNSUPPORTED", "ERR_PROXY_AUTH_REQUESTED",
	"ERR_PROXY_CERTIFICATE_INVALID", "ERR_NO_SUPPORTED_PROXIES", "ERR_MANDATORY_PROXY_CONFIGURATION_FAILED",
	"ERR_INVALID_AUTH_CREDENTIALS",
}

// loadError maps the net error of a page load ("net::ERR_…") to an error
// wrapping ErrProxy when the session has a proxy and the error is one of
// a proxy's, or returns nil.
func (px *proxySetup) loadError(errorText string) error {
	if px == nil {
		return nil
	}
	for _, e := range proxyErrors {
		if strings.Contains(errorText, e) {
			return fmt.Errorf("%w: %s: the page did not load through it (net::%s)", wasend.ErrProxy, px.masked, e)
		}
	}
	return nil
}

// proxySetup is a session's proxy, ready for its browser.
type proxySetup struct {
	masked     string // for logs and errors
	server     string // --proxy-server, or the browser context's proxyServer
	user, pass string // for the auth challenges of an http(s) proxy
	relay      *socksRelay
}

// prepareProxy checks raw (empty: no proxy, nil), reaches the proxy once,
// with its credentials when it has some, and returns what the browser
// needs. Its errors wrap wasend.ErrProxy and hold no credentials.
func prepareProxy(ctx context.Context, raw, target string, log *slog.Logger) (*proxySetup, error) {
	if raw == "" {
		return nil, nil
	}
	if err := wasend.CheckProxy(raw); err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL", wasend.ErrProxy)
	}
	px := &proxySetup{masked: wasend.MaskProxy(raw), server: u.Scheme + "://" + u.Host}
	if u.User != nil {
		px.user = u.User.Username()
		px.pass, _ = u.User.Password()
	}
	dctx, cancel := context.WithTimeout(ctx, proxyDialTimeout)
	defer cancel()
	switch u.Scheme {
	case "socks5":
		if err := socksHandshake(dctx, u.Host, px.user, px.pass); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", wasend.ErrProxy, px.masked, err)
		}
		if px.user != "" {
			r, err := newSocksRelay(u.Host, px.user, px.pass, log)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: local relay: %v", wasend.ErrProxy, px.masked, err)
			}
			px.relay = r
			px.server = "socks5://" + r.addr()
			px.user, px.pass = "", ""
		}
	default:
		if err := httpProxyCheck(dctx, u, px.user, px.pass, target); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", wasend.ErrProxy, px.masked, err)
		}
	}
	log.Info("proxy reached", "proxy", px.masked, "relay", px.relay != nil)
	return px, nil
}

// close stops the relay, if any.
func (px *proxySetup) close() {
	if px != nil && px.relay != nil {
		px.relay.close()
	}
}

// flags are the browser flags of a session with its own browser.
func (px *proxySetup) flags() []chromeFlag {
	if px == nil {
		return nil
	}
	return []chromeFlag{{Name: "proxy-server", Value: px.server}, {Name: "proxy-bypass-list", Value: proxyBypass}}
}

// contextOption sets the proxy of an ephemeral session's browser context.
func (px *proxySetup) contextOption(p *target.CreateBrowserContextParams) {
	p.ProxyServer = px.server
	p.ProxyBypassList = proxyBypass
}

// dial reaches the proxy, over TLS for https.
func dialProxy(ctx context.Context, u *url.URL) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
	return conn, nil
}

// httpProxyCheck reaches an http(s) proxy and, when it has credentials,
// asks it for a tunnel to the target's host, so that a wrong password
// (407) fails the launch rather than every page load.
func httpProxyCheck(ctx context.Context, u *url.URL, user, pass, target string) error {
	conn, err := dialProxy(ctx, u)
	if err != nil {
		return fmt.Errorf("cannot connect: %w", err)
	}
	defer conn.Close()
	if user == "" {
		return nil
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	host := "web.whatsapp.com:443"
	if t, err := url.Parse(target); err == nil && t.Hostname() != "" {
		port := t.Port()
		if port == "" {
			port = "443"
			if t.Scheme == "http" {
				port = "80"
			}
		}
		host = net.JoinHostPort(t.Hostname(), port)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n", host, host, auth); err != nil {
		return fmt.Errorf("cannot talk to it: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return errors.New("no HTTP answer to CONNECT")
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusProxyAuthRequired {
		return errors.New("the proxy refused the credentials (407)")
	}
	return nil
}

// proxyAuth answers the auth challenges of the proxy on the tab of ctx
// with the credentials, once per request; a second challenge for the same
// request (a wrong password) cancels it. The tab's other requests go on
// unchanged. The answers run in goroutines of wg, which end with ctx.
func (px *proxySetup) proxyAuth(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) error {
	if px == nil || px.user == "" {
		return nil
	}
	var mu sync.Mutex
	tried := map[fetch.RequestID]bool{}
	answer := func(f func(context.Context, *chromedp.Target) error) {
		wg.Go(func() {
			if err := chromedp.Do(ctx, chromedp.Func(f)); err != nil && ctx.Err() == nil {
				log.Debug("answering a paused request", "err", err)
			}
		})
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			answer(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				return err
			})
		case *fetch.EventAuthRequired:
			resp := &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseDefault}
			if ev.AuthChallenge != nil && ev.AuthChallenge.Source == fetch.AuthChallengeSourceProxy {
				mu.Lock()
				again := tried[ev.RequestID]
				tried[ev.RequestID] = true
				mu.Unlock()
				if again {
					log.Warn("the proxy refused the credentials", "proxy", px.masked)
					resp = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}
				} else {
					resp = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: px.user, Password: px.pass}
				}
			}
			answer(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: resp})
				return err
			})
		}
	})
	if err != nil {
		return err
	}
	on := true
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &on, Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
		return err
	}))
}
