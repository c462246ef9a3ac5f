package webhook_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/wasend/wasend/webhook"
)

// A receiver verifies a delivery before it trusts its body.
func Example() {
	secret, err := webhook.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}

	// The receiver: verify the raw body, then use the webhook-id to drop
	// duplicates.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify([]webhook.Secret{secret}, r.Header, body, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Printf("received %s: %s\n", r.Header.Get("webhook-id"), body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	// The sender.
	ep, err := webhook.NewEndpoint(receiver.URL+"/hooks", []webhook.Secret{secret},
		webhook.WithEventTypes("message.*"))
	if err != nil {
		log.Fatal(err)
	}
	sender, err := webhook.NewSender(webhook.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	res, err := sender.Deliver(context.Background(), ep, webhook.Event{
		ID:      "evt_1",
		Type:    "message.sent",
		Time:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Payload: []byte(`{"to": "+33600000000"}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Outcome, "after", res.Attempt, "attempt, status", res.Status)
	// Output:
	// received evt_1: {"type":"message.sent","timestamp":"2026-01-02T03:04:05Z","data":{"to":"+33600000000"}}
	// delivered after 1 attempt, status 204
}

// Verify checks the headers and raw body of a request; here, the
// specification's test vector.
func ExampleVerify() {
	secret, err := webhook.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	body := []byte(`{"test": 2432232314}`)
	sent := time.Unix(1614265330, 0)

	fmt.Println(webhook.Verify([]webhook.Secret{secret}, h, body, sent.Add(time.Minute)))
	fmt.Println(webhook.Verify([]webhook.Secret{secret}, h, body, sent.Add(time.Hour)))
	fmt.Println(webhook.Verify([]webhook.Secret{secret}, h, []byte(`{"test": 1}`), sent))
	// Output:
	// <nil>
	// webhook: timestamp too old: 1614265330 is 3600 s before 1614268930
	// webhook: no matching signature
}

// A relay that stores its events schedules the retries itself: Attempt
// makes one attempt and says what to do next.
func ExampleSender_Attempt() {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer receiver.Close()

	secret, err := webhook.GenerateSecret()
	if err != nil {
		log.Fatal(err)
	}
	ep, err := webhook.NewEndpoint(receiver.URL, []webhook.Secret{secret})
	if err != nil {
		log.Fatal(err)
	}
	sender, err := webhook.NewSender(webhook.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	ev := webhook.Event{ID: "evt_7", Type: "campaign.done", Time: time.Now(), Payload: []byte(`{"campaign":7}`)}
	attempt := 3 // as the relay counted it
	res := sender.Attempt(context.Background(), ep, ev, attempt)
	switch res.Outcome {
	case webhook.OutcomeRetry:
		fmt.Println("status " + strconv.Itoa(res.Status) + ": retry in " + res.RetryAfter.String())
	case webhook.OutcomeFailed:
		fmt.Println("give up:", res.Err)
	default:
		fmt.Println("done")
	}
	// Output:
	// status 503: retry in 2m0s
}
