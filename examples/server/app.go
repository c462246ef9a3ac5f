package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/sqlstore"
)

// app holds what the handlers need: the Client, the latest QR code of each
// context, the imitation of WhatsApp Web when the server runs on it, and
// what to close at the end, in order.
type app struct {
	client *wasend.Client
	// fake is the local imitation of WhatsApp Web, or nil on a real one.
	fake *fakewa.Server
	// token is the bearer token of /v1/*; empty means no authentication
	// (-insecure-no-auth).
	token string
	// autoScan makes the imitation's phone scan every new QR code
	// (-fake-autoscan), for demos.
	autoScan bool
	log      *slog.Logger
	// metrics serves /metrics (otelprom), or is nil in unit tests.
	metrics http.Handler
	// hooks is the registry of webhook endpoints, fed by the Client's
	// outbox.
	hooks *hooks

	// qrMu guards qrs, statuses and changed. changed is closed, and
	// replaced, whenever a QR code or a status changes: the QR streams wait
	// on it.
	qrMu     sync.Mutex
	qrs      map[int64]qrCode
	statuses map[int64]wasend.ContextStatus
	changed  chan struct{}

	// streams ends when the server shuts down: the QR streams (Server-Sent
	// Events) never go idle by themselves.
	streams    context.Context
	stopStream context.CancelFunc

	// closers run in order in close: the Client, the queue, the pool, the
	// database, then the embedded services.
	closers []closer

	runCancel context.CancelFunc
	runDone   chan error
	scans     sync.WaitGroup // the imitation's scans (autoScan)
	scanCtx   context.Context
	scanStop  context.CancelFunc
	closeOnce sync.Once
}

type closer struct {
	name string
	fn   func() error
}

// qrCode is the latest QR code a context showed: its payload (what a phone
// scans) and its image, rendered once.
type qrCode struct {
	payload string
	png     []byte
	at      time.Time
}

// onEvent is the Client's event handler: it keeps each context's latest QR
// code, and forgets it once the context is logged in.
func (a *app) onEvent(ev wasend.SessionEvent) {
	switch ev.Type {
	case wasend.EventQR:
		if ev.QR == "" {
			return
		}
		png, err := chromedpdriver.QRPNG(ev.QR)
		if err != nil {
			a.log.Warn("rendering a QR code", "context", ev.ContextID, "err", err)
			return
		}
		a.qrMu.Lock()
		a.qrs[ev.ContextID] = qrCode{payload: ev.QR, png: png, at: ev.At}
		delete(a.statuses, ev.ContextID) // a QR code: not logged in
		a.notifyLocked()
		a.qrMu.Unlock()
		if a.autoScan && a.fake != nil {
			a.scan(ev.ContextID, ev.QR)
		}
	case wasend.EventStatus:
		a.qrMu.Lock()
		if ev.Status == wasend.ContextAvailable {
			delete(a.qrs, ev.ContextID)
		}
		a.statuses[ev.ContextID] = ev.Status
		a.notifyLocked()
		a.qrMu.Unlock()
		a.log.Info("browser context status", "context", ev.ContextID, "status", ev.Status)
	}
}

// forget drops what the app knows of a closed context.
func (a *app) forget(id int64) {
	a.qrMu.Lock()
	delete(a.qrs, id)
	a.statuses[id] = wasend.ContextClosed
	a.notifyLocked()
	a.qrMu.Unlock()
}

// notifyLocked wakes the QR streams; a.qrMu is held.
func (a *app) notifyLocked() {
	if a.changed != nil {
		close(a.changed)
	}
	a.changed = make(chan struct{})
}

// watch returns a context's latest QR code and status (from the session's
// events; empty when none came since its last QR code), and a channel
// closed at the next change.
func (a *app) watch(id int64) (qrCode, bool, wasend.ContextStatus, <-chan struct{}) {
	a.qrMu.Lock()
	defer a.qrMu.Unlock()
	if a.changed == nil {
		a.changed = make(chan struct{})
	}
	q, ok := a.qrs[id]
	return q, ok, a.statuses[id], a.changed
}

// qr returns the latest QR code of a context.
func (a *app) qr(id int64) (qrCode, bool) {
	a.qrMu.Lock()
	defer a.qrMu.Unlock()
	q, ok := a.qrs[id]
	return q, ok
}

// fakePhone is the account of a context on the imitation (-fake-autoscan).
func fakePhone(contextID int64) string { return fmt.Sprintf("549110%07d", contextID) }

// scan plays the phone of context id scanning a QR code on the imitation.
func (a *app) scan(id int64, payload string) {
	a.scans.Add(1)
	go func() {
		defer a.scans.Done()
		ctx, cancel := context.WithTimeout(a.scanCtx, 30*time.Second)
		defer cancel()
		if err := a.fake.Scan(ctx, payload, fakePhone(id)); err != nil {
			a.log.Warn("simulated scan", "context", id, "err", err)
		}
	}()
}

// start runs the Client's workers until close.
func (a *app) start() {
	ctx, cancel := context.WithCancel(context.Background())
	a.runCancel = cancel
	a.runDone = make(chan error, 1)
	go func() { a.runDone <- a.client.Run(ctx) }()
}

// close stops the workers and closes the Client, the queue, the pool and
// the database, in that order, then the embedded services. It is
// idempotent.
func (a *app) close() error {
	var errs []error
	a.closeOnce.Do(func() {
		a.stopStreams()
		if a.runCancel != nil {
			a.runCancel()
			if err := <-a.runDone; err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("run: %w", err))
			}
		}
		if a.scanStop != nil {
			a.scanStop()
		}
		a.scans.Wait()
		for _, c := range a.closers {
			if err := c.fn(); err != nil {
				errs = append(errs, fmt.Errorf("closing %s: %w", c.name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// stopStreams ends the QR streams (at shutdown).
func (a *app) stopStreams() {
	if a.stopStream != nil {
		a.stopStream()
	}
}

// keyedStore tells Send's caller whether its call created the job or found
// the job of its idempotency key: the store's unique index decides, in one
// process or several, and CreateJob says which through ErrJobExists. It
// embeds the concrete store so that the Client still finds its optional
// interfaces (wasend.CampaignStore).
type keyedStore struct {
	*sqlstore.Store
}

type createdKey struct{}

// withCreated returns a ctx whose CreateJob calls report, in *created,
// whether they recorded a new job.
func withCreated(ctx context.Context, created *bool) context.Context {
	return context.WithValue(ctx, createdKey{}, created)
}

// CreateJob implements wasend.Store.
func (s keyedStore) CreateJob(ctx context.Context, j wasend.Job) (wasend.Job, error) {
	job, err := s.Store.CreateJob(ctx, j)
	if created, ok := ctx.Value(createdKey{}).(*bool); ok && err == nil {
		*created = true
	}
	return job, err
}
