// Package scripted is an in-memory wasend.BrowserPool whose sessions follow
// a script: each send takes a scripted time and ends with a scripted result.
// Every message that "reaches WhatsApp" is recorded, so tests can prove
// that it arrived exactly once. It is for tests of the send workflow.
package scripted

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/wasend/wasend"
)

// Action scripts one call of SendText.
type Action struct {
	// Delay is how long the send takes. It honours ctx.
	Delay time.Duration
	// Err is the error the send returns.
	Err error
	// Deliver makes the message reach WhatsApp at the start of the send
	// (the click), whatever follows: a send whose confirmation is lost. A
	// ctx that ends after it gives an Unconfirmed error. A send with no
	// Err and no Panic always delivers.
	Deliver bool
	// Panic makes the send panic with this value (after delivering, when
	// Deliver is set).
	Panic any
	// Block makes the send wait until ctx ends or Release is called.
	Block bool
}

// Sent is a message that reached WhatsApp.
type Sent struct {
	From, To, Text, ID string
	At                 time.Time
}

// Pool is a scripted wasend.BrowserPool. It is safe for concurrent use.
type Pool struct {
	mu        sync.Mutex
	n         int
	sessions  map[string]*Session
	chats     map[string]*chats // per system id: the account's chats
	autoLogin bool
	noFinder  bool
	launchErr error
	attempts  int
	launches  int
}

var _ wasend.BrowserPool = (*Pool)(nil)

// Option configures a Pool.
type Option func(*Pool)

// WithAutoLogin makes every launched session report itself logged in at
// once. Default: true.
func WithAutoLogin(b bool) Option { return func(p *Pool) { p.autoLogin = b } }

// WithoutFinder makes the sessions unable to look in the chat (they do not
// implement wasend.SentFinder). Default: they can.
func WithoutFinder() Option { return func(p *Pool) { p.noFinder = true } }

// NewPool returns a Pool.
func NewPool(opts ...Option) *Pool {
	p := &Pool{sessions: map[string]*Session{}, chats: map[string]*chats{}, autoLogin: true}
	for _, o := range opts {
		o(p)
	}
	return p
}

// SetLaunchError makes later launches fail with err (nil restores them).
func (p *Pool) SetLaunchError(err error) {
	p.mu.Lock()
	p.launchErr = err
	p.mu.Unlock()
}

// Launch implements wasend.BrowserPool.
func (p *Pool) Launch(ctx context.Context, req wasend.LaunchRequest) (wasend.Session, error) {
	p.mu.Lock()
	p.attempts++
	if p.launchErr != nil {
		err := p.launchErr
		p.mu.Unlock()
		return nil, err
	}
	p.launches++
	id := req.SystemID
	if id == "" {
		p.n++
		id = "scripted-" + strconv.Itoa(p.n)
	}
	ch := p.chats[id]
	if ch == nil {
		ch = &chats{}
		p.chats[id] = ch
	}
	s := &Session{id: id, onEvent: req.OnEvent, release: make(chan struct{}), chats: ch}
	p.sessions[id] = s
	auto, noFinder := p.autoLogin, p.noFinder
	p.mu.Unlock()
	s.emit(wasend.SessionEvent{Type: wasend.EventQR, QR: "2@scripted," + id})
	if auto {
		s.Login()
	}
	if noFinder {
		return plain{s}, nil
	}
	return s, nil
}

// Session returns the session of a system id, or nil.
func (p *Pool) Session(systemID string) *Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions[systemID]
}

// Attempts counts the calls of Launch, failed ones included.
func (p *Pool) Attempts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts
}

// Launches counts the launches that succeeded.
func (p *Pool) Launches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.launches
}

// chats is what WhatsApp keeps of an account: every message it sent. The
// sessions of one system id (a browser profile) share it, as a relaunched
// browser sees the same chats.
type chats struct {
	mu   sync.Mutex
	sent []Sent
	seq  int
}

// Session is a scripted wasend.Session.
type Session struct {
	id      string
	onEvent func(wasend.SessionEvent)
	release chan struct{}
	chats   *chats

	mu        sync.Mutex
	script    []Action
	notOnWA   map[string]bool
	loggedOut bool
	calls     int
	active    int
	maxActive int
	closed    bool
}

var (
	_ wasend.Session    = (*Session)(nil)
	_ wasend.SentFinder = (*Session)(nil)
)

// plain hides FindSent.
type plain struct{ s *Session }

func (p plain) SystemID() string { return p.s.SystemID() }
func (p plain) SendText(ctx context.Context, to, text string) (wasend.Receipt, error) {
	return p.s.SendText(ctx, to, text)
}
func (p plain) Close(ctx context.Context) error { return p.s.Close(ctx) }

func (s *Session) emit(ev wasend.SessionEvent) {
	if s.onEvent == nil {
		return
	}
	ev.SystemID = s.id
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	s.onEvent(ev)
}

// Login reports the session logged in.
func (s *Session) Login() {
	s.mu.Lock()
	s.loggedOut = false
	s.mu.Unlock()
	s.emit(wasend.SessionEvent{Type: wasend.EventStatus, Status: wasend.ContextAvailable})
}

// Logout logs the session out: it reports disconnected, and sends fail with
// ErrLoggedOut until Login.
func (s *Session) Logout() {
	s.mu.Lock()
	s.loggedOut = true
	s.mu.Unlock()
	s.emit(wasend.SessionEvent{Type: wasend.EventStatus, Status: wasend.ContextDisconnected, Err: wasend.ErrLoggedOut})
}

// Script appends actions for the next calls of SendText.
func (s *Session) Script(actions ...Action) {
	s.mu.Lock()
	s.script = append(s.script, actions...)
	s.mu.Unlock()
}

// SetNotOnWhatsApp makes sends to the number fail with ErrNotOnWhatsApp.
func (s *Session) SetNotOnWhatsApp(to string) {
	s.mu.Lock()
	if s.notOnWA == nil {
		s.notOnWA = map[string]bool{}
	}
	s.notOnWA[to] = true
	s.mu.Unlock()
}

// Release unblocks the sends scripted with Block.
func (s *Session) Release() { close(s.release) }

// SystemID implements wasend.Session.
func (s *Session) SystemID() string { return s.id }

// SendText implements wasend.Session.
func (s *Session) SendText(ctx context.Context, to, text string) (wasend.Receipt, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return wasend.Receipt{}, wasend.ErrDisconnected
	}
	s.calls++
	s.active++
	s.maxActive = max(s.maxActive, s.active)
	var a Action
	if len(s.script) > 0 {
		a, s.script = s.script[0], s.script[1:]
	}
	switch {
	case s.loggedOut:
		a = Action{Err: wasend.ErrLoggedOut}
	case s.notOnWA[to]:
		a = Action{Err: fmt.Errorf("scripted: %w", wasend.ErrNotOnWhatsApp)}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	var r wasend.Receipt
	delivered := false
	if a.Deliver {
		// The message leaves at the start (the click); what follows is the
		// wait for a confirmation that may never come.
		r, delivered = s.deliver(to, text), true
	}
	lost := func(err error) error {
		if delivered {
			return wasend.Unconfirmed(err)
		}
		return err
	}
	if a.Delay > 0 {
		t := time.NewTimer(a.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return wasend.Receipt{}, lost(ctx.Err())
		}
	}
	if a.Block {
		select {
		case <-s.release:
		case <-ctx.Done():
			return wasend.Receipt{}, lost(ctx.Err())
		}
	}
	if !delivered && a.Err == nil && a.Panic == nil {
		r = s.deliver(to, text)
	}
	if a.Panic != nil {
		panic(a.Panic)
	}
	if a.Err != nil {
		return wasend.Receipt{}, a.Err
	}
	return r, nil
}

func (s *Session) deliver(to, text string) wasend.Receipt {
	c := s.chats
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	m := Sent{From: s.id, To: to, Text: text, ID: "true_" + to[1:] + "@c.us_" + strconv.Itoa(c.seq), At: time.Now().UTC()}
	c.sent = append(c.sent, m)
	return wasend.Receipt{MessageID: m.ID, SentAt: m.At}
}

// FindSent implements wasend.SentFinder.
func (s *Session) FindSent(ctx context.Context, to, text string, since time.Time) (wasend.Receipt, bool, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return wasend.Receipt{}, false, wasend.ErrDisconnected
	}
	c := s.chats
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.sent) - 1; i >= 0; i-- {
		m := c.sent[i]
		if m.To == to && m.Text == text && !m.At.Before(since) {
			return wasend.Receipt{MessageID: m.ID, SentAt: m.At}, true, nil
		}
	}
	return wasend.Receipt{}, false, nil
}

// FakePSS is the memory every scripted session reports.
const FakePSS = 64 << 20

// MemoryPSS implements wasend.ResourceReporter with FakePSS.
func (s *Session) MemoryPSS() (int64, error) { return FakePSS, nil }

// Close implements wasend.Session.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Closed reports whether Close was called.
func (s *Session) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Sent returns the messages that reached WhatsApp from the session's
// account (by any session of its system id), in order.
func (s *Session) Sent() []Sent {
	s.chats.mu.Lock()
	defer s.chats.mu.Unlock()
	return append([]Sent(nil), s.chats.sent...)
}

// Count returns how many times a message reached WhatsApp from the
// session's account.
func (s *Session) Count(to, text string) int {
	s.chats.mu.Lock()
	defer s.chats.mu.Unlock()
	n := 0
	for _, m := range s.chats.sent {
		if m.To == to && m.Text == text {
			n++
		}
	}
	return n
}

// Calls counts the calls of SendText.
func (s *Session) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// MaxConcurrent returns the most SendText calls that ran at once.
func (s *Session) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxActive
}

// ErrScripted is a retryable error for scripts.
var ErrScripted = errors.New("scripted: transient failure")
