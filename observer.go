package wasend

import (
	"context"
	"time"
)

// Observer is told what the Client does, for metrics and traces
// (WithObserver; the otelwasend sub-package implements it on
// OpenTelemetry). Its methods are called on the Client's goroutines: they
// must be safe for concurrent use and return quickly. Nothing it is given
// holds a phone number or a text.
type Observer interface {
	// StartAttempt is called as an attempt of a message begins, just
	// before the session's SendText. It returns the ctx the attempt runs
	// with (a tracer puts its span there) and a func that the Client calls
	// once, when the attempt ends.
	StartAttempt(ctx context.Context, a Attempt) (context.Context, func(AttemptEnd))
	// Turn is called as each turn of a message ends (an attempt or a
	// lookup), with the message's status after it, as it is recorded;
	// and, with Final set and Attempted not, for each message that gets
	// its outcome outside a turn: a job cancelled, failed by its closed
	// context or dead-lettered. A message that moves to another context
	// (a campaign) has no outcome: its copy's is told.
	Turn(t Turn)
	// Waited is called when a job waits for its context's pacing or a
	// restriction, without spending an attempt.
	Waited(w Wait)
}

// Attempt describes an attempt of a message as it begins.
type Attempt struct {
	ContextID int64
	JobID     int64
	MessageID int64
	Kind      JobKind
	// Number is the attempt's number for the message, from 1.
	Number int
}

// AttemptEnd describes how an attempt ended.
type AttemptEnd struct {
	// Err is the attempt's error, nil when the session confirmed the send;
	// ErrorKind is its class.
	Err       error
	ErrorKind ErrorKind
	// Clicked says that the session reached the click: the message may
	// have left.
	Clicked bool
	// Duration is the attempt's time, from its start to its end.
	Duration time.Duration
}

// Turn describes a recorded turn of a message.
type Turn struct {
	ContextID int64
	JobID     int64
	MessageID int64
	Kind      JobKind
	// Status is the message's status after the turn; Final says whether
	// it is its outcome (sent, failed, cancelled or unknown).
	Status MessageStatus
	Final  bool
	// ErrorKind is the turn's error class, or ErrorKindNone.
	ErrorKind ErrorKind
	// Attempted says that the turn spent an attempt.
	Attempted bool
}

// Wait describes a job that waits without spending an attempt.
type Wait struct {
	ContextID int64
	JobID     int64
	Reason    WaitReason
	Until     time.Time
}

// noObserver is the Observer of a Client without WithObserver.
type noObserver struct{}

func (noObserver) StartAttempt(ctx context.Context, _ Attempt) (context.Context, func(AttemptEnd)) {
	return ctx, func(AttemptEnd) {}
}
func (noObserver) Turn(Turn)   {}
func (noObserver) Waited(Wait) {}
