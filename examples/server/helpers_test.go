package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/internal/testenv"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// syncBuffer is a bytes.Buffer safe for the loggers of several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// slogTo is a logger of every level into w.
func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testServer is the app on its embedded defaults (real headless Chromium,
// pacing off) with its logs captured, and an httptest server on its
// handler; both close when the test ends.
type testServer struct {
	chromium string
	app      *app
	srv      *httptest.Server
	logs     *syncBuffer
	api      apiClient
}

func startServer(t *testing.T, ctx context.Context, token string) *testServer {
	t.Helper()
	ts := &testServer{chromium: testenv.Chromium(t), logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := newApp(ctx, config{dataDir: t.TempDir(), chromium: ts.chromium, token: token, pacing: "off"}, logger, logger)
	require.NoError(t, err)
	a.start()
	t.Cleanup(func() { assert.NoError(t, a.close()) })
	ts.app = a
	ts.srv = httptest.NewServer(a.handler())
	t.Cleanup(ts.srv.Close)
	ts.api = apiClient{t: t, base: ts.srv.URL, token: token}
	return ts
}
