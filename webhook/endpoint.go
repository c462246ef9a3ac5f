package webhook

import (
	"fmt"
	"net/url"
	"strings"
)

// EndpointOption configures an Endpoint. Options apply in order; the last
// one that sets a value wins.
type EndpointOption func(*endpointConfig)

type endpointConfig struct {
	patterns []string
}

// WithEventTypes sets the event types the endpoint receives. A pattern is
// an exact type ("message.sent"), a prefix wildcard ("message.*", which
// matches "message.sent" and "message.status.read" but not "message"), or
// "*" for every type. Default: every type (no pattern).
func WithEventTypes(patterns ...string) EndpointOption {
	return func(c *endpointConfig) { c.patterns = append([]string(nil), patterns...) }
}

// Endpoint is a receiver of webhooks: a URL, the secrets its requests are
// signed with, and the event types it wants. An Endpoint is immutable and
// safe for concurrent use.
type Endpoint struct {
	url      *url.URL
	masked   string
	signer   *Signer
	all      bool
	exact    map[string]bool
	prefixes []string // "message." for the pattern "message.*"
}

// NewEndpoint returns an Endpoint for the http or https URL rawURL, whose
// requests are signed with secrets (with several, during a rotation, each
// request carries a signature per secret). It fails with
// ErrInvalidEndpoint for a bad URL or pattern, with ErrNoSecrets without a
// secret and with ErrInvalidSecret for a zero Secret.
//
// The URL may hold user information and a query; they are sent, but never
// logged nor put in errors (see String).
func NewEndpoint(rawURL string, secrets []Secret, opts ...EndpointOption) (*Endpoint, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the URL; it must not reach a log.
		return nil, fmt.Errorf("%w: the URL does not parse", ErrInvalidEndpoint)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %s: the scheme is not http or https", ErrInvalidEndpoint, maskURL(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: %s: no host", ErrInvalidEndpoint, maskURL(u))
	}
	u.Fragment, u.RawFragment = "", ""
	signer, err := NewSigner(secrets...)
	if err != nil {
		return nil, err
	}
	var c endpointConfig
	for _, o := range opts {
		o(&c)
	}
	e := &Endpoint{url: u, masked: maskURL(u), signer: signer, all: len(c.patterns) == 0, exact: map[string]bool{}}
	for _, p := range c.patterns {
		switch prefix, ok := strings.CutSuffix(p, ".*"); {
		case p == "*":
			e.all = true
		case ok:
			if err := checkType(prefix); err != nil {
				return nil, fmt.Errorf("%w: pattern %q: %w", ErrInvalidEndpoint, p, err)
			}
			e.prefixes = append(e.prefixes, prefix+".")
		default:
			if err := checkType(p); err != nil {
				return nil, fmt.Errorf("%w: pattern %q: %w", ErrInvalidEndpoint, p, err)
			}
			e.exact[p] = true
		}
	}
	return e, nil
}

// URL returns the endpoint's URL in full, user information and query
// included. Log String instead.
func (e *Endpoint) URL() string { return e.url.String() }

// String returns the URL with its user information and query masked, as
// "https://***@example.com/hook?***": the form used in logs and errors.
func (e *Endpoint) String() string { return e.masked }

// Accepts reports whether the endpoint wants events of type eventType.
func (e *Endpoint) Accepts(eventType string) bool {
	if e.all || e.exact[eventType] {
		return true
	}
	for _, p := range e.prefixes {
		if strings.HasPrefix(eventType, p) {
			return true
		}
	}
	return false
}

// maskURL returns u without its user information, query and fragment,
// and without its path beyond the first segment, each replaced by "***"
// when present.
func maskURL(u *url.URL) string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.User != nil {
		b.WriteString("***@")
	}
	b.WriteString(u.Host)
	// Beyond its first segment a path may hold a token (Slack's and
	// Discord's hooks do): only the first segment shows.
	path := u.EscapedPath()
	if i := strings.Index(strings.TrimPrefix(path, "/"), "/"); i >= 0 && i+2 < len(path) {
		path = path[:i+1] + "/***"
	}
	b.WriteString(path)
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteString("?***")
	}
	return b.String()
}
