package webhook_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/webhook"
)

// secretQuery puts user information and a query in endpoint URLs, which
// must never reach a log or an error.
const secretQuery = "/hook?token=" + queryMarker

func TestDeliverRetriesAfter500(t *testing.T) {
	secret := newSecret(t)
	rc := newReceiver(t, []webhook.Secret{secret}, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			status(http.StatusInternalServerError)(n, w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	u := "http://user:" + passMarker + "@" + rc.srv.Listener.Addr().String() + secretQuery
	ep, err := webhook.NewEndpoint(u, []webhook.Secret{secret})
	require.NoError(t, err)
	s, logs := newSender(t)
	var results []webhook.Result
	webhook.SetAttemptHook(s, func(r webhook.Result) { results = append(results, r) })

	ev := testEvent("evt_500")
	res, err := s.Deliver(testCtx(t), ep, ev)
	require.NoError(t, err)
	assert.Equal(t, webhook.OutcomeDelivered, res.Outcome)
	assert.Equal(t, 2, res.Attempt)
	assert.Equal(t, http.StatusOK, res.Status)

	require.Len(t, results, 2)
	assert.Equal(t, webhook.OutcomeRetry, results[0].Outcome)
	assert.Equal(t, http.StatusInternalServerError, results[0].Status)
	assert.ErrorIs(t, results[0].Err, webhook.ErrStatus)
	assert.Equal(t, responseMarker, string(results[0].Body), "the body is returned to the caller")
	assert.LessOrEqual(t, results[0].RetryAfter, time.Millisecond, "first backoff")
	assertClean(t, "error", results[0].Err.Error())

	reqs := rc.requests()
	require.Len(t, reqs, 2)
	for i, r := range reqs {
		assert.NoError(t, r.verifyErr, "request %d verifies", i+1)
		assert.Equal(t, "evt_500", r.header.Get("webhook-id"), "request %d keeps the id", i+1)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.Equal(t, reqs[0].body, r.body, "the same body on every attempt")
		user, pass, ok := basicAuth(r.header)
		assert.True(t, ok && user == "user" && pass == passMarker, "user information is sent")
	}
	var body struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(reqs[0].body, &body))
	assert.Equal(t, "message.sent", body.Type)
	assert.True(t, ev.Time.Equal(body.Timestamp), "got %s, want %s", body.Timestamp, ev.Time)
	assert.JSONEq(t, string(ev.Payload), string(body.Data))
	assert.Equal(t, `{"type":"message.sent","timestamp":"2026-01-02T03:04:05.000000006Z","data":{"to":"+33600000000","note":"`+
		payloadMarker+`"}}`, string(reqs[0].body), "compact JSON")

	out := logs.String()
	assert.Contains(t, out, "http://***@"+rc.srv.Listener.Addr().String()+"/hook?***")
	assert.Contains(t, out, "webhook attempt failed; will retry")
	assert.Contains(t, out, "webhook delivered")
}

func basicAuth(h http.Header) (string, string, bool) {
	r := &http.Request{Header: h}
	return r.BasicAuth()
}

// closedAddr returns the address of a listener that is closed: connecting
// to it is refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestConnectionRefused(t *testing.T) {
	ep, err := webhook.NewEndpoint("http://"+closedAddr(t)+secretQuery, []webhook.Secret{newSecret(t)})
	require.NoError(t, err)
	s, _ := newSender(t, webhook.WithMaxAttempts(3))

	res := s.Attempt(testCtx(t), ep, testEvent("evt_refused"), 1)
	assert.Equal(t, webhook.OutcomeRetry, res.Outcome)
	assert.Equal(t, 0, res.Status)
	assert.ErrorIs(t, res.Err, webhook.ErrRequest)
	assert.NotErrorIs(t, res.Err, webhook.ErrTimeout)
	assert.LessOrEqual(t, res.RetryAfter, time.Millisecond)
	assertClean(t, "error", res.Err.Error())

	res, err = s.Deliver(testCtx(t), ep, testEvent("evt_refused"))
	require.ErrorIs(t, err, webhook.ErrGaveUp)
	require.ErrorIs(t, err, webhook.ErrRequest)
	assert.Equal(t, webhook.OutcomeFailed, res.Outcome)
	assert.Equal(t, 3, res.Attempt)
	assertClean(t, "error", err.Error())
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, nil, func(_ int, w http.ResponseWriter, r *http.Request) {
		select { // stall until the sender gives up on the request
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	ep := rc.endpoint(t, secretQuery, []webhook.Secret{newSecret(t)})

	for name, client := range map[string]*http.Client{
		"default client":            nil,
		"caller's client, no limit": {},
	} {
		t.Run(name, func(t *testing.T) {
			opts := []webhook.Option{webhook.WithTimeout(100 * time.Millisecond)}
			if client != nil {
				opts = append(opts, webhook.WithHTTPClient(client))
			}
			s, _ := newSender(t, opts...)
			res := s.Attempt(testCtx(t), ep, testEvent("evt_stall"), 1)
			assert.Equal(t, webhook.OutcomeRetry, res.Outcome)
			assert.ErrorIs(t, res.Err, webhook.ErrTimeout)
			assert.ErrorIs(t, res.Err, webhook.ErrRequest)
			assert.GreaterOrEqual(t, res.Duration, 100*time.Millisecond)
			assert.Less(t, res.Duration, 2*time.Second)
			assertClean(t, "error", res.Err.Error())
		})
	}
}

func TestAttemptStatus(t *testing.T) {
	var targetHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1) })
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if ra := q.Get("ra"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		code, _ := strconv.Atoi(q.Get("code"))
		if code >= 300 && code < 400 {
			http.Redirect(w, r, "/target", code)
			return
		}
		w.WriteHeader(code)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	secrets := []webhook.Secret{newSecret(t)}

	const first, ceiling = time.Second, time.Hour
	date := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(http.TimeFormat) }
	tests := []struct {
		code    int
		ra      string
		want    webhook.Outcome
		wait    time.Duration // wanted RetryAfter within waitTol, or a backoff draw when 0
		waitTol time.Duration // -1: exactly wait, even 0
	}{
		{code: 200, want: webhook.OutcomeDelivered},
		{code: 201, want: webhook.OutcomeDelivered},
		{code: 204, want: webhook.OutcomeDelivered},
		{code: 299, want: webhook.OutcomeDelivered},
		{code: 400, want: webhook.OutcomeFailed},
		{code: 401, want: webhook.OutcomeFailed},
		{code: 404, want: webhook.OutcomeFailed},
		{code: 410, want: webhook.OutcomeFailed},
		{code: 413, want: webhook.OutcomeFailed},
		{code: 400, ra: "7", want: webhook.OutcomeFailed},
		{code: 408, want: webhook.OutcomeRetry},
		{code: 429, want: webhook.OutcomeRetry},
		{code: 429, ra: "7", want: webhook.OutcomeRetry, wait: 7 * time.Second},
		{code: 429, ra: "0", want: webhook.OutcomeRetry, wait: 0, waitTol: -1}, // now: exactly 0
		{code: 429, ra: "7200", want: webhook.OutcomeRetry, wait: ceiling},
		{code: 429, ra: "soon", want: webhook.OutcomeRetry},
		{code: 503, ra: date(30 * time.Second), want: webhook.OutcomeRetry, wait: 30 * time.Second, waitTol: 2 * time.Second},
		{code: 503, ra: date(-time.Hour), want: webhook.OutcomeRetry},
		{code: 503, ra: date(48 * time.Hour), want: webhook.OutcomeRetry, wait: ceiling},
		{code: 500, ra: "7", want: webhook.OutcomeRetry}, // Retry-After only counts on 429 and 503
		{code: 500, want: webhook.OutcomeRetry},
		{code: 502, want: webhook.OutcomeRetry},
		{code: 504, want: webhook.OutcomeRetry},
		{code: 301, want: webhook.OutcomeFailed},
		{code: 302, want: webhook.OutcomeFailed},
		{code: 307, want: webhook.OutcomeFailed},
		{code: 308, want: webhook.OutcomeFailed},
	}
	for _, client := range []*http.Client{nil, {}} { // a plain http.Client follows redirects
		opts := []webhook.Option{webhook.WithBackoff(first, ceiling)}
		name := "default client"
		if client != nil {
			opts, name = append(opts, webhook.WithHTTPClient(client)), "caller's client"
		}
		s, _ := newSender(t, opts...)
		for _, tt := range tests {
			t.Run(name+"/"+strconv.Itoa(tt.code)+"_"+tt.ra, func(t *testing.T) {
				path := "/status?code=" + strconv.Itoa(tt.code) + "&ra=" + url.QueryEscape(tt.ra)
				ep, err := webhook.NewEndpoint(srv.URL+path, secrets)
				require.NoError(t, err)
				res := s.Attempt(testCtx(t), ep, testEvent("evt_status"), 1)
				assert.Equal(t, tt.want, res.Outcome, "got %s", res.Outcome)
				assert.Equal(t, tt.code, res.Status)
				assert.Equal(t, 1, res.Attempt)
				if tt.want == webhook.OutcomeDelivered {
					assert.NoError(t, res.Err)
					return
				}
				require.ErrorIs(t, res.Err, webhook.ErrStatus)
				assert.Contains(t, res.Err.Error(), strconv.Itoa(tt.code))
				assertClean(t, "error", res.Err.Error())
				switch {
				case tt.want != webhook.OutcomeRetry:
					assert.Zero(t, res.RetryAfter)
				case tt.waitTol < 0:
					assert.Equal(t, tt.wait, res.RetryAfter)
				case tt.wait == 0:
					assert.LessOrEqual(t, res.RetryAfter, first, "a backoff draw")
				default:
					assert.InDelta(t, tt.wait, res.RetryAfter, float64(tt.waitTol))
				}
			})
		}
		assert.Zero(t, targetHits.Load(), "redirects are not followed")
		if client != nil {
			assert.Nil(t, client.CheckRedirect, "the caller's client is not changed")
		}
	}
}

func TestDeliver400IsNotRetried(t *testing.T) {
	rc := newReceiver(t, nil, status(http.StatusBadRequest))
	s, _ := newSender(t)
	res, err := s.Deliver(testCtx(t), rc.endpoint(t, secretQuery, []webhook.Secret{newSecret(t)}), testEvent("evt_400"))
	require.ErrorIs(t, err, webhook.ErrGaveUp)
	require.ErrorIs(t, err, webhook.ErrStatus)
	assert.Equal(t, webhook.OutcomeFailed, res.Outcome)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, 1, res.Attempt)
	assert.Len(t, rc.requests(), 1)
	assertClean(t, "error", err.Error())
}

func TestDeliverRetries408And429(t *testing.T) {
	rc := newReceiver(t, nil, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusRequestTimeout)
		case 2:
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	s, _ := newSender(t) // backoff 1 to 5 ms: the hour of Retry-After is capped at 5 ms
	var results []webhook.Result
	webhook.SetAttemptHook(s, func(r webhook.Result) { results = append(results, r) })
	res, err := s.Deliver(testCtx(t), rc.endpoint(t, "/", []webhook.Secret{newSecret(t)}), testEvent("evt_429"))
	require.NoError(t, err)
	assert.Equal(t, webhook.OutcomeDelivered, res.Outcome)
	assert.Equal(t, 3, res.Attempt)
	require.Len(t, results, 3)
	assert.Equal(t, http.StatusRequestTimeout, results[0].Status)
	assert.Equal(t, http.StatusTooManyRequests, results[1].Status)
	assert.Equal(t, 5*time.Millisecond, results[1].RetryAfter, "Retry-After capped at the maximum backoff")
	assert.Len(t, rc.requests(), 3)
}

func TestDeliverRedirectIsNotFollowed(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1) }))
	t.Cleanup(target.Close)
	rc := newReceiver(t, nil, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusMovedPermanently)
	})
	s, _ := newSender(t)
	res, err := s.Deliver(testCtx(t), rc.endpoint(t, "/", []webhook.Secret{newSecret(t)}), testEvent("evt_301"))
	require.ErrorIs(t, err, webhook.ErrGaveUp)
	assert.Equal(t, http.StatusMovedPermanently, res.Status)
	assert.Equal(t, 1, res.Attempt)
	assert.Zero(t, targetHits.Load())
}

func TestDeliverWhenReceiverComesBack(t *testing.T) {
	addr := closedAddr(t)
	secret := newSecret(t)
	ep, err := webhook.NewEndpoint("http://"+addr+"/hook", []webhook.Secret{secret})
	require.NoError(t, err)
	s, _ := newSender(t, webhook.WithMaxAttempts(1000))
	failed := make(chan struct{}, 1)
	webhook.SetAttemptHook(s, func(r webhook.Result) {
		if r.Outcome == webhook.OutcomeRetry {
			select {
			case failed <- struct{}{}:
			default:
			}
		}
	})

	type outcome struct {
		res webhook.Result
		err error
	}
	done := make(chan outcome, 1)
	ctx := testCtx(t)
	go func() {
		res, err := s.Deliver(ctx, ep, testEvent("evt_back"))
		done <- outcome{res, err}
	}()

	select {
	case <-failed: // the receiver was down for at least one attempt
	case o := <-done:
		t.Fatalf("Deliver returned while the receiver was down: %+v", o)
	}
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err, "listen again on %s", addr)
	rc := &receiver{secrets: []webhook.Secret{secret}, respond: status(http.StatusOK), got: make(chan struct{}, 1000)}
	rc.srv = httptest.NewUnstartedServer(rc)
	rc.srv.Listener.Close()
	rc.srv.Listener = ln
	rc.srv.Start()
	t.Cleanup(rc.srv.Close)

	o := <-done // Deliver's owner waits for it; testCtx bounds it
	require.NoError(t, o.err)
	assert.Equal(t, webhook.OutcomeDelivered, o.res.Outcome)
	assert.Greater(t, o.res.Attempt, 1)
	reqs := rc.requests()
	require.Len(t, reqs, 1)
	assert.NoError(t, reqs[0].verifyErr)
}

func TestDeliverRotation(t *testing.T) {
	oldS, newS := newSecret(t), newSecret(t)
	for name, tt := range map[string]struct {
		knows []webhook.Secret
		ok    bool
	}{
		"receiver knows the new secret": {[]webhook.Secret{newS}, true},
		"receiver knows the old secret": {[]webhook.Secret{oldS}, true},
		"receiver knows another secret": {[]webhook.Secret{newSecret(t)}, false},
	} {
		t.Run(name, func(t *testing.T) {
			var rc *receiver
			rc = newReceiver(t, tt.knows, func(n int, w http.ResponseWriter, r *http.Request) {
				if rc.requests()[n-1].verifyErr != nil {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			s, _ := newSender(t)
			res, err := s.Deliver(testCtx(t), rc.endpoint(t, "/", []webhook.Secret{oldS, newS}), testEvent("evt_rot"))
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, webhook.OutcomeDelivered, res.Outcome)
				return
			}
			require.ErrorIs(t, err, webhook.ErrStatus)
			assert.Equal(t, http.StatusUnauthorized, res.Status)
			require.Len(t, rc.requests(), 1)
			assert.ErrorIs(t, rc.requests()[0].verifyErr, webhook.ErrNoMatchingSignature)
		})
	}
}

func TestDeliverFilter(t *testing.T) {
	rc := newReceiver(t, nil, status(http.StatusOK))
	ep := rc.endpoint(t, "/", []webhook.Secret{newSecret(t)}, webhook.WithEventTypes("message.*", "campaign.done"))
	s, _ := newSender(t)
	for typ, want := range map[string]webhook.Outcome{
		"message.sent":        webhook.OutcomeDelivered,
		"message.status.read": webhook.OutcomeDelivered,
		"campaign.done":       webhook.OutcomeDelivered,
		"campaign.started":    webhook.OutcomeSkipped,
		"message":             webhook.OutcomeSkipped,
		"messages.sent":       webhook.OutcomeSkipped,
	} {
		ev := testEvent("evt_filter")
		ev.Type = typ
		before := len(rc.requests())
		res, err := s.Deliver(testCtx(t), ep, ev)
		require.NoError(t, err, typ)
		assert.Equal(t, want, res.Outcome, typ)
		sent := len(rc.requests()) - before
		if want == webhook.OutcomeSkipped {
			assert.Zero(t, sent, "%s: nothing sent", typ)
			assert.Equal(t, webhook.OutcomeSkipped, s.Attempt(testCtx(t), ep, ev, 1).Outcome, typ)
		} else {
			assert.Equal(t, 1, sent, typ)
		}
	}
}

func TestDeliverStopsWithContext(t *testing.T) {
	rc := newReceiver(t, nil, status(http.StatusServiceUnavailable))
	s, _ := newSender(t, webhook.WithBackoff(time.Hour, time.Hour))
	ctx, cancel := context.WithCancel(testCtx(t))
	webhook.SetAttemptHook(s, func(webhook.Result) { cancel() })
	res, err := s.Deliver(ctx, rc.endpoint(t, "/", []webhook.Secret{newSecret(t)}), testEvent("evt_ctx"))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, webhook.ErrGaveUp)
	assert.ErrorIs(t, err, webhook.ErrStatus, "the last attempt's error")
	assert.Equal(t, webhook.OutcomeRetry, res.Outcome)

	// An attempt cut by ctx is to be retried, even the last one.
	s1, _ := newSender(t, webhook.WithMaxAttempts(1))
	res = s1.Attempt(ctx, rc.endpoint(t, "/", []webhook.Secret{newSecret(t)}), testEvent("evt_ctx"), 1)
	assert.Equal(t, webhook.OutcomeRetry, res.Outcome)
	assert.ErrorIs(t, res.Err, context.Canceled)
}

func TestDeliverInvalidEvent(t *testing.T) {
	rc := newReceiver(t, nil, status(http.StatusOK))
	ep := rc.endpoint(t, "/", []webhook.Secret{newSecret(t)})
	s, _ := newSender(t)
	for name, edit := range map[string]func(*webhook.Event){
		"empty id":          func(e *webhook.Event) { e.ID = "" },
		"id with a dot":     func(e *webhook.Event) { e.ID = "evt.1" },
		"id with a newline": func(e *webhook.Event) { e.ID = "evt\n1" },
		"empty type":        func(e *webhook.Event) { e.Type = "" },
		"type with a star":  func(e *webhook.Event) { e.Type = "message.*" },
		"type with a space": func(e *webhook.Event) { e.Type = "message sent" },
		"empty type part":   func(e *webhook.Event) { e.Type = "message..sent" },
		"trailing dot":      func(e *webhook.Event) { e.Type = "message." },
		"zero time":         func(e *webhook.Event) { e.Time = time.Time{} },
		"bad payload":       func(e *webhook.Event) { e.Payload = []byte(`{"a":`) },
	} {
		ev := testEvent("evt_1")
		edit(&ev)
		res, err := s.Deliver(testCtx(t), ep, ev)
		assert.ErrorIs(t, err, webhook.ErrInvalidEvent, name)
		assert.NotErrorIs(t, err, webhook.ErrGaveUp, name)
		assert.Equal(t, webhook.OutcomeFailed, res.Outcome, name)
		res = s.Attempt(testCtx(t), ep, ev, 1)
		assert.ErrorIs(t, res.Err, webhook.ErrInvalidEvent, name)
		assert.Equal(t, webhook.OutcomeFailed, res.Outcome, name)
	}
	assert.Empty(t, rc.requests())

	ev := testEvent("evt_null")
	ev.Payload = nil
	_, err := s.Deliver(testCtx(t), ep, ev)
	require.NoError(t, err)
	require.Len(t, rc.requests(), 1)
	assert.Contains(t, string(rc.requests()[0].body), `"data":null`)
}

func TestNewSenderOptions(t *testing.T) {
	for name, opt := range map[string]webhook.Option{
		"zero timeout":         webhook.WithTimeout(0),
		"zero first backoff":   webhook.WithBackoff(0, time.Second),
		"max below first":      webhook.WithBackoff(time.Second, time.Millisecond),
		"zero attempts":        webhook.WithMaxAttempts(0),
		"too many attempts":    webhook.WithMaxAttempts(1001),
		"negative timeout":     webhook.WithTimeout(-time.Second),
		"negative max backoff": webhook.WithBackoff(time.Second, -time.Second),
	} {
		_, err := webhook.NewSender(opt)
		assert.ErrorIs(t, err, webhook.ErrInvalidOption, name)
	}
	s, err := webhook.NewSender(webhook.WithLogger(nil), webhook.WithHTTPClient(nil))
	require.NoError(t, err)
	require.NotNil(t, s)
}

func TestAttemptCountsAttempts(t *testing.T) {
	rc := newReceiver(t, nil, status(http.StatusInternalServerError))
	ep := rc.endpoint(t, "/", []webhook.Secret{newSecret(t)})
	s, _ := newSender(t, webhook.WithMaxAttempts(3))
	for n, want := range map[int]webhook.Outcome{0: webhook.OutcomeRetry, 1: webhook.OutcomeRetry, 2: webhook.OutcomeRetry,
		3: webhook.OutcomeFailed, 4: webhook.OutcomeFailed} {
		res := s.Attempt(testCtx(t), ep, testEvent("evt_n"), n)
		assert.Equal(t, want, res.Outcome, "attempt %d", n)
		assert.Equal(t, max(n, 1), res.Attempt)
		if want == webhook.OutcomeFailed {
			assert.Zero(t, res.RetryAfter)
		}
	}
}
