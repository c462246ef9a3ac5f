package main

import (
	"time"

	"github.com/wasend/wasend"
)

// The API's JSON shapes. Times are RFC 3339 in UTC, and absent when zero.

type contextJSON struct {
	ID           int64                `json:"id"`
	Status       wasend.ContextStatus `json:"status"`
	SystemID     string               `json:"system_id"`
	Live         bool                 `json:"live"`
	HasQR        bool                 `json:"has_qr"`
	Restriction  *restrictionJSON     `json:"restriction,omitempty"`
	FirstLoginAt *time.Time           `json:"first_login_at,omitempty"`
	Proxy        string               `json:"proxy,omitempty"`
	CreatedAt    *time.Time           `json:"created_at,omitempty"`
	UpdatedAt    *time.Time           `json:"updated_at,omitempty"`
}

type restrictionJSON struct {
	Kind   wasend.RestrictionKind `json:"kind"`
	Until  *time.Time             `json:"until,omitempty"`
	Reason string                 `json:"reason,omitempty"`
}

type jobJSON struct {
	ID             int64             `json:"id"`
	ContextID      int64             `json:"context_id"`
	CampaignID     int64             `json:"campaign_id,omitempty"`
	Kind           wasend.JobKind    `json:"kind"`
	Status         wasend.JobStatus  `json:"status"`
	DelayMS        int64             `json:"delay_ms"`
	Metadata       map[string]any    `json:"metadata,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	Attempts       int               `json:"attempts"`
	MaxAttempts    int               `json:"max_attempts"`
	Wait           wasend.WaitReason `json:"wait,omitempty"`
	NextRunAt      *time.Time        `json:"next_run_at,omitempty"`
	NotBefore      *time.Time        `json:"not_before,omitempty"`
	ErrorKind      wasend.ErrorKind  `json:"error_kind,omitempty"`
	Error          string            `json:"error,omitempty"`
	CreatedAt      *time.Time        `json:"created_at,omitempty"`
	UpdatedAt      *time.Time        `json:"updated_at,omitempty"`
	StartedAt      *time.Time        `json:"started_at,omitempty"`
	FinishedAt     *time.Time        `json:"finished_at,omitempty"`
	Messages       []messageJSON     `json:"messages,omitempty"`
}

type messageJSON struct {
	ID          int64                `json:"id"`
	Position    int                  `json:"position"`
	To          string               `json:"to"`
	Text        string               `json:"text"`
	Status      wasend.MessageStatus `json:"status"`
	MovedFrom   int64                `json:"moved_from,omitempty"`
	Attempts    int                  `json:"attempts"`
	AttemptedAt *time.Time           `json:"attempted_at,omitempty"`
	SentAt      *time.Time           `json:"sent_at,omitempty"`
	WAMessageID string               `json:"wa_message_id,omitempty"`
	ErrorKind   wasend.ErrorKind     `json:"error_kind,omitempty"`
	Error       string               `json:"error,omitempty"`
	UpdatedAt   *time.Time           `json:"updated_at,omitempty"`
}

type jobPageJSON struct {
	Jobs []jobJSON `json:"jobs"`
	// NextCursor is the cursor of the next page, or empty after the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

type statsJSON struct {
	Jobs     map[wasend.JobKind]map[wasend.JobStatus]int64 `json:"jobs"`
	Messages map[wasend.MessageStatus]int64                `json:"messages"`
	Contexts []contextStatsJSON                            `json:"contexts"`
	Queue    queueStatsJSON                                `json:"queue"`
}

type contextStatsJSON struct {
	ID        int64                          `json:"id"`
	Status    wasend.ContextStatus           `json:"status"`
	Live      bool                           `json:"live"`
	MemoryPSS int64                          `json:"memory_pss"`
	Jobs      map[wasend.JobStatus]int64     `json:"jobs"`
	Messages  map[wasend.MessageStatus]int64 `json:"messages"`
	Pacing    *pacingJSON                    `json:"pacing,omitempty"`
}

type pacingJSON struct {
	HourLeft        int               `json:"hour_left"`
	DayLeft         int               `json:"day_left"`
	NewContactsLeft int               `json:"new_contacts_left"`
	Wait            wasend.WaitReason `json:"wait,omitempty"`
	Until           *time.Time        `json:"until,omitempty"`
}

type queueStatsJSON struct {
	Waiting   int64 `json:"waiting"`
	Delayed   int64 `json:"delayed"`
	InFlight  int64 `json:"in_flight"`
	Processed int64 `json:"processed"`
	Retried   int64 `json:"retried"`
	Failed    int64 `json:"failed"`
	Consumers int   `json:"consumers"`
}

// ts is t in UTC, or nil when it is zero.
func ts(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// contextOf is a context's JSON. Its proxy's password is masked: it is a
// credential, not the caller's data.
func (a *app) contextOf(bc wasend.BrowserContext) contextJSON {
	_, hasQR := a.qr(bc.ID)
	c := contextJSON{ID: bc.ID, Status: bc.Status, SystemID: bc.SystemID, Live: bc.Session != nil,
		HasQR: hasQR, FirstLoginAt: ts(bc.FirstLoginAt), Proxy: wasend.MaskProxy(bc.Proxy),
		CreatedAt: ts(bc.CreatedAt), UpdatedAt: ts(bc.UpdatedAt)}
	if r := bc.Restriction; r.Kind != wasend.RestrictionNone {
		c.Restriction = &restrictionJSON{Kind: r.Kind, Until: ts(r.Until), Reason: r.Reason}
	}
	return c
}

func jobOf(j wasend.Job) jobJSON {
	out := jobJSON{ID: j.ID, ContextID: j.ContextID, CampaignID: j.CampaignID, Kind: j.Kind, Status: j.Status,
		DelayMS: j.Delay.Milliseconds(), Metadata: j.Metadata, IdempotencyKey: j.IdempotencyKey,
		Attempts: j.Attempts, MaxAttempts: j.MaxAttempts, Wait: j.Wait, NextRunAt: ts(j.NextRunAt),
		NotBefore: ts(j.NotBefore), ErrorKind: j.ErrorKind, Error: j.Error, CreatedAt: ts(j.CreatedAt),
		UpdatedAt: ts(j.UpdatedAt), StartedAt: ts(j.StartedAt), FinishedAt: ts(j.FinishedAt)}
	for _, m := range j.Messages {
		out.Messages = append(out.Messages, messageJSON{ID: m.ID, Position: m.Position, To: m.To, Text: m.Text,
			Status: m.Status, MovedFrom: m.MovedFrom, Attempts: m.Attempts, AttemptedAt: ts(m.AttemptedAt),
			SentAt: ts(m.SentAt), WAMessageID: m.WAMessageID, ErrorKind: m.ErrorKind, Error: m.Error,
			UpdatedAt: ts(m.UpdatedAt)})
	}
	return out
}

func statsOf(st wasend.Stats) statsJSON {
	out := statsJSON{Jobs: st.Jobs, Messages: st.Messages, Contexts: []contextStatsJSON{},
		Queue: queueStatsJSON{Waiting: st.Queue.Waiting, Delayed: st.Queue.Delayed, InFlight: st.Queue.InFlight,
			Processed: st.Queue.Processed, Retried: st.Queue.Retried, Failed: st.Queue.Failed,
			Consumers: st.Queue.Consumers}}
	for _, c := range st.Contexts {
		cs := contextStatsJSON{ID: c.ID, Status: c.Status, Live: c.Live, MemoryPSS: c.MemoryPSS,
			Jobs: c.Jobs, Messages: c.Messages}
		if p := c.Pacing; p != nil {
			cs.Pacing = &pacingJSON{HourLeft: p.HourLeft, DayLeft: p.DayLeft, NewContactsLeft: p.NewContactsLeft,
				Wait: p.Wait, Until: ts(p.Until)}
		}
		out.Contexts = append(out.Contexts, cs)
	}
	return out
}
