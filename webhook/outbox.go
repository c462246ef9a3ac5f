package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wasend/wasend"
)

// OutboxHandler returns a wasend.OutboxHandler (wasend.WithOutbox) that
// delivers each event of a Client's outbox to every endpoint that accepts
// its topic, with one attempt of sender per endpoint. It returns nil once
// every endpoint took the event (or filters it out), and an error
// otherwise: the Client's relay then delivers the event again later, with
// its backoff, to every endpoint, so an endpoint that took it already
// gets it again with the same webhook-id ("evt_" and the event's id),
// which receivers use to drop duplicates. An event that keeps failing
// ends dead in the outbox (wasend.Stats.Outbox).
//
// The body's data is the event as JSON (see EventData): ids, topic,
// status, error kind, time and the job's metadata; never a phone number
// or a text.
func OutboxHandler(sender *Sender, endpoints ...*Endpoint) wasend.OutboxHandler {
	return func(ctx context.Context, ev wasend.Event) error {
		wev, err := FromOutbox(ev)
		if err != nil {
			return err
		}
		var errs []error
		for _, ep := range endpoints {
			res := sender.Attempt(ctx, ep, wev, ev.Attempts+1)
			switch res.Outcome {
			case OutcomeDelivered, OutcomeSkipped:
			default:
				errs = append(errs, fmt.Errorf("%s: %s: %w", ep, res.Outcome, res.Err))
			}
		}
		return errors.Join(errs...)
	}
}

// EventData is the data of a webhook made from an outbox event.
type EventData struct {
	ID         int64            `json:"id"`
	Topic      string           `json:"topic"`
	At         time.Time        `json:"at"`
	JobID      int64            `json:"job_id,omitempty"`
	MessageID  int64            `json:"message_id,omitempty"`
	ContextID  int64            `json:"context_id,omitempty"`
	CampaignID int64            `json:"campaign_id,omitempty"`
	Status     string           `json:"status,omitempty"`
	ErrorKind  wasend.ErrorKind `json:"error_kind,omitempty"`
	Metadata   map[string]any   `json:"metadata,omitempty"`
	// Data is what the event tells beyond its ids (wasend.Event.Data).
	Data    map[string]any `json:"data,omitempty"`
	Version int            `json:"version"`
}

// FromOutbox makes the webhook Event of an outbox event: ID "evt_<id>",
// Type the topic, Time the event's, and EventData as the payload.
func FromOutbox(ev wasend.Event) (Event, error) {
	payload, err := json.Marshal(EventData{ID: ev.ID, Topic: string(ev.Topic), At: ev.At.UTC(), JobID: ev.JobID,
		MessageID: ev.MessageID, ContextID: ev.ContextID, CampaignID: ev.CampaignID, Status: ev.Status,
		ErrorKind: ev.ErrorKind, Metadata: ev.Metadata, Data: ev.Data, Version: ev.Version})
	if err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	return Event{ID: fmt.Sprintf("evt_%d", ev.ID), Type: string(ev.Topic), Time: ev.At, Payload: payload}, nil
}
