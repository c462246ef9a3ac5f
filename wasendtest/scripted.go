package wasendtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/wasend/wasend"
)

// Action scripts one call of SendText. Its parts run in this order: the
// wait before the click (Delay), the click (Deliver, or the end of a call
// with no Err and no Panic), the wait after the click (After), then Panic
// or Err.
type Action struct {
	// Delay is how long the send takes before its click. It honours ctx
	// unless IgnoreCtx is set.
	Delay time.Duration
	// Err is the error the send returns.
	Err error
	// Deliver makes the message reach WhatsApp at the click, whatever
	// follows: a send whose confirmation is lost. A ctx that ends after
	// it gives an Unconfirmed error. A send with no Err and no Panic
	// always delivers.
	Deliver bool
	// After is how long the send waits after the click before it returns:
	// a confirmation that comes late, or never within the ctx. It honours
	// ctx unless IgnoreCtx is set.
	After time.Duration
	// IgnoreCtx makes the waits (Delay, After, Block) ignore ctx: a hung
	// session.
	IgnoreCtx bool
	// Panic makes the send panic with this value (after delivering, when
	// Deliver is set).
	Panic any
	// Block makes the send wait until ctx ends or Release is called.
	Block bool
	// Logout logs the session out at the start of the call, with its
	// status event, before the call fails with ErrLoggedOut.
	Logout bool
	// Lost makes the click lose the message: the session clicks (and
	// reports its mark) but the message never reaches WhatsApp.
	Lost bool
}

// Find scripts one call of FindSent. The zero Find answers the truth.
type Find struct {
	// Delay is how long the lookup takes; it honours ctx unless IgnoreCtx
	// is set.
	Delay     time.Duration
	IgnoreCtx bool
	// Err is the error the lookup returns instead of an answer.
	Err error
	// Panic makes the lookup panic with this value.
	Panic any
}

// Sent is a message that reached WhatsApp.
type Sent struct {
	From, To, Text, ID string
	At                 time.Time
	// Media is a media message's file as the session attached it (Text
	// is then its caption), or nil; MediaSHA256 is the checksum (hex) of
	// the bytes the session read from it.
	Media       *wasend.MediaFile
	MediaSHA256 string
}

// Pool is an in-memory wasend.BrowserPool whose sessions follow a script:
// each send takes a scripted time and ends with a scripted result. Every
// message that "reaches WhatsApp" is recorded, so tests can prove that it
// arrived exactly once. It is safe for concurrent use.
type Pool struct {
	mu        sync.Mutex
	n         int
	sessions  map[string]*Session
	chats     map[string]*chats // per system id: the account's chats
	autoLogin bool
	legacy    bool
	noFinder  bool
	pairing   bool
	notOnWA   []string
	all       *sentLog // every message that reached WhatsApp, from any account
	launchErr error
	onLaunch  func(ctx context.Context, req wasend.LaunchRequest) error
	onClose   func(systemID string)
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

// WithLegacySessions makes the sessions as they were before they could
// follow acks, mark chats read, check numbers and send files: they do not
// implement wasend.AckFollower, wasend.InboxReader, wasend.NumberChecker
// or wasend.MediaSender (they still look in the chat and mark their sends,
// unless WithoutFinder). Default: they do.
func WithLegacySessions() Option { return func(p *Pool) { p.legacy = true } }

// WithPairing makes the sessions implement wasend.PhonePairer, so that
// Client.RequestPairingCode works on them: a session that is not logged in
// reports a pairing code (wasend.EventPairingCode), and
// Session.ConfirmPairingCode plays the phone that types it. Default: false,
// the sessions cannot pair (the Client returns wasend.ErrNotSupported).
func WithPairing(on bool) Option { return func(p *Pool) { p.pairing = on } }

// WithNotOnWhatsApp makes sends to these numbers (E.164), from every
// session of the pool, fail with wasend.ErrNotOnWhatsApp. Default: every
// number is on WhatsApp.
func WithNotOnWhatsApp(numbers ...string) Option {
	return func(p *Pool) { p.notOnWA = append(p.notOnWA, numbers...) }
}

// NewPool returns a Pool.
func NewPool(opts ...Option) *Pool {
	p := &Pool{sessions: map[string]*Session{}, chats: map[string]*chats{}, autoLogin: true, all: &sentLog{}}
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

// SetLaunchHook makes later launches call f first, outside the pool's
// lock: a launch fails with its error, and takes as long as it does (f may
// block past ctx, as a hung browser start would). nil removes it.
func (p *Pool) SetLaunchHook(f func(ctx context.Context, req wasend.LaunchRequest) error) {
	p.mu.Lock()
	p.onLaunch = f
	p.mu.Unlock()
}

// SetCloseHook makes the Close of the sessions launched later call f
// first, with their system id: a browser that takes its time to close.
// nil removes it.
func (p *Pool) SetCloseHook(f func(systemID string)) {
	p.mu.Lock()
	p.onClose = f
	p.mu.Unlock()
}

// SetAutoLogin changes WithAutoLogin for later launches: false makes them
// show a QR code and wait, as a profile logged out meanwhile does.
func (p *Pool) SetAutoLogin(on bool) {
	p.mu.Lock()
	p.autoLogin = on
	p.mu.Unlock()
}

// Launch implements wasend.BrowserPool.
func (p *Pool) Launch(ctx context.Context, req wasend.LaunchRequest) (wasend.Session, error) {
	p.mu.Lock()
	hook := p.onLaunch
	p.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, req); err != nil {
			p.mu.Lock()
			p.attempts++
			p.mu.Unlock()
			return nil, err
		}
	}
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
		ch = &chats{all: p.all}
		p.chats[id] = ch
	}
	s := &Session{id: id, onEvent: req.OnEvent, release: make(chan struct{}), chats: ch, proxy: req.Proxy,
		onClose: p.onClose}
	for _, n := range p.notOnWA {
		s.setNotOnWhatsApp(n)
	}
	p.sessions[id] = s
	auto, noFinder, pairing, legacy := p.autoLogin, p.noFinder, p.pairing, p.legacy
	p.mu.Unlock()
	s.emit(wasend.SessionEvent{Type: wasend.EventQR, QR: "2@scripted," + id})
	if auto {
		s.Login()
	}
	switch {
	case noFinder && pairing:
		return plainPairer{plain{s}}, nil
	case noFinder:
		return plain{s}, nil
	case legacy && pairing:
		return legacyPairer{legacySession{s}}, nil
	case legacy:
		return legacySession{s}, nil
	case pairing:
		return pairer{s}, nil
	}
	return s, nil
}

// legacySession hides what sessions gained in issue 14 (WithLegacySessions).
type legacySession struct{ s *Session }

func (l legacySession) SystemID() string { return l.s.SystemID() }
func (l legacySession) SendText(ctx context.Context, to, text string) (wasend.Receipt, error) {
	return l.s.SendText(ctx, to, text)
}
func (l legacySession) Close(ctx context.Context) error { return l.s.Close(ctx) }
func (l legacySession) FindSent(ctx context.Context, q wasend.SentQuery) (wasend.Receipt, bool, error) {
	return l.s.FindSent(ctx, q)
}
func (l legacySession) MarksSends() bool          { return l.s.MarksSends() }
func (l legacySession) MemoryPSS() (int64, error) { return l.s.MemoryPSS() }

// legacyPairer adds wasend.PhonePairer to a legacy session.
type legacyPairer struct{ legacySession }

func (p legacyPairer) RequestPairingCode(ctx context.Context, phone string) (string, error) {
	return p.s.requestPairingCode(ctx, phone)
}

// Sent returns every message that reached WhatsApp from any session of the
// pool, in the order they arrived.
func (p *Pool) Sent() []Sent {
	p.all.mu.Lock()
	defer p.all.mu.Unlock()
	return append([]Sent(nil), p.all.sent...)
}

// Count returns how many times a message with this text reached to, from
// any session of the pool.
func (p *Pool) Count(to, text string) int {
	p.all.mu.Lock()
	defer p.all.mu.Unlock()
	n := 0
	for _, m := range p.all.sent {
		if m.To == to && m.Text == text {
			n++
		}
	}
	return n
}

// sentLog is every message that reached WhatsApp through a pool, and
// what WhatsApp knows of numbers: the canonical number of those it
// corrects (SetCanonical).
type sentLog struct {
	mu        sync.Mutex
	sent      []Sent
	canonical map[string]string
}

// canon returns the number WhatsApp opens the chat of to with.
func (l *sentLog) canon(to string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.canonical[to]; ok {
		return c
	}
	return to
}

// SetCanonical makes WhatsApp, for every session of the pool, know the
// account of asked by another number, canonical: as Brazil's numbers with
// and without their ninth digit. A number check of asked answers
// canonical, and a message to asked reaches the chat of canonical (Sent
// shows it to canonical), as WhatsApp Web's own links do.
func (p *Pool) SetCanonical(asked, canonical string) {
	p.all.mu.Lock()
	defer p.all.mu.Unlock()
	if p.all.canonical == nil {
		p.all.canonical = map[string]string{}
	}
	p.all.canonical[asked] = canonical
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
	all  *sentLog
}

// Session is a scripted wasend.Session.
type Session struct {
	// proxy is the LaunchRequest's Proxy.
	proxy   string
	id      string
	onEvent func(wasend.SessionEvent)
	onClose func(systemID string) // Pool.SetCloseHook
	release chan struct{}
	chats   *chats

	mu        sync.Mutex
	script    []Action
	finds     []Find
	queries   []wasend.SentQuery
	noMarks   bool
	notOnWA   map[string]bool
	loggedOut bool
	loggedIn  bool   // Login was called since launch or the last Logout
	pairCode  string // the pairing code shown, if any
	// reads are the chats MarkRead marked read; markReadErr fails it.
	reads       []string
	markReadErr error
	// checks are the numbers CheckNumber was asked, and checkScript its
	// scripted calls.
	checks      []string
	checkScript []Check
	// followed are the messages FollowAcks gave, in followCalls calls;
	// followErr fails it and followBlock makes it wait.
	followed    []wasend.TrackedMessage
	followCalls int
	followErr   error
	followBlock bool
	calls       int
	pairs       int
	active      int
	maxActive   int
	closed      bool
}

var (
	_ wasend.Session     = (*Session)(nil)
	_ wasend.SentFinder  = (*Session)(nil)
	_ wasend.Marker      = (*Session)(nil)
	_ wasend.InboxReader = (*Session)(nil)
)

// pairer adds wasend.PhonePairer (WithPairing).
type pairer struct{ *Session }

func (p pairer) RequestPairingCode(ctx context.Context, phone string) (string, error) {
	return p.Session.requestPairingCode(ctx, phone)
}

// plainPairer adds wasend.PhonePairer to a session without FindSent.
type plainPairer struct{ plain }

func (p plainPairer) RequestPairingCode(ctx context.Context, phone string) (string, error) {
	return p.s.requestPairingCode(ctx, phone)
}

// ErrLoggedIn is returned by the pairing of a session that is logged in
// already (WithPairing).
// It wraps wasend.ErrLoggedIn.
var ErrLoggedIn = fmt.Errorf("wasendtest: session already logged in (%w)", wasend.ErrLoggedIn)

// requestPairingCode shows a pairing code for phone and reports it as a
// wasend.EventPairingCode. The code is made of the session's name and a
// counter, so that it is the same from run to run.
func (s *Session) requestPairingCode(ctx context.Context, phone string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return "", fmt.Errorf("scripted: session closed: %w", wasend.ErrDisconnected)
	case s.loggedIn:
		s.mu.Unlock()
		return "", ErrLoggedIn
	}
	s.pairs++
	code := fmt.Sprintf("PAIR%04d", s.pairs)
	s.pairCode = code
	s.mu.Unlock()
	s.emit(wasend.SessionEvent{Type: wasend.EventPairingCode, Code: code})
	return code, nil
}

// PairingCode returns the pairing code the session shows (WithPairing), or
// "" when it shows none.
func (s *Session) PairingCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pairCode
}

// ConfirmPairingCode plays the phone that types the pairing code: when code
// is the one the session shows, the session logs in (see Login).
func (s *Session) ConfirmPairingCode(code string) error {
	s.mu.Lock()
	ok := code != "" && code == s.pairCode
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("wasendtest: pairing code %q is not the one shown", code)
	}
	s.Login()
	return nil
}

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
	s.loggedIn = true
	s.pairCode = ""
	s.mu.Unlock()
	s.emit(wasend.SessionEvent{Type: wasend.EventStatus, Status: wasend.ContextAvailable})
}

// Logout logs the session out: it reports disconnected, and sends fail with
// ErrLoggedOut until Login.
func (s *Session) Logout() {
	s.mu.Lock()
	s.loggedOut = true
	s.loggedIn = false
	s.mu.Unlock()
	s.emit(wasend.SessionEvent{Type: wasend.EventStatus, Status: wasend.ContextDisconnected, Err: wasend.ErrLoggedOut})
}

// ScriptFind appends lookups for the next calls of FindSent.
func (s *Session) ScriptFind(finds ...Find) {
	s.mu.Lock()
	s.finds = append(s.finds, finds...)
	s.mu.Unlock()
}

// MarksSends implements wasend.Marker: it reports whether SendText reports
// its marks before every click (SetMarks).
func (s *Session) MarksSends() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.noMarks
}

// SetMarks says whether SendText reports its marks (wasend.BeforeSend) before
// the click. Default: true.
func (s *Session) SetMarks(on bool) {
	s.mu.Lock()
	s.noMarks = !on
	s.mu.Unlock()
}

// ClearScript drops the actions and lookups not used yet.
func (s *Session) ClearScript() {
	s.mu.Lock()
	s.script, s.finds = nil, nil
	s.mu.Unlock()
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
	s.setNotOnWhatsApp(to)
	s.mu.Unlock()
}

func (s *Session) setNotOnWhatsApp(to string) {
	if s.notOnWA == nil {
		s.notOnWA = map[string]bool{}
	}
	s.notOnWA[to] = true
}

// Release unblocks the sends scripted with Block, and every wait of
// later calls.
func (s *Session) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// SystemID implements wasend.Session.
func (s *Session) SystemID() string { return s.id }

// wait waits d, or until release, honouring ctx unless ignore is set. It
// reports ctx's error when ctx ended the wait.
func (s *Session) wait(ctx context.Context, d time.Duration, block, ignore bool) error {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	} else if !block {
		return nil
	}
	done := ctx.Done()
	if ignore {
		done = nil
	}
	select {
	case <-timer:
		return nil
	case <-s.release:
		return nil
	case <-done:
		return ctx.Err()
	}
}

// SendText implements wasend.Session. It follows the next Action of the
// script (see Script); a call whose ctx has already ended returns the ctx's
// error and sends nothing.
func (s *Session) SendText(ctx context.Context, to, text string) (wasend.Receipt, error) {
	return s.send(ctx, to, text, nil)
}

// send sends a text, or with media a file with text as its caption.
func (s *Session) send(ctx context.Context, to, text string, media *wasend.MediaFile) (wasend.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return wasend.Receipt{}, err // a real session does not start a send whose ctx ended
	}
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
	logout := a.Logout && !s.loggedOut
	switch {
	case s.loggedOut || a.Logout:
		a = Action{Err: wasend.ErrLoggedOut}
	case s.notOnWA[to]:
		a = Action{Err: fmt.Errorf("scripted: %w", wasend.ErrNotOnWhatsApp)}
	}
	marks := !s.noMarks
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	if logout {
		s.Logout()
	}
	var r wasend.Receipt
	delivered := false
	lost := func(err error) error {
		if delivered {
			return wasend.Unconfirmed(err)
		}
		return err
	}
	click := func() error {
		if marks {
			if err := wasend.BeforeSend(ctx, s.mark(to, text, media)); err != nil {
				return err
			}
		}
		if a.Lost {
			delivered = true
			return nil
		}
		r, delivered = s.deliver(to, text, media), true
		return nil
	}
	if err := s.wait(ctx, a.Delay, a.Block && !a.Deliver, a.IgnoreCtx); err != nil {
		return wasend.Receipt{}, err
	}
	if a.Deliver || a.Lost || (a.Err == nil && a.Panic == nil) {
		if err := click(); err != nil {
			return wasend.Receipt{}, err
		}
	}
	if err := s.wait(ctx, a.After, a.Block && a.Deliver, a.IgnoreCtx); err != nil {
		return wasend.Receipt{}, lost(err)
	}
	if a.Panic != nil {
		panic(a.Panic)
	}
	if a.Err != nil {
		return wasend.Receipt{}, lost(a.Err)
	}
	return r, nil
}

// mark describes the chat just before a click: the ids of the messages to
// to with the same text (and attachment) that are already there.
func (s *Session) mark(to, text string, media *wasend.MediaFile) string {
	to = s.chats.all.canon(to)
	c := s.chats
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := []string{}
	for _, m := range c.sent {
		if m.matches(to, text, media) {
			ids = append(ids, m.ID)
		}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func (s *Session) deliver(to, text string, media *wasend.MediaFile) wasend.Receipt {
	to = s.chats.all.canon(to)
	var sum string
	if media != nil {
		f := *media
		media, sum = &f, fileSum(f.Path)
	}
	c := s.chats
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	m := Sent{From: s.id, To: to, Text: text, ID: "true_" + to[1:] + "@c.us_" + strconv.Itoa(c.seq), At: time.Now().UTC(),
		Media: media, MediaSHA256: sum}
	c.sent = append(c.sent, m)
	c.all.mu.Lock()
	c.all.sent = append(c.all.sent, m)
	c.all.mu.Unlock()
	return wasend.Receipt{MessageID: m.ID, SentAt: m.At}
}

// FindSent implements wasend.SentFinder. Unless scripted otherwise, it
// answers the truth: with a mark, an outgoing message to q.To with q.Text
// (and, with q.Media, an attachment of its kind with its name or size)
// that the mark does not list; without one, such a message sent at or
// after q.Since.
func (s *Session) FindSent(ctx context.Context, q wasend.SentQuery) (wasend.Receipt, bool, error) {
	s.mu.Lock()
	closed := s.closed
	var f Find
	if len(s.finds) > 0 {
		f, s.finds = s.finds[0], s.finds[1:]
	}
	s.queries = append(s.queries, q)
	s.mu.Unlock()
	if closed {
		return wasend.Receipt{}, false, wasend.ErrDisconnected
	}
	if err := s.wait(ctx, f.Delay, false, f.IgnoreCtx); err != nil {
		return wasend.Receipt{}, false, err
	}
	if f.Panic != nil {
		panic(f.Panic)
	}
	if f.Err != nil {
		return wasend.Receipt{}, false, f.Err
	}
	var before map[string]bool
	if q.Mark != "" {
		var ids []string
		if err := json.Unmarshal([]byte(q.Mark), &ids); err != nil {
			return wasend.Receipt{}, false, fmt.Errorf("scripted: bad mark: %w", err)
		}
		before = map[string]bool{}
		for _, id := range ids {
			before[id] = true
		}
	}
	to := s.chats.all.canon(q.To)
	c := s.chats
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.sent) - 1; i >= 0; i-- {
		m := c.sent[i]
		if !m.matches(to, q.Text, q.Media) {
			continue
		}
		if (before != nil && !before[m.ID]) || (before == nil && !m.At.Before(q.Since)) {
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
	if s.onClose != nil && !s.Closed() {
		s.onClose(s.id)
	}
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

// Queries returns the queries FindSent was called with, in order.
func (s *Session) Queries() []wasend.SentQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wasend.SentQuery(nil), s.queries...)
}

// Calls counts the calls of SendText.
func (s *Session) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Active returns how many SendText calls run now.
func (s *Session) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// MaxConcurrent returns the most SendText calls that ran at once.
func (s *Session) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxActive
}

// ErrScripted is a retryable error for scripts.
var ErrScripted = errors.New("scripted: transient failure")

// Proxy returns the proxy the session was launched with
// (wasend.LaunchRequest.Proxy), or "".
func (s *Session) Proxy() string { return s.proxy }
