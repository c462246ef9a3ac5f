package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// Group commit: see "# Group commit" in doc.go. A group queues the calls
// of a Store; each batch is written by one of its callers' goroutines (the
// leader), which then hands the queue to the first caller waiting.

// DefaultGroupCommit is the number of group-commit transactions a Store
// keeps open at once (WithGroupCommit): none, every call alone. On the
// machine of BENCHMARKS.md ("Group commit against River"), with
// PostgreSQL on the same host and a fast flush, group commit saved
// commits and some of PostgreSQL's CPU but made the pipeline slower: a
// batch's statements run one after another on one connection, and its
// callers wait for it, where alone they run at once on several. It pays
// where a commit is slow (a disk that flushes slowly, synchronous
// replication, a distant server).
const DefaultGroupCommit = 0

// MaxGroupCommitCalls is the most calls one group-commit transaction
// writes; more wait for the next.
const MaxGroupCommitCalls = 128

// groupCall is one caller's work in a group commit.
type groupCall struct {
	// inTx does the work in the batch's transaction. It returns retry
	// true when the work failed without harming the transaction (it was
	// rolled back to its savepoint) and must run alone; an error means
	// the transaction is unusable.
	inTx func(ctx context.Context, tx *sql.Tx) (retry bool, err error)
	// alone does the work in a transaction of its own (or one statement),
	// when the call is alone, or must run again.
	alone func(ctx context.Context) error

	// wake is signalled at each change of state (its buffer holds one).
	wake chan struct{}
	// Under the group's mu: the state, and the error of the batch's
	// commit.
	state callState
	err   error
}

type callState int

const (
	callQueued  callState = iota // waiting for a transaction
	callLead                     // its caller leads the next batch
	callTaken                    // in a batch
	callWritten                  // in a batch that committed, or failed to (err)
	callAlone                    // must run alone, in its caller's goroutine
)

// group queues the calls of a Store's group commit. It starts no
// goroutine: each batch is written by the goroutine of one of its callers
// (the leader), which then hands the queue to the next caller waiting.
type group struct {
	db    *sql.DB
	limit int // transactions at once

	mu      sync.Mutex
	queue   []*groupCall
	running int // batches (or calls alone) being written
}

// do runs c: alone when a transaction is free and nobody waits, else in a
// batch. It returns the error of the batch's commit, or of c.alone; the
// outcome of c.inTx is c's own to record.
func (g *group) do(ctx context.Context, c *groupCall) error {
	c.wake = make(chan struct{}, 1)
	g.mu.Lock()
	if g.running < g.limit && len(g.queue) == 0 {
		// Nobody to share a commit with: no batch, no wait.
		g.running++
		g.mu.Unlock()
		defer g.finish()
		return c.alone(ctx)
	}
	g.queue = append(g.queue, c)
	g.mu.Unlock()

	st, err := g.wait(ctx, c)
	if err != nil {
		return err
	}
	if st == callLead {
		g.lead(ctx, c)
		if st, err = g.wait(ctx, c); err != nil {
			return err
		}
	}
	if st == callAlone {
		return c.alone(ctx)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return c.err
}

// wait waits for c's next state. If ctx ends while c is queued, it takes
// c out of the queue and returns ctx's error: nothing of c was written.
// Once a batch holds c, it waits for the batch.
func (g *group) wait(ctx context.Context, c *groupCall) (callState, error) {
	select {
	case <-c.wake:
	case <-ctx.Done():
		g.mu.Lock()
		if c.state == callQueued {
			g.remove(c)
			g.mu.Unlock()
			return 0, fail(ctx, "group commit", ctx.Err())
		}
		g.mu.Unlock()
		<-c.wake
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return c.state, nil
}

// set changes c's state and wakes its caller. The caller holds mu.
func (c *groupCall) set(st callState) {
	c.state = st
	c.wake <- struct{}{}
}

// remove takes c out of the queue. The caller holds mu.
func (g *group) remove(c *groupCall) {
	for i, q := range g.queue {
		if q == c {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return
		}
	}
}

// finish ends a batch (or a call alone): the first caller waiting, if
// any, leads the next batch.
func (g *group) finish() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.running--
		return
	}
	next := g.queue[0]
	g.queue = append(g.queue[:0], g.queue[1:]...)
	next.set(callLead)
}

// lead writes own and the calls queued behind it, in one transaction when
// there are several.
func (g *group) lead(ctx context.Context, own *groupCall) {
	g.mu.Lock()
	n := min(len(g.queue), MaxGroupCommitCalls-1)
	batch := append([]*groupCall{own}, g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	for _, c := range batch {
		c.state = callTaken
	}
	g.mu.Unlock()
	defer g.finish()
	// The batch is its callers', not the leader's alone: it goes on if
	// the leader's context ends.
	states, err := g.write(context.WithoutCancel(ctx), batch)
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, c := range batch {
		c.err = err
		c.set(states[i])
	}
}

// write writes a batch, and returns each call's state after it: written,
// or to run alone; and the error of the commit, if it failed.
func (g *group) write(ctx context.Context, batch []*groupCall) ([]callState, error) {
	states := make([]callState, len(batch))
	for i := range states {
		states[i] = callAlone
	}
	if len(batch) == 1 {
		return states, nil
	}
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		return states, nil
	}
	for i, c := range batch {
		retry, err := c.inTx(ctx, tx)
		if err != nil {
			// The transaction cannot go on: all run alone.
			rollback(tx)
			for i := range states {
				states[i] = callAlone
			}
			return states, nil
		}
		if !retry {
			states[i] = callWritten
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range states {
			states[i] = callWritten
		}
		return states, fail(ctx, "group commit: commit", err)
	}
	return states, nil
}

// savepoint runs f in a savepoint of tx: if f fails, tx is rolled back to
// the savepoint, and savepoint reports retry. An error means tx is
// unusable. ok false from f rolls back as well (a step whose UPDATEs did
// not all match).
func savepoint(ctx context.Context, tx *sql.Tx, f func() (keep bool, err error)) (retry bool, err error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT wasend_call"); err != nil {
		return false, err
	}
	keep, ferr := f()
	if ferr != nil || !keep {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT wasend_call"); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT wasend_call"); err != nil {
		return false, err
	}
	return ferr != nil, nil
}
