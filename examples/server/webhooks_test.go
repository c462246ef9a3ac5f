package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/webhook"
)

// hookRequest is a request a receiver got, with the outcome of its
// verification.
type hookRequest struct {
	header    http.Header
	body      []byte
	verifyErr error
}

// hookReceiver records the webhooks it receives and verifies each with
// the secret set once the endpoint is created.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	reqs   []hookRequest
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		var err error
		if s, perr := webhook.ParseSecret(rc.secret); perr != nil {
			err = perr
		} else {
			err = webhook.Verify([]webhook.Secret{s}, r.Header, body, time.Now())
		}
		rc.reqs = append(rc.reqs, hookRequest{header: r.Header.Clone(), body: body, verifyErr: err})
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) setSecret(s string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secret = s
}

func (rc *hookReceiver) requests() []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookRequest(nil), rc.reqs...)
}

// jobEvents waits until the receiver got the event last of job jobID,
// and returns that job's events: each verified, once per webhook-id, in
// the outbox's order.
func (rc *hookReceiver) jobEvents(t *testing.T, jobID int64, last string) []hookBody {
	t.Helper()
	var evs []hookBody
	eventually(t, 30*time.Second, fmt.Sprintf("the %s webhook of job %d", last, jobID), func() bool {
		evs = rc.events(t, func(b hookBody) bool { return b.Data.JobID == jobID })
		return slices.ContainsFunc(evs, func(b hookBody) bool { return b.Type == last })
	})
	return evs
}

// events returns the events the receiver got that keep selects, each
// verified, once per webhook-id, in the outbox's order.
func (rc *hookReceiver) events(t *testing.T, keep func(hookBody) bool) []hookBody {
	t.Helper()
	seen := map[string]bool{}
	var evs []hookBody
	for _, r := range rc.requests() {
		require.NoError(t, r.verifyErr, "a webhook's signature")
		id := r.header.Get("webhook-id")
		if seen[id] {
			continue
		}
		seen[id] = true
		var b hookBody
		require.NoError(t, json.Unmarshal(r.body, &b))
		if keep(b) {
			evs = append(evs, b)
		}
	}
	slices.SortFunc(evs, func(x, y hookBody) int { return cmp.Compare(x.Data.ID, y.Data.ID) })
	return evs
}

// topicsOf returns the events' types, but those of receipts
// (message.delivered, message.read), which come when the page shows the
// ticks, before or after the job's end.
func topicsOf(evs []hookBody) []string {
	var ts []string
	for _, e := range evs {
		if e.Type != "message.delivered" && e.Type != "message.read" {
			ts = append(ts, e.Type)
		}
	}
	return ts
}

// hookBody is a webhook's body.
type hookBody struct {
	Type string            `json:"type"`
	Data webhook.EventData `json:"data"`
}

// TestWebhookRoutes drives the webhook routes without a Client: creation,
// the list, the test event, the errors and the deletion.
func TestWebhookRoutes(t *testing.T) {
	logs := &syncBuffer{}
	a := newAppState(config{token: "tok"}, slogTo(logs))
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	api := apiClient{t: t, base: srv.URL, token: "tok"}
	rc := newHookReceiver(t)

	var apiErr errorBody
	apiClient{t: t, base: srv.URL}.json("GET", "/v1/webhooks", nil, 401, nil)
	api.json("POST", "/v1/webhooks", map[string]any{"url": "ftp://example.com/x"}, 400, &apiErr)
	assert.Equal(t, kindInvalidWebhook, apiErr.Error.Kind)
	api.json("POST", "/v1/webhooks", map[string]any{"url": rc.URL, "event_types": []string{"message..x"}}, 400, &apiErr)
	assert.Equal(t, kindInvalidWebhook, apiErr.Error.Kind)
	api.json("POST", "/v1/webhooks", map[string]any{}, 400, &apiErr)
	assert.Equal(t, kindInvalidWebhook, apiErr.Error.Kind)
	api.json("POST", "/v1/webhooks", map[string]any{"url": rc.URL, "typo": 1}, 400, &apiErr)
	assert.Equal(t, kindInvalidRequest, apiErr.Error.Kind)

	var created webhookJSON
	api.json("POST", "/v1/webhooks", map[string]any{"url": rc.URL + "/hooks/s3cr3t-path?token=q", "event_types": []string{"job.*"}}, 201, &created)
	require.True(t, strings.HasPrefix(created.Secret, "whsec_"), created.Secret)
	rc.setSecret(created.Secret)
	assert.Equal(t, rc.URL+"/hooks/***?***", created.URL)
	assert.Equal(t, []string{"job.*"}, created.EventTypes)

	status, body := api.do("GET", "/v1/webhooks", nil)
	require.Equal(t, 200, status)
	assert.NotContains(t, string(body), created.Secret)
	assert.NotContains(t, string(body), "s3cr3t-path")
	var list struct{ Webhooks []webhookJSON }
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Webhooks, 1)
	assert.Equal(t, created.ID, list.Webhooks[0].ID)
	assert.Empty(t, list.Webhooks[0].Secret)

	// The test event reaches the endpoint, though it filters on job.*.
	var res webhookTestJSON
	api.json("POST", "/v1/webhooks/"+created.ID+"/test", nil, 200, &res)
	assert.True(t, res.Delivered)
	assert.Equal(t, "delivered", res.Outcome)
	assert.Equal(t, 204, res.Status)
	reqs := rc.requests()
	require.Len(t, reqs, 1)
	require.NoError(t, reqs[0].verifyErr)
	assert.Equal(t, res.EventID, reqs[0].header.Get("webhook-id"))
	var hb hookBody
	require.NoError(t, json.Unmarshal(reqs[0].body, &hb))
	assert.Equal(t, "webhook.test", hb.Type)

	// The outbox's handler: an event of an accepted type is delivered, one
	// of another type is taken without a request.
	ctx := context.Background()
	require.NoError(t, a.hooks.deliver(ctx, wasend.Event{ID: 7, Topic: wasend.TopicJobCreated, At: time.Now(), JobID: 3}))
	require.NoError(t, a.hooks.deliver(ctx, wasend.Event{ID: 8, Topic: wasend.TopicMessageSent, At: time.Now(), JobID: 3}))
	reqs = rc.requests()
	require.Len(t, reqs, 2)
	require.NoError(t, reqs[1].verifyErr)
	assert.Equal(t, "evt_7", reqs[1].header.Get("webhook-id"))

	api.json("POST", "/v1/webhooks/wh_nope/test", nil, 404, &apiErr)
	assert.Equal(t, kindWebhookNotFound, apiErr.Error.Kind)
	api.json("DELETE", "/v1/webhooks/wh_nope", nil, 404, &apiErr)
	assert.Equal(t, kindWebhookNotFound, apiErr.Error.Kind)
	status, _ = api.do("DELETE", "/v1/webhooks/"+created.ID, nil)
	assert.Equal(t, 204, status)
	api.json("GET", "/v1/webhooks", nil, 200, &list)
	assert.Empty(t, list.Webhooks)
	// With no endpoint, an event is taken.
	require.NoError(t, a.hooks.deliver(ctx, wasend.Event{ID: 9, Topic: wasend.TopicJobCompleted, At: time.Now(), JobID: 3}))
	assert.Len(t, rc.requests(), 2)

	out := logs.String()
	assert.Contains(t, out, `route="POST /v1/webhooks"`)
	assert.NotContains(t, out, created.Secret)
	assert.NotContains(t, out, strings.TrimPrefix(created.Secret, "whsec_"))
	assert.NotContains(t, out, "s3cr3t-path")
}
