package wasend

import (
	"time"
	"unicode/utf8"
)

// notices builds the outbox's events of what comes back from WhatsApp:
// receipts, incoming messages, suppressions and accounts. Those that a
// step tells of (receipts, stored accounts) come from noticesOf, through the
// outbox's Store wrapper; the others are built here and handed to the
// store's own method (InboxStore.RecordIncoming, SuppressionStore.Suppress)
// by their component. A zero notices (no outbox) builds none.
type notices struct {
	// on says that the outbox is on (WithOutbox).
	on bool
	// pii says that the events carry whole phone numbers and texts
	// (WithEventPII).
	pii bool
	// wake tells the relay that events were written.
	wake func()
}

// woke tells the relay, when the outbox is on, that events were written.
func (n notices) woke() {
	if n.on && n.wake != nil {
		n.wake()
	}
}

// phone is a number as an event shows it: whole with WithEventPII,
// masked otherwise.
func (n notices) phone(p string) string {
	if n.pii {
		return p
	}
	return MaskPhone(p)
}

// incoming is the message.incoming event of m: its context, its time, and
// in Data its sender, whether it opted out, and (with WithEventPII)
// its text and WhatsApp's id of it (which holds the sender's number).
func (n notices) incoming(m IncomingMessage) []Event {
	if !n.on {
		return nil
	}
	md := map[string]any{"from": n.phone(m.From), "opt_out": m.OptOut, "text_chars": utf8.RuneCountInString(m.Text)}
	if n.pii {
		md["text"], md["wa_message_id"] = m.Text, m.WAMessageID
	}
	return []Event{{Topic: TopicMessageIncoming, At: m.At, ContextID: m.ContextID, Data: md}}
}

// suppressed is the suppression.added event of s: in Data the number
// and the reason; Status is the reason too.
func (n notices) suppressed(s Suppression) []Event {
	if !n.on {
		return nil
	}
	return []Event{{Topic: TopicSuppressionAdded, At: s.CreatedAt, ContextID: s.ContextID, Status: s.Reason,
		Data: map[string]any{"phone": n.phone(s.Phone), "reason": s.Reason}}}
}

// noticesOf derives the events of a step's receipt and of a context's
// account, as eventsOf derives those of statuses: message.delivered,
// message.read (a read message was delivered: when the read tick is the
// first one seen, only message.read is told) or message.undelivered,
// with the message's id and the ack as Status; context.account when a
// step stores a context's account, with the account in Data (masked
// unless pii). A changed account is not stored with its hold, so its
// context.account_changed comes from the event pump (outboxEventOf).
func noticesOf(s Step, at time.Time, pii bool) []Event {
	var evs []Event
	if r := s.Receipt; r != nil {
		ev := Event{At: r.At, MessageID: r.MessageID}
		if ev.At.IsZero() {
			ev.At = at
		}
		switch {
		case r.Undelivered:
			ev.Topic, ev.Status = TopicMessageUndelivered, "undelivered"
		case r.Ack >= AckRead:
			ev.Topic, ev.Status = TopicMessageRead, r.Ack.String()
		case r.Ack == AckDelivered:
			ev.Topic, ev.Status = TopicMessageDelivered, r.Ack.String()
		}
		if ev.Topic != "" {
			evs = append(evs, ev)
		}
	}
	if t := s.Context; t != nil && t.Account != nil && *t.Account != "" {
		n := notices{on: true, pii: pii}
		ev := Event{Topic: TopicContextAccount, At: t.At, ContextID: t.ID, Status: string(t.To),
			Data: map[string]any{"account": n.phone(*t.Account)}}
		if ev.At.IsZero() {
			ev.At = at
		}
		evs = append(evs, ev)
	}
	return evs
}
