package wasend

import "sync"

// registry is the set of live contexts of this process, by id and by the
// system id of their session, with the events of sessions that are not
// registered yet. It has its own lock, taken for map operations only. A
// live context that leaves the registry is marked dropped, so that the
// workers that still hold it see that this process no longer does.
type registry struct {
	mu       sync.Mutex
	byID     map[int64]*liveContext
	bySystem map[string]*liveContext
	early    map[string][]SessionEvent // events of sessions not registered yet
	closed   bool                      // the Client closed: no context goes live any more
}

// maxEarlyEvents bounds the events kept for a session not registered yet.
const maxEarlyEvents = 64

func newRegistry() *registry {
	return &registry{
		byID:     make(map[int64]*liveContext),
		bySystem: make(map[string]*liveContext),
		early:    make(map[string][]SessionEvent),
	}
}

// get returns the live context id, or nil.
func (r *registry) get(id int64) *liveContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// all returns the live contexts.
func (r *registry) all() []*liveContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*liveContext, 0, len(r.byID))
	for _, lc := range r.byID {
		out = append(out, lc)
	}
	return out
}

// len returns how many contexts are live.
func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// add makes lc the live context of its id, and returns the events that its
// session sent before it had one, and lc. When its id has a live context
// already (two OpenContext calls raced), that one stays and add returns it
// instead: the caller closes lc's session. It refuses, and reports false,
// once the registry is closed.
func (r *registry) add(lc *liveContext) ([]SessionEvent, *liveContext, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, nil, false
	}
	if live := r.byID[lc.id]; live != nil {
		return nil, live, true
	}
	r.byID[lc.id] = lc
	r.bySystem[lc.systemID] = lc
	early := r.early[lc.systemID]
	delete(r.early, lc.systemID)
	return early, lc, true
}

// remove removes lc if it is still the live context of its id, and reports
// whether it was.
func (r *registry) remove(lc *liveContext) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID[lc.id] != lc {
		return false
	}
	r.removeLocked(lc)
	return true
}

// removeID removes the live context id and returns it, or nil.
func (r *registry) removeID(id int64) *liveContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	lc := r.byID[id]
	if lc != nil {
		r.removeLocked(lc)
	}
	return lc
}

// close removes every live context and returns them; no context is added
// after it.
func (r *registry) close() []*liveContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	out := make([]*liveContext, 0, len(r.byID))
	for _, lc := range r.byID {
		out = append(out, lc)
		lc.dropped.Store(true)
	}
	r.byID = make(map[int64]*liveContext)
	r.bySystem = make(map[string]*liveContext)
	return out
}

func (r *registry) removeLocked(lc *liveContext) {
	delete(r.byID, lc.id)
	delete(r.bySystem, lc.systemID)
	lc.dropped.Store(true)
}

// route returns the live context of an event's session. The event of a
// session not registered yet is kept for add, and route returns nil.
func (r *registry) route(ev SessionEvent) *liveContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	lc := r.bySystem[ev.SystemID]
	if lc == nil && len(r.early[ev.SystemID]) < maxEarlyEvents {
		r.early[ev.SystemID] = append(r.early[ev.SystemID], ev)
	}
	return lc
}

// sessions returns the session of each live context, by id.
func (r *registry) sessions() map[int64]Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int64]Session, len(r.byID))
	for id, lc := range r.byID {
		out[id] = lc.session()
	}
	return out
}
