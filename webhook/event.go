package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// MaxTypeLength is the longest event type accepted, in bytes.
const MaxTypeLength = 256

// Event is what a Sender delivers: one occurrence of something, identified
// by ID. The Sender sends it as the JSON body
//
//	{"type":"<Type>","timestamp":"<Time, RFC 3339 in UTC>","data":<Payload>}
//
// (the payload structure the Standard Webhooks specification recommends),
// with ID in the webhook-id header.
type Event struct {
	// ID identifies the event; it is sent as the webhook-id on every
	// attempt, and receivers use it to drop duplicates. It must be 1 to
	// MaxIDLength bytes of printable ASCII without space or full stop, for
	// example "evt_42" or a UUID.
	ID string
	// Type is a full-stop-separated type, such as "message.sent": one or
	// more parts of letters, digits, "_" and "-", at most MaxTypeLength
	// bytes in all. Endpoints filter on it.
	Type string
	// Time is when the event occurred (not when it is delivered); it must
	// not be zero.
	Time time.Time
	// Payload is the event's data as JSON; it is compacted into the body.
	// Empty means null.
	Payload []byte
}

// body checks e and returns the request body.
func (e Event) body() ([]byte, error) {
	if err := checkID(e.ID); err != nil {
		return nil, fmt.Errorf("%w: ID: %w", ErrInvalidEvent, err)
	}
	if err := checkType(e.Type); err != nil {
		return nil, fmt.Errorf("%w: Type: %w", ErrInvalidEvent, err)
	}
	if e.Time.IsZero() {
		return nil, fmt.Errorf("%w: Time is zero", ErrInvalidEvent)
	}
	data := e.Payload
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("null")
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%w: Payload is not valid JSON", ErrInvalidEvent)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{e.Type, e.Time.UTC().Format(time.RFC3339Nano), data})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkType checks an event type: parts of [A-Za-z0-9_-] joined by ".".
func checkType(t string) error {
	if t == "" || len(t) > MaxTypeLength {
		return fmt.Errorf("%d bytes, want 1 to %d", len(t), MaxTypeLength)
	}
	part := 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			part++
		case c == '.':
			if part == 0 {
				return fmt.Errorf("%q has an empty part", t)
			}
			part = 0
		default:
			return fmt.Errorf("%q holds %q; use letters, digits, \"_\", \"-\" and \".\"", t, c)
		}
	}
	if part == 0 {
		return fmt.Errorf("%q has an empty part", t)
	}
	return nil
}
