package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
	"github.com/wasend/wasend/webhook"
)

// A Client's outbox delivered to a receiver that is down for its first
// requests: once it is back it gets every event, each id at least once,
// in order per job, every request signed.
func TestOutboxToAReceiverThatWasDown(t *testing.T) {
	secrets := []webhook.Secret{newSecret(t)}
	const down = 6
	rc := newReceiver(t, secrets, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	sender, err := webhook.NewSender(webhook.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	ep := rc.endpoint(t, "/hooks", secrets, webhook.WithEventTypes("job.*", "message.*"))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(),
		wasend.WithLogger(quiet), wasend.WithPacing(wasend.NoPacing()), wasend.WithBulkDelay(0),
		wasend.WithBackoff(10*time.Millisecond, 20*time.Millisecond, 0),
		wasend.WithOutbox(webhook.OutboxHandler(sender, ep)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	bc, err := client.CreateContext(ctx)
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- client.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		<-done
	})
	job, err := client.SendBulk(ctx, bc.ID, []wasend.BulkMessage{{To: "+5491122334455", Text: "hooked one"},
		{To: "+5491122334466", Text: "hooked two"}}, wasend.Metadata(map[string]any{"order": "W-9"}))
	require.NoError(t, err)

	// job.created, job.running, two message.sent, job.completed: five
	// events of the job, whatever the receiver saw before it came back.
	type got struct {
		id    string
		topic string
		data  webhook.EventData
	}
	var events []got
	require.Eventually(t, func() bool {
		seen := map[string]bool{}
		events = events[:0]
		for _, r := range rc.requests() {
			if r.verifyErr != nil {
				t.Fatalf("a request failed verification: %v", r.verifyErr)
			}
			var body struct {
				Type string            `json:"type"`
				Data webhook.EventData `json:"data"`
			}
			require.NoError(t, json.Unmarshal(r.body, &body))
			id := r.header.Get("webhook-id")
			if seen[id] {
				continue // a duplicate the receiver drops by id
			}
			seen[id] = true
			if body.Data.JobID == job.ID {
				events = append(events, got{id, body.Type, body.Data})
			}
		}
		return len(events) == 5
	}, 20*time.Second, 10*time.Millisecond)
	assert.Greater(t, len(rc.requests()), down, "the receiver was down for the first requests")
	sort.Slice(events, func(i, j int) bool { return events[i].data.ID < events[j].data.ID })
	var topics []string
	for _, e := range events {
		topics = append(topics, e.topic)
		assert.Equal(t, "W-9", e.data.Metadata["order"])
		assert.Equal(t, bc.ID, e.data.ContextID)
	}
	assert.Equal(t, []string{"job.created", "job.running", "message.sent", "message.sent", "job.completed"}, topics)
	for _, r := range rc.requests() {
		assert.NotContains(t, string(r.body), "334455", "no phone number in a webhook")
		assert.NotContains(t, string(r.body), "hooked", "no text in a webhook")
	}
	st, err := client.Stats(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.Outbox)
	assert.Zero(t, st.Outbox.Dead)
}

// TestFromOutboxCarriesData: an event's Data is the payload's "data".
func TestFromOutboxCarriesData(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ev, err := webhook.FromOutbox(wasend.Event{ID: 7, Topic: wasend.TopicJobWaiting, At: at, JobID: 3, ContextID: 2,
		Status: string(wasend.WaitGap), Data: map[string]any{"until": "2026-12-07T10:00:30Z"}, Version: wasend.EventVersion})
	require.NoError(t, err)
	var d webhook.EventData
	require.NoError(t, json.Unmarshal(ev.Payload, &d))
	assert.Equal(t, map[string]any{"until": "2026-12-07T10:00:30Z"}, d.Data)
	assert.Equal(t, "gap", d.Status)
	assert.Equal(t, "evt_7", ev.ID)
	plain, err := webhook.FromOutbox(wasend.Event{ID: 8, Topic: wasend.TopicJobCreated, At: at, JobID: 3})
	require.NoError(t, err)
	assert.NotContains(t, string(plain.Payload), `"data"`, "no data, no key")
}
