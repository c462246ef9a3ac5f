package wasend

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scriptedLeaser answers Acquire as told.
type scriptedLeaser struct {
	ok  bool
	err error
}

func (l *scriptedLeaser) Acquire(context.Context, int64, string, time.Duration) (bool, error) {
	return l.ok, l.err
}
func (l *scriptedLeaser) Release(context.Context, int64, string) error { return nil }
func (l *scriptedLeaser) Holders(context.Context, []int64) (map[int64]string, error) {
	return nil, nil
}

// closingSession counts its Close calls.
type closingSession struct {
	stubSession
	closed atomic.Int32
}

func (s *closingSession) Close(context.Context) error {
	s.closed.Add(1)
	return nil
}

// What the heartbeat does with a renewal's answer: keep, lapse, or drop.
func TestLeaseKeeperRenew(t *testing.T) {
	const ttl = time.Minute
	outage := errors.New("leaser out of reach")
	tests := []struct {
		name    string
		ok      bool
		err     error
		until   time.Duration // the lease's end, from now
		lapsed  bool          // the lease had lapsed before
		dropped bool
		lapses  bool
	}{
		{"renewed", true, nil, ttl, false, false, false},
		{"renewed after an outage", true, nil, -time.Second, true, false, false},
		{"lost to another process", false, nil, ttl, false, true, false},
		{"out of reach, lease still valid", false, outage, ttl, false, false, false},
		{"out of reach, lease ran out", false, outage, -time.Second, false, false, true},
		{"out of reach for long", false, outage, -lapsedKeep(ttl) - time.Second, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry()
			sess := &closingSession{stubSession: stubSession{"s"}}
			lc := newLiveContext(1, sess, time.Now().Add(tt.until))
			lc.leaseLapsed.Store(tt.lapsed)
			r.add(lc)
			k := testKeeper(r, &scriptedLeaser{ok: tt.ok, err: tt.err}, ttl)
			k.renew(lc)
			k.shutdown() // waits for the session of a dropped context to close
			assert.Equal(t, tt.dropped, r.get(1) == nil, "dropped from the registry")
			assert.Equal(t, tt.dropped, lc.dropped.Load(), "marked dropped")
			assert.Equal(t, tt.dropped, sess.closed.Load() == 1, "its session closed")
			assert.Equal(t, tt.lapses, lc.leaseLapsed.Load(), "lapsed")
			if tt.ok {
				require.True(t, lc.leaseValid(), "a renewed lease is valid")
			}
		})
	}
}

// abandoningSession is a closingSession that can also be abandoned.
type abandoningSession struct {
	closingSession
	abandoned atomic.Int32
}

func (s *abandoningSession) Abandon(context.Context) error {
	s.abandoned.Add(1)
	return nil
}

// A context lost to another process has its session abandoned, not
// closed: it must not save its login over the new holder's.
func TestLeaseLostAbandonsTheSession(t *testing.T) {
	r := newRegistry()
	sess := &abandoningSession{closingSession: closingSession{stubSession: stubSession{"s"}}}
	lc := newLiveContext(1, sess, time.Now().Add(time.Minute))
	r.add(lc)
	k := testKeeper(r, &scriptedLeaser{ok: false}, time.Minute)
	k.renew(lc)
	k.shutdown()
	assert.Equal(t, int32(1), sess.abandoned.Load(), "abandoned")
	assert.Zero(t, sess.closed.Load(), "not closed, which would save the login")
}

// testKeeper is a leaseKeeper of owner A over r's contexts.
func testKeeper(r *registry, l Leaser, ttl time.Duration) *leaseKeeper {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &leaseKeeper{leaser: l, owner: "A", ttl: ttl, contexts: r,
		consumers: newDispatcher(nil, r, time.Hour, log), closeTimeout: time.Second,
		now: time.Now, log: log, done: make(chan struct{})}
}
