package webhook_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/webhook"
)

// Markers that must never reach a log or an error.
const (
	payloadMarker  = "PAYLOAD-MARKER"
	responseMarker = "RESPONSE-MARKER"
	queryMarker    = "QUERY-MARKER"
	passMarker     = "PASS-MARKER"
)

func testEvent(id string) webhook.Event {
	return webhook.Event{
		ID:      id,
		Type:    "message.sent",
		Time:    time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Payload: []byte(`{"to": "+33600000000", "note": "` + payloadMarker + `"}`),
	}
}

// logBuf collects a Sender's log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newSender returns a Sender with short waits (backoff 1 to 5 ms, a 2 s
// request timeout) that logs at Debug into the returned buffer, and fails
// the test if a log line shows a secret, a payload or a response body.
func newSender(t *testing.T, opts ...webhook.Option) (*webhook.Sender, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	logger := slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := webhook.NewSender(append([]webhook.Option{
		webhook.WithBackoff(time.Millisecond, 5*time.Millisecond),
		webhook.WithTimeout(2 * time.Second),
		webhook.WithLogger(logger),
	}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { assertClean(t, "log", lb.String()) })
	return s, lb
}

func assertClean(t *testing.T, what, s string) {
	t.Helper()
	for _, m := range []string{payloadMarker, responseMarker, queryMarker, passMarker} {
		if strings.Contains(s, m) {
			t.Errorf("%s holds %q:\n%s", what, m, s)
		}
	}
}

// received is a request as a receiver saw it.
type received struct {
	header    http.Header
	body      []byte
	verifyErr error // webhook.Verify with the receiver's secrets
}

// receiver is an HTTP server that verifies and records each request, then
// answers as respond says (n counts requests from 1).
type receiver struct {
	srv     *httptest.Server
	secrets []webhook.Secret
	respond func(n int, w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	reqs []received
	got  chan struct{} // a value per request, never blocking
}

func newReceiver(t *testing.T, secrets []webhook.Secret, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{secrets: secrets, respond: respond, got: make(chan struct{}, 1000)}
	rc.srv = httptest.NewServer(rc)
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	rec := received{header: r.Header.Clone(), body: body, verifyErr: webhook.Verify(rc.secrets, r.Header, body, time.Now())}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, rec)
	n := len(rc.reqs)
	rc.mu.Unlock()
	select {
	case rc.got <- struct{}{}:
	default:
	}
	rc.respond(n, w, r)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// endpoint returns an Endpoint of the receiver (path and query appended to
// its URL), signed with secrets.
func (rc *receiver) endpoint(t *testing.T, pathQuery string, secrets []webhook.Secret, opts ...webhook.EndpointOption) *webhook.Endpoint {
	t.Helper()
	ep, err := webhook.NewEndpoint(rc.srv.URL+pathQuery, secrets, opts...)
	require.NoError(t, err)
	return ep
}

// status answers every request with code.
func status(code int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, responseMarker)
	}
}

// testCtx bounds a test's blocking calls; no test should come near it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
