package wasend

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// launcher makes browser contexts live in this process: it launches their
// sessions, takes their leases, records them, and registers them, so that
// their events reach the event pump and their queues a running dispatcher.
// CreateContext, OpenContext and the sweeper's takeover use it.
type launcher struct {
	pool      BrowserPool
	store     Store
	contexts  *registry
	leases    *leaseKeeper
	events    *eventPump
	consumers *dispatcher
	// closeTimeout bounds the close of a session given up.
	closeTimeout time.Duration
	now          func() time.Time
	log          *slog.Logger
}

// create launches a new browser context's session and records it, with
// status disconnected until the session reports that it is logged in.
// want holds its settings (Pacing, Proxy).
func (l *launcher) create(ctx context.Context, want BrowserContext) (BrowserContext, error) {
	sess, err := l.pool.Launch(ctx, LaunchRequest{Proxy: want.Proxy, OnEvent: l.events.onEvent})
	if err != nil {
		return BrowserContext{}, err
	}
	bc, err := l.store.CreateContext(ctx, BrowserContext{SystemID: sess.SystemID(), Status: ContextDisconnected,
		Pacing: want.Pacing, Proxy: want.Proxy})
	if err != nil {
		closeSession(l.log, l.closeTimeout, sess)
		return BrowserContext{}, err
	}
	until, err := l.leases.acquire(ctx, bc.ID)
	if err != nil {
		// Without the lease another process could open the same profile:
		// give the new context up.
		closeSession(l.log, l.closeTimeout, sess)
		_, _ = l.store.Apply(context.WithoutCancel(ctx), Step{Context: ctxAbandon.context(bc.ID, l.now())})
		return BrowserContext{}, err
	}
	if _, err := l.register(bc.ID, sess, until); err != nil {
		return BrowserContext{}, err
	}
	bc.Session = sess
	l.log.Info("browser context created", "context", bc.ID)
	return bc, nil
}

// open launches, in this process, the session of a browser context that
// exists already; see Client.OpenContext.
func (l *launcher) open(ctx context.Context, id int64) (BrowserContext, error) {
	bc, err := l.store.Context(ctx, id)
	if err != nil {
		return BrowserContext{}, err
	}
	if bc.Status == ContextClosed {
		return bc, ErrContextClosed
	}
	if lc := l.contexts.get(id); lc != nil {
		bc.Session = lc.session()
		return bc, nil
	}
	until, err := l.leases.acquire(ctx, id)
	if err != nil {
		return bc, err
	}
	// Until the session says it is logged in, the context cannot send.
	if _, err := l.store.Apply(ctx, Step{Context: ctxOpen.context(id, l.now())}); err != nil {
		l.leases.release(id)
		return bc, err
	}
	sess, err := l.pool.Launch(ctx, LaunchRequest{SystemID: bc.SystemID, Proxy: bc.Proxy, OnEvent: l.events.onEvent})
	if err != nil {
		// A session that is still open elsewhere (a holder that stalled
		// past its lease, and whose browser keeps the profile) leaves the
		// context disconnected: the holder takes it back when it wakes,
		// and jobs can still be sent to it meanwhile.
		if !errors.Is(err, ErrContextHeld) {
			_, _ = l.store.Apply(context.WithoutCancel(ctx), Step{Context: ctxLaunchErr.context(id, l.now())})
		}
		l.leases.release(id)
		return bc, err
	}
	if sess, err = l.register(id, sess, until); err != nil {
		return bc, err
	}
	bc, err = l.store.Context(ctx, id)
	bc.Session = sess
	return bc, err
}

// register makes a launched session live in this process, replays the
// events it sent before it had an id, and offers it to the dispatcher.
// When the Client closed meanwhile, it closes the session, releases the
// lease and returns ErrClosed.
func (l *launcher) register(id int64, sess Session, leaseUntil time.Time) (Session, error) {
	lc := newLiveContext(id, sess, leaseUntil)
	lc.usedAt.Store(l.now().UnixNano()) // for the hibernator, live is used
	early, live, ok := l.contexts.add(lc)
	if !ok {
		closeSession(l.log, l.closeTimeout, sess)
		l.leases.release(id)
		return nil, ErrClosed
	}
	if live != lc {
		// Another OpenContext of this id went live first: it keeps the
		// lease (the same owner's), and this launch's session is closed.
		closeSession(l.log, l.closeTimeout, sess)
		return live.session(), nil
	}
	l.events.replay(id, early)
	l.consumers.offer(lc)
	return sess, nil
}
