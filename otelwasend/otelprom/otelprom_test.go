package otelprom_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/otelwasend"
	"github.com/wasend/wasend/otelwasend/otelprom"
	"github.com/wasend/wasend/wasendtest"
)

func TestMetricsEndpoint(t *testing.T) {
	exp, err := otelprom.New()
	require.NoError(t, err)
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	obs, err := otelwasend.New(otelwasend.WithMeterProvider(exp.MeterProvider()))
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(),
		wasend.WithLogger(quiet), wasend.WithPacing(wasend.NoPacing()), wasend.WithObserver(obs),
		wasend.WithOutbox(func(context.Context, wasend.Event) error { return nil }))
	require.NoError(t, err)
	reg, err := obs.RegisterClient(client)
	require.NoError(t, err)
	t.Cleanup(func() {
		reg.Unregister()
		_ = client.Close()
	})
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
	job, err := client.Send(ctx, bc.ID, "+5491122334455", "metered")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		j, err := client.Job(ctx, job.ID)
		return err == nil && j.Status.Final()
	}, 30*time.Second, 10*time.Millisecond)

	rec := httptest.NewRecorder()
	exp.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	body := rec.Body.String()
	for _, want := range []string{"wasend_messages_total", `wasend_message_status="sent"`, "wasend_attempts_total",
		"wasend_send_duration_seconds_bucket", "wasend_contexts", "wasend_jobs_oldest_pending_age_seconds",
		"wasend_outbox_events{", `wasend_event_state="dead"`} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "334455", "no phone number in the metrics")
	assert.NotContains(t, body, "metered", "no text in the metrics")
	sent := ""
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "wasend_messages_total{") && strings.Contains(line, `wasend_message_status="sent"`) {
			sent = line
		}
	}
	assert.True(t, strings.HasSuffix(sent, " 1"), "one message sent: %q", sent)
}
