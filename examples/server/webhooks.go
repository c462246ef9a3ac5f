package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/webhook"
)

// Error kinds of the webhook routes.
const (
	kindInvalidWebhook  wasend.ErrorKind = "invalid_webhook"
	kindWebhookNotFound wasend.ErrorKind = "webhook_not_found"
)

// hookEndpoint is a registered webhook endpoint. Its secret stays in
// memory: it is shown once, when the endpoint is created, and never
// listed nor logged.
type hookEndpoint struct {
	id    string
	types []string
	// ep filters on types; any takes every type (the test route's
	// webhook.test), with the same URL and secret.
	ep, any *webhook.Endpoint
}

// hooks is the registry of webhook endpoints, in memory: endpoints are
// not persisted across restarts (the events themselves are, in the
// store's outbox).
type hooks struct {
	sender *webhook.Sender

	mu  sync.Mutex
	eps []*hookEndpoint // in the order of creation
}

func newHooks(logger *slog.Logger) *hooks {
	sender, err := webhook.NewSender(webhook.WithLogger(logger))
	if err != nil {
		panic(err) // only an invalid option fails, and there is none
	}
	return &hooks{sender: sender}
}

// snapshot returns the endpoints registered now.
func (h *hooks) snapshot() []*hookEndpoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*hookEndpoint(nil), h.eps...)
}

func (h *hooks) add(e *hookEndpoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.eps = append(h.eps, e)
}

func (h *hooks) get(id string) (*hookEndpoint, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.eps {
		if e.id == id {
			return e, true
		}
	}
	return nil, false
}

func (h *hooks) remove(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, e := range h.eps {
		if e.id == id {
			h.eps = append(h.eps[:i:i], h.eps[i+1:]...)
			return true
		}
	}
	return false
}

// deliver is the Client's outbox handler (wasend.WithOutbox): it hands ev
// to the endpoints registered at this moment, signed, one attempt each; an
// error makes the relay deliver it again later. With no endpoint, the
// event is taken.
func (h *hooks) deliver(ctx context.Context, ev wasend.Event) error {
	list := h.snapshot()
	if len(list) == 0 {
		return nil
	}
	eps := make([]*webhook.Endpoint, len(list))
	for i, e := range list {
		eps[i] = e.ep
	}
	return webhook.OutboxHandler(h.sender, eps...)(ctx, ev)
}

// ----- routes

type createWebhookRequest struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
}

type webhookJSON struct {
	ID string `json:"id"`
	// URL is masked (webhook.Endpoint's String): its user information,
	// query and path beyond the first segment are not shown.
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
	// Secret is only in the answer of the creation.
	Secret string `json:"secret,omitempty"`
}

func (e *hookEndpoint) json() webhookJSON {
	return webhookJSON{ID: e.id, URL: e.ep.String(), EventTypes: e.types}
}

func newHookID() string {
	return "wh_" + hex.EncodeToString(randomBytes(8))
}

func (a *app) createWebhook(w http.ResponseWriter, r *http.Request) {
	var req createWebhookRequest
	if !decode(w, r, &req, false) {
		return
	}
	if req.URL == "" {
		writeError(w, http.StatusBadRequest, kindInvalidWebhook, "url is required")
		return
	}
	secret, err := webhook.GenerateSecret()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	types := append([]string{}, req.EventTypes...)
	ep, err := webhook.NewEndpoint(req.URL, []webhook.Secret{secret}, webhook.WithEventTypes(types...))
	if err != nil {
		// The endpoint's errors mask the URL.
		writeError(w, http.StatusBadRequest, kindInvalidWebhook, err.Error())
		return
	}
	anyType, err := webhook.NewEndpoint(req.URL, []webhook.Secret{secret})
	if err != nil {
		writeError(w, http.StatusBadRequest, kindInvalidWebhook, err.Error())
		return
	}
	e := &hookEndpoint{id: newHookID(), types: types, ep: ep, any: anyType}
	a.hooks.add(e)
	out := e.json()
	out.Secret = secret.Text()
	w.Header().Set("Location", "/v1/webhooks/"+e.id)
	writeJSON(w, http.StatusCreated, out)
}

func (a *app) listWebhooks(w http.ResponseWriter, r *http.Request) {
	out := []webhookJSON{}
	for _, e := range a.hooks.snapshot() {
		out = append(out, e.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

func (a *app) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !a.hooks.remove(id) {
		writeError(w, http.StatusNotFound, kindWebhookNotFound, fmt.Sprintf("no webhook endpoint %q", id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// webhookTestJSON is the outcome of a test delivery.
type webhookTestJSON struct {
	EventID    string `json:"event_id"`
	Delivered  bool   `json:"delivered"`
	Outcome    string `json:"outcome"`
	Status     int    `json:"status,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

// testWebhook sends one signed webhook.test event to an endpoint now,
// whatever its event types, and answers with the outcome of that one
// attempt.
func (a *app) testWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	e, ok := a.hooks.get(id)
	if !ok {
		writeError(w, http.StatusNotFound, kindWebhookNotFound, fmt.Sprintf("no webhook endpoint %q", id))
		return
	}
	payload, _ := json.Marshal(map[string]string{"webhook_id": e.id})
	ev := webhook.Event{ID: "evt_test_" + hex.EncodeToString(randomBytes(8)), Type: "webhook.test",
		Time: time.Now(), Payload: payload}
	res := a.hooks.sender.Attempt(r.Context(), e.any, ev, 1)
	out := webhookTestJSON{EventID: ev.ID, Delivered: res.Outcome == webhook.OutcomeDelivered,
		Outcome: res.Outcome.String(), Status: res.Status, DurationMS: res.Duration.Milliseconds()}
	if res.Err != nil && !errors.Is(res.Err, context.Canceled) {
		out.Error = res.Err.Error() // its URL is masked
	}
	writeJSON(w, http.StatusOK, out)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
