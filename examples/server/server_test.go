package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/internal/testenv"
)

// apiClient calls the server under test.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

// do sends a request with the token (unless token is "") and returns the
// status and the body.
func (c apiClient) do(method, path string, body any, header ...string) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	require.NoError(c.t, err)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, b
}

// json sends a request, checks its status and decodes the body into out.
func (c apiClient) json(method, path string, body any, want int, out any, header ...string) {
	c.t.Helper()
	got, b := c.do(method, path, body, header...)
	require.Equal(c.t, want, got, "%s %s: status; body %s", method, path, b)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(b, out), "%s %s: body %s", method, path, b)
	}
}

// eventually calls f until it reports true, or fails the test after d.
func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEndToEnd runs the server on its embedded defaults (SQLite, miniredis,
// the WhatsApp Web imitation, real headless Chromium), with pacing off, and
// drives it through its API only, but for the phone's scan of the QR code.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const token = "test-token-4f9c2a"
	ts := startServer(t, ctx, token)
	a, srv, logs, api := ts.app, ts.srv, ts.logs, ts.api

	// Health, and the token.
	api.json("GET", "/healthz", nil, 200, nil)
	api.json("GET", "/readyz", nil, 200, nil)
	noToken := apiClient{t: t, base: srv.URL}
	var apiErr errorBody
	noToken.json("GET", "/v1/stats", nil, 401, &apiErr)
	assert.Equal(t, "unauthorized", string(apiErr.Error.Kind))
	wrongToken := apiClient{t: t, base: srv.URL, token: token + "x"}
	wrongToken.json("GET", "/v1/contexts", nil, 401, nil)

	// A context, logged in by scanning its QR code.
	const phone = "5491100000001"
	var bc contextJSON
	api.json("POST", "/v1/contexts", nil, 201, &bc)
	require.NotZero(t, bc.ID)
	qrPath := fmt.Sprintf("/v1/contexts/%d/qr.png", bc.ID)
	eventually(t, 60*time.Second, "a QR code as a PNG", func() bool {
		status, body := api.do("GET", qrPath, nil)
		return status == 200 && bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n"))
	})
	eventually(t, 60*time.Second, "the context available after the scan", func() bool {
		var got contextJSON
		api.json("GET", fmt.Sprintf("/v1/contexts/%d", bc.ID), nil, 200, &got)
		if got.Status == "available" {
			return true
		}
		if q, ok := a.qr(bc.ID); ok {
			sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
			defer scancel()
			_ = a.fake.Scan(sctx, q.payload, phone) // a QR code that rotated meanwhile is scanned again
		}
		return false
	})
	// The app forgets the QR code on the session's status event, which
	// may come a moment after the store says available.
	eventually(t, 10*time.Second, "no QR code once logged in", func() bool {
		status, _ := api.do("GET", qrPath, nil)
		return status == 404
	})
	var status int
	var stream, metrics []byte
	// Its QR stream tells that it is logged in, and ends.
	status, stream = api.do("GET", fmt.Sprintf("/v1/contexts/%d/qr/stream", bc.ID), nil)
	assert.Equal(t, 200, status)
	assert.Equal(t, "event: status\ndata: {\"status\":\"available\"}\n\n", string(stream))
	var list struct{ Contexts []contextJSON }
	api.json("GET", "/v1/contexts", nil, 200, &list)
	require.Len(t, list.Contexts, 1)
	assert.True(t, list.Contexts[0].Live)

	// A webhook endpoint, for the jobs' and messages' events.
	rc := newHookReceiver(t)
	var hook webhookJSON
	api.json("POST", "/v1/webhooks", map[string]any{"url": rc.URL + "/hooks", "event_types": []string{"job.*", "message.*"}}, 201, &hook)
	require.True(t, strings.HasPrefix(hook.Secret, "whsec_"), "the secret, shown once")
	rc.setSecret(hook.Secret)

	// A message, sent twice with one idempotency key: one job.
	const to, text = "+54 9 11 5555-0101", "Your code is 482913 (e2e)"
	msg := map[string]any{"to": to, "text": text, "metadata": map[string]any{"order": 17}}
	sendPath := fmt.Sprintf("/v1/contexts/%d/messages", bc.ID)
	var first, again jobJSON
	api.json("POST", sendPath, msg, 201, &first, "Idempotency-Key", "otp-17")
	api.json("POST", sendPath, msg, 200, &again, "Idempotency-Key", "otp-17")
	assert.Equal(t, first.ID, again.ID, "the same key and body give the same job")
	api.json("POST", sendPath, map[string]any{"to": to, "text": "another text"}, 409, &apiErr, "Idempotency-Key", "otp-17")
	assert.Equal(t, "idempotency_conflict", string(apiErr.Error.Kind))
	var single jobJSON
	eventually(t, 60*time.Second, "the job completed", func() bool {
		api.json("GET", fmt.Sprintf("/v1/jobs/%d", first.ID), nil, 200, &single)
		return single.Status == "completed"
	})
	require.Len(t, single.Messages, 1)
	assert.Equal(t, "sent", string(single.Messages[0].Status))
	assert.Equal(t, "+5491155550101", single.Messages[0].To)
	assert.Equal(t, text, single.Messages[0].Text)
	assert.Equal(t, float64(17), single.Metadata["order"])

	// Its events reached the endpoint, each signed, in order (by the
	// outbox's id; duplicates dropped by webhook-id).
	evs := rc.jobEvents(t, first.ID, "job.completed")
	topics := topicsOf(evs)
	for _, e := range evs {
		assert.Equal(t, float64(17), e.Data.Metadata["order"])
	}
	assert.Equal(t, []string{"job.created", "job.running", "message.sent", "job.completed"}, topics)
	for _, r := range rc.requests() {
		assert.NotContains(t, string(r.body), "55550101", "no number in a webhook")
		assert.NotContains(t, string(r.body), "482913", "no text in a webhook")
	}
	// The test route sends a webhook.test now.
	var hookTest webhookTestJSON
	api.json("POST", "/v1/webhooks/"+hook.ID+"/test", nil, 200, &hookTest)
	assert.True(t, hookTest.Delivered, "test webhook: %+v", hookTest)
	gotTest := false
	for _, r := range rc.requests() {
		var b hookBody
		require.NoError(t, json.Unmarshal(r.body, &b))
		if r.header.Get("webhook-id") == hookTest.EventID {
			require.NoError(t, r.verifyErr)
			gotTest = b.Type == "webhook.test"
		}
	}
	assert.True(t, gotTest, "the receiver got the webhook.test")
	var hookList struct{ Webhooks []webhookJSON }
	api.json("GET", "/v1/webhooks", nil, 200, &hookList)
	require.Len(t, hookList.Webhooks, 1)
	assert.Empty(t, hookList.Webhooks[0].Secret, "the list never shows the secret")
	status, _ = api.do("DELETE", "/v1/webhooks/"+hook.ID, nil)
	assert.Equal(t, 204, status)
	api.json("GET", "/v1/webhooks", nil, 200, &hookList)
	assert.Empty(t, hookList.Webhooks)

	// The metrics, open, count it as sent, and hold no number nor text.
	status, metrics = noToken.do("GET", "/metrics", nil)
	require.Equal(t, 200, status)
	sentLine := ""
	for line := range strings.SplitSeq(string(metrics), "\n") {
		if strings.HasPrefix(line, "wasend_messages_total{") && strings.Contains(line, `wasend_message_status="sent"`) {
			sentLine = line
		}
	}
	assert.True(t, strings.HasSuffix(sentLine, " 1"), "wasend_messages_total of status sent: %q", sentLine)
	assert.Contains(t, string(metrics), "wasend_contexts{")
	assert.NotContains(t, string(metrics), "55550101")
	assert.NotContains(t, string(metrics), "482913")

	// Bad input, and what does not exist.
	api.json("POST", sendPath, map[string]any{"to": "12-34", "text": "hi"}, 400, &apiErr)
	assert.Equal(t, "invalid_phone", string(apiErr.Error.Kind))
	api.json("POST", sendPath, map[string]any{"to": to, "txt": "typo"}, 400, &apiErr)
	assert.Equal(t, "invalid_request", string(apiErr.Error.Kind))
	api.json("GET", "/v1/jobs/999999", nil, 404, &apiErr)
	assert.Equal(t, "job_not_found", string(apiErr.Error.Kind))
	api.json("POST", "/v1/contexts/999999/messages", msg, 404, &apiErr)
	assert.Equal(t, "context_not_found", string(apiErr.Error.Kind))
	api.json("GET", "/v1/jobs?order=sideways", nil, 400, &apiErr)
	assert.Equal(t, "invalid_filter", string(apiErr.Error.Kind))

	// A bulk job, paused, resumed and cancelled.
	bulk := map[string]any{"delay_ms": 3000, "messages": []map[string]string{
		{"to": "+14155550100", "text": "Bulk one"}, {"to": "+14155550101", "text": "Bulk two"},
		{"to": "+14155550102", "text": "Bulk three"}}}
	var bj jobJSON
	api.json("POST", fmt.Sprintf("/v1/contexts/%d/bulk", bc.ID), bulk, 201, &bj)
	assert.Equal(t, "bulk", string(bj.Kind))
	assert.Equal(t, int64(3000), bj.DelayMS)
	api.json("POST", fmt.Sprintf("/v1/jobs/%d/pause", bj.ID), nil, 200, &bj)
	assert.Equal(t, "paused", string(bj.Status))
	api.json("POST", fmt.Sprintf("/v1/jobs/%d/resume", bj.ID), nil, 200, &bj)
	assert.Contains(t, []string{"pending", "running"}, string(bj.Status))
	api.json("POST", fmt.Sprintf("/v1/jobs/%d/cancel", bj.ID), nil, 200, &bj)
	assert.Equal(t, "cancelled", string(bj.Status))
	api.json("POST", fmt.Sprintf("/v1/jobs/%d/cancel", bj.ID), nil, 409, &apiErr)
	assert.Equal(t, "job_finished", string(apiErr.Error.Kind))

	// The jobs, a page of one at a time, newest first.
	var seen []int64
	path := "/v1/jobs?limit=1&order=newest"
	for range 5 {
		var page jobPageJSON
		api.json("GET", path, nil, 200, &page)
		for _, j := range page.Jobs {
			seen = append(seen, j.ID)
			assert.Empty(t, j.Messages, "a listing has no messages")
		}
		if page.NextCursor == "" {
			break
		}
		path = "/v1/jobs?limit=1&order=newest&cursor=" + page.NextCursor
	}
	assert.Equal(t, []int64{bj.ID, first.ID}, seen, "job ids, page by page")
	var page jobPageJSON
	api.json("GET", fmt.Sprintf("/v1/jobs?status=completed&kind=single&context=%d", bc.ID), nil, 200, &page)
	require.Len(t, page.Jobs, 1)
	assert.Equal(t, first.ID, page.Jobs[0].ID)

	// Stats.
	var st statsJSON
	api.json("GET", "/v1/stats", nil, 200, &st)
	assert.Equal(t, int64(1), st.Jobs["single"]["completed"])
	assert.Equal(t, int64(1), st.Jobs["bulk"]["cancelled"])
	require.Len(t, st.Contexts, 1)
	assert.True(t, st.Contexts[0].Live)

	// WhatsApp received the single message once, and no bulk message more
	// than once (each sent one, once).
	got := a.fake.Received(phone, "5491155550101")
	require.Len(t, got, 1, "the single message, received")
	assert.Equal(t, text, got[0].Text)
	var final jobJSON
	api.json("GET", fmt.Sprintf("/v1/jobs/%d", bj.ID), nil, 200, &final)
	for _, m := range final.Messages {
		n := len(a.fake.Received(phone, strings.TrimPrefix(m.To, "+")))
		if m.Status == "sent" {
			assert.Equal(t, 1, n, "message %d (sent) received", m.Position)
		} else {
			assert.LessOrEqual(t, n, 1, "message %d (%s) received", m.Position, m.Status)
		}
	}

	// Closing the context.
	var closed contextJSON
	api.json("DELETE", fmt.Sprintf("/v1/contexts/%d", bc.ID), nil, 200, &closed)
	assert.Equal(t, "closed", string(closed.Status))
	api.json("POST", sendPath, map[string]any{"to": to, "text": "after close"}, 409, &apiErr)

	// The logs name routes, never a number, a text or the token.
	out := logs.String()
	assert.Contains(t, out, `route="POST /v1/contexts/{id}/messages"`)
	assert.Contains(t, out, "status=201")
	assert.Contains(t, out, `route="POST /v1/webhooks/{id}/test"`)
	for _, secret := range []string{"5491155550101", "5555-0101", "482913", "Bulk one", "14155550100", token,
		hook.Secret, strings.TrimPrefix(hook.Secret, "whsec_")} {
		assert.NotContains(t, out, secret, "the logs hold %q", secret)
	}
}

// TestRun runs the program as main does, on the embedded defaults: it makes
// up a token and prints it, serves, and shuts down when ctx ends.
func TestRun(t *testing.T) {
	chromium := testenv.Chromium(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{addr: "127.0.0.1:0", chromium: chromium, dataDir: t.TempDir(), pacing: "default"}, stderr)
	}()
	var base, token string
	eventually(t, 30*time.Second, "the server listening", func() bool {
		out := stderr.String()
		if _, rest, ok := strings.Cut(out, "listening on "); ok {
			base, _, _ = strings.Cut(rest, " ")
		}
		if _, rest, ok := strings.Cut(out, "choose one): "); ok {
			token, _, _ = strings.Cut(rest, "\n")
		}
		return base != "" && token != ""
	})
	api := apiClient{t: t, base: base, token: token}
	api.json("GET", "/healthz", nil, 200, nil)
	api.json("GET", "/v1/stats", nil, 200, nil)
	apiClient{t: t, base: base}.json("GET", "/v1/stats", nil, 401, nil)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its ctx ended")
	}
	assert.Contains(t, stderr.String(), "dashboard: "+base+"/?token="+token+"\n", "a ready-to-click dashboard URL")
	assert.Equal(t, 2, strings.Count(stderr.String(), token), "the token is printed twice (alone and in the dashboard's URL), and never logged")
}
