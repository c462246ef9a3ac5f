package browsertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Options says what the suite cannot know about the pools that newPool
// builds: how to log a session in, and how to see what reached WhatsApp.
// Received is required; every other field has a default.
type Options struct {
	// Login logs a session in, for example by scanning its QR code with a
	// test phone. qr returns the newest QR payload that the session
	// reported (it waits for one, and fails the test if none comes); call
	// it again when a code expired under a scan. Login returns once it has
	// done its part: the suite then waits for the session's status event
	// ContextAvailable. The suite calls it only for a session that shows a
	// QR code and has not reported itself available. Default: nil, for
	// pools whose sessions log in by themselves.
	Login func(t *testing.T, s wasend.Session, qr func() string)

	// Received returns the texts of the messages that reached the number
	// to (E.164) from the WhatsApp account of s, in the order they arrived.
	// The account is the one behind s's SystemID: a session relaunched by
	// its SystemID has the same. Required.
	Received func(t *testing.T, s wasend.Session, to string) []string

	// Recipient returns the i-th number (E.164) that the suite may send
	// to; each is on WhatsApp and has received nothing from the accounts
	// of the sessions that newPool's pool launches. Default: +1555301 and
	// i on four digits.
	Recipient func(i int) string

	// NotOnWhatsApp is a number (E.164) that has no WhatsApp account.
	// Default: "", and the not-on-WhatsApp check does not run.
	NotOnWhatsApp string

	// PairPhone is the number the pairing check asks a pairing code for.
	// Default: +447700900123.
	PairPhone string
	// ConfirmPairing types code on the phone PairPhone, as its owner
	// would, for a session that implements wasend.PhonePairer. The suite
	// then waits for the status event ContextAvailable. Default: nil, and
	// the pairing check stops once the code was shown.
	ConfirmPairing func(t *testing.T, s wasend.Session, phone, code string)

	// SentFinder, Marker and PhonePairer say that the sessions must
	// implement the optional interface of that name. The checks of an
	// optional interface run whenever the sessions implement it; these
	// make its absence a failure. Default: false.
	SentFinder, Marker, PhonePairer bool

	// Timeout bounds every call into a pool or session, and every wait for
	// an event or for a message to arrive. It only bounds a failure: the
	// suite moves on as soon as what it waits for happens. Default: 60 s.
	Timeout time.Duration

	// Parallel runs the subtests in parallel. The functions above are then
	// called from several subtests at once, on sessions of different
	// pools: they must find what they need from the session they are
	// given (its SystemID), not from the pool newPool built last.
	// Default: false.
	Parallel bool
}

// DefaultTimeout is the default of Options.Timeout.
const DefaultTimeout = 60 * time.Second

// DefaultPairPhone is the default of Options.PairPhone.
const DefaultPairPhone = "+447700900123"

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Recipient == nil {
		o.Recipient = func(i int) string { return fmt.Sprintf("+1555301%04d", i) }
	}
	if o.PairPhone == "" {
		o.PairPhone = DefaultPairPhone
	}
}

// Run runs the conformance suite of wasend.BrowserPool and wasend.Session
// against the pools that newPool builds. newPool is called once per
// subtest; the suite closes every session it launches.
func Run(t *testing.T, newPool func(t *testing.T) wasend.BrowserPool, opts Options) {
	t.Helper()
	opts.defaults()
	if opts.Received == nil {
		t.Fatal("browsertest: Options.Received is required")
	}
	tests := []struct {
		name string
		fn   func(*suite)
	}{
		{"Launch", (*suite).testLaunch},
		{"SendText", (*suite).testSendText},
		{"NotOnWhatsApp", (*suite).testNotOnWhatsApp},
		{"EndedContext", (*suite).testEndedContext},
		{"Close", (*suite).testClose},
		{"CloseWhileSending", (*suite).testCloseWhileSending},
		{"Relaunch", (*suite).testRelaunch},
		{"SentFinder", (*suite).testSentFinder},
		{"Marker", (*suite).testMarker},
		{"PhonePairer", (*suite).testPhonePairer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if opts.Parallel {
				t.Parallel()
			}
			tc.fn(&suite{t: t, pool: newPool(t), opts: opts})
		})
	}
}

// suite is one subtest's state.
type suite struct {
	t    *testing.T
	pool wasend.BrowserPool
	opts Options
}

// recorder keeps the events of one session.
type recorder struct {
	mu  sync.Mutex
	evs []wasend.SessionEvent
	sig chan struct{}
}

func newRecorder() *recorder { return &recorder{sig: make(chan struct{})} }

func (r *recorder) add(ev wasend.SessionEvent) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	close(r.sig)
	r.sig = make(chan struct{})
	r.mu.Unlock()
}

// snapshot returns the events and a channel closed at the next one.
func (r *recorder) snapshot() ([]wasend.SessionEvent, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wasend.SessionEvent(nil), r.evs...), r.sig
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

// session is a launched session and its events.
type session struct {
	wasend.Session
	rec *recorder
}

func (s *suite) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	s.t.Cleanup(cancel)
	return ctx
}

// launch launches a session and closes it when the test ends.
func (s *suite) launch(systemID string) session {
	s.t.Helper()
	rec := newRecorder()
	ws, err := s.pool.Launch(s.ctx(), wasend.LaunchRequest{SystemID: systemID, OnEvent: rec.add})
	if err != nil {
		s.t.Fatalf("Launch(SystemID %q): %v", systemID, err)
	}
	if ws == nil {
		s.t.Fatalf("Launch(SystemID %q) returned a nil session and no error", systemID)
	}
	s.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
		defer cancel()
		if err := ws.Close(ctx); err != nil {
			s.t.Errorf("Close at the end of the test: %v", err)
		}
	})
	return session{Session: ws, rec: rec}
}

// waitEvent waits for an event at index from or later that matches pred.
func (s *suite) waitEvent(ss session, from int, what string, pred func(wasend.SessionEvent) bool) wasend.SessionEvent {
	s.t.Helper()
	timer := time.NewTimer(s.opts.Timeout)
	defer timer.Stop()
	for {
		evs, next := ss.rec.snapshot()
		for i := from; i < len(evs); i++ {
			if pred(evs[i]) {
				return evs[i]
			}
		}
		select {
		case <-next:
		case <-timer.C:
			s.t.Fatalf("no event %s within %v; events: %s", what, s.opts.Timeout, describe(evs))
		}
	}
}

func isAvailable(ev wasend.SessionEvent) bool {
	return ev.Type == wasend.EventStatus && ev.Status == wasend.ContextAvailable
}

func isQR(ev wasend.SessionEvent) bool { return ev.Type == wasend.EventQR }

func describe(evs []wasend.SessionEvent) string {
	if len(evs) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, ev := range evs {
		b.WriteString(string(ev.Type))
		if ev.Status != "" {
			b.WriteString(":" + string(ev.Status))
		}
		if ev.Err != nil {
			b.WriteString("(" + ev.Err.Error() + ")")
		}
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

// login brings a session to logged in: it waits for its first QR code or
// its status available, from event from on, and calls Options.Login on a
// QR code.
func (s *suite) login(ss session, from int) {
	s.t.Helper()
	ev := s.waitEvent(ss, from, "qr or available", func(ev wasend.SessionEvent) bool { return isQR(ev) || isAvailable(ev) })
	evs, _ := ss.rec.snapshot()
	for _, e := range evs[from:] {
		if isAvailable(e) {
			return
		}
	}
	if isQR(ev) && s.opts.Login != nil {
		s.opts.Login(s.t, ss.Session, func() string {
			s.t.Helper()
			s.waitEvent(ss, from, "qr", isQR)
			evs, _ := ss.rec.snapshot()
			var qr string
			for _, e := range evs[from:] {
				if isQR(e) {
					qr = e.QR
				}
			}
			return qr
		})
	}
	s.waitEvent(ss, from, "available (is Options.Login set?)", isAvailable)
}

// launchLoggedIn launches a session and logs it in.
func (s *suite) launchLoggedIn() session {
	s.t.Helper()
	ss := s.launch("")
	s.login(ss, 0)
	return ss
}

// waitReceived waits until to received at least n messages from the
// account of ss, and returns what it received.
func (s *suite) waitReceived(ss session, to string, n int) []string {
	s.t.Helper()
	deadline := time.Now().Add(s.opts.Timeout)
	for {
		got := s.opts.Received(s.t, ss.Session, to)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		// Received is the test's window on WhatsApp, which has no event
		// to wait for: look again shortly.
		time.Sleep(20 * time.Millisecond)
	}
}

// send sends text to to, and checks that it arrived exactly once with its
// exact text, after the texts sent before (prior).
func (s *suite) send(ss session, to, text string, prior ...string) wasend.Receipt {
	s.t.Helper()
	var calls int
	ctx := wasend.WithSendTrace(s.ctx(), &wasend.SendTrace{BeforeSend: func(string) error { calls++; return nil }})
	r, err := ss.SendText(ctx, to, text)
	if err != nil {
		s.t.Fatalf("SendText to %s: %v", wasend.MaskPhone(to), err)
	}
	if r.SentAt.IsZero() {
		s.t.Errorf("SendText to %s: the receipt has no SentAt", wasend.MaskPhone(to))
	}
	if calls > 1 {
		s.t.Errorf("SendText to %s called SendTrace.BeforeSend %d times, want at most once", wasend.MaskPhone(to), calls)
	}
	want := append(append([]string(nil), prior...), text)
	got := s.waitReceived(ss, to, len(want))
	if !equal(got, want) {
		s.t.Errorf("%s received %q, want %q (each message exactly once, text intact)", wasend.MaskPhone(to), got, want)
	}
	return r
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s *suite) testLaunch() {
	t := s.t
	a := s.launch("")
	if a.SystemID() == "" {
		t.Fatal("a launched session has an empty SystemID")
	}
	s.login(a, 0)
	b := s.launch("")
	if b.SystemID() == a.SystemID() {
		t.Errorf("two launches without a SystemID gave the same one, %q", a.SystemID())
	}
	if rr, ok := a.Session.(wasend.ResourceReporter); ok {
		if n, err := rr.MemoryPSS(); err == nil && n <= 0 {
			t.Errorf("MemoryPSS of a live session reports %d bytes and no error", n)
		}
	}
	evs, _ := a.rec.snapshot()
	for _, ev := range evs {
		if ev.SystemID != a.SystemID() {
			t.Errorf("event %s has SystemID %q, want the session's %q", ev.Type, ev.SystemID, a.SystemID())
		}
		if ev.At.IsZero() {
			t.Errorf("event %s has no time (At)", ev.Type)
		}
		switch ev.Type {
		case wasend.EventQR:
			if ev.QR == "" {
				t.Error("a QR event carries no QR payload")
			}
		case wasend.EventStatus:
			switch ev.Status {
			case wasend.ContextAvailable, wasend.ContextDisconnected, wasend.ContextError:
			default:
				t.Errorf("a status event has status %q, want available, disconnected or error", ev.Status)
			}
		case wasend.EventPairingCode:
			if ev.Code == "" {
				t.Error("a pairing code event carries no code")
			}
		case wasend.EventUnknownOutcome:
			t.Error("a pool reported an unknown outcome: that event is the Client's")
		default:
			t.Errorf("event of unknown type %q", ev.Type)
		}
	}
}

// texts are sent by the SendText check, each to its own recipient.
var texts = []string{
	"Hello from browsertest",
	"first line\nsecond line\n\nfourth, after a blank line",
	"emoji 👨‍👩‍👧‍👦 🇦🇷 👍🏽 1️⃣ and accents: ñandú, Ünïcödé",
	"مرحبا — שלום — 你好 — こんにちは",
	"<b>not bold</b> & *stars* _underscores_ \"quotes\"",
	"  leading and trailing spaces  ",
}

func (s *suite) testSendText() {
	ss := s.launchLoggedIn()
	for i, text := range texts {
		s.send(ss, s.opts.Recipient(i), text)
	}
	// Two messages to one chat arrive in order.
	to := s.opts.Recipient(len(texts))
	s.send(ss, to, "one")
	s.send(ss, to, "two", "one")
}

func (s *suite) testNotOnWhatsApp() {
	if s.opts.NotOnWhatsApp == "" {
		s.t.Log("Options.NotOnWhatsApp is empty: not checked")
		return
	}
	t := s.t
	ss := s.launchLoggedIn()
	_, err := ss.SendText(s.ctx(), s.opts.NotOnWhatsApp, "to nobody")
	if !errors.Is(err, wasend.ErrNotOnWhatsApp) {
		t.Fatalf("SendText to a number not on WhatsApp: got %v, want an error wrapping wasend.ErrNotOnWhatsApp", err)
	}
	if wasend.Retryable(err) {
		t.Errorf("the error %v is retryable; a number not on WhatsApp is a permanent failure", err)
	}
	if st, gone := wasend.SessionStatus(err); gone {
		t.Errorf("the error %v says the session is %s; it is not", err, st)
	}
	if got := s.opts.Received(t, ss.Session, s.opts.NotOnWhatsApp); len(got) != 0 {
		t.Errorf("the number not on WhatsApp received %q", got)
	}
	// The session still sends.
	s.send(ss, s.opts.Recipient(100), "after a number not on WhatsApp")
}

func (s *suite) testEndedContext() {
	t := s.t
	ss := s.launchLoggedIn()
	to := s.opts.Recipient(200)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := ss.SendText(cancelled, to, "cancelled before the call")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("SendText with a cancelled ctx: got %v, want an error wrapping context.Canceled", err)
		}
	case <-time.After(s.opts.Timeout):
		t.Fatalf("SendText with a cancelled ctx did not return within %v", s.opts.Timeout)
	}

	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	go func() {
		_, err := ss.SendText(expired, to, "expired before the call")
		done <- err
	}()
	select {
	case err := <-done:
		if wasend.KindOf(err) != wasend.ErrorKindTimeout {
			t.Errorf("SendText with an expired deadline: got %v (kind %q), want wasend.ErrTimeout or context.DeadlineExceeded",
				err, wasend.KindOf(err))
		}
	case <-time.After(s.opts.Timeout):
		t.Fatalf("SendText with an expired deadline did not return within %v", s.opts.Timeout)
	}
	if got := s.opts.Received(t, ss.Session, to); len(got) != 0 {
		t.Errorf("sends whose ctx had ended reached WhatsApp: %q", got)
	}
	// The session still sends.
	s.send(ss, to, "after the ended contexts")
}

func (s *suite) testClose() {
	t := s.t
	ss := s.launchLoggedIn()
	if err := ss.Close(s.ctx()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ss.Close(s.ctx()); err != nil {
		t.Errorf("a second Close: got %v, want nil (Close is idempotent)", err)
	}
	to := s.opts.Recipient(300)
	_, err := ss.SendText(s.ctx(), to, "after Close")
	if !errors.Is(err, wasend.ErrDisconnected) {
		t.Errorf("SendText after Close: got %v, want an error wrapping wasend.ErrDisconnected", err)
	}
	if got := s.opts.Received(t, ss.Session, to); len(got) != 0 {
		t.Errorf("a send after Close reached WhatsApp: %q", got)
	}
	if f, ok := ss.Session.(wasend.SentFinder); ok {
		if _, found, err := f.FindSent(s.ctx(), wasend.SentQuery{To: to, Text: "after Close", Since: time.Now().Add(-time.Hour)}); err == nil {
			t.Errorf("FindSent after Close answered (found %v) instead of failing", found)
		}
	}
}

func (s *suite) testCloseWhileSending() {
	t := s.t
	ss := s.launchLoggedIn()
	to := s.opts.Recipient(350)
	const text = "racing Close"
	sent := make(chan error, 1)
	go func() {
		_, err := ss.SendText(s.ctx(), to, text)
		sent <- err
	}()
	closed := make(chan error, 1)
	go func() {
		_ = ss.SystemID() // may be called at any time, from any goroutine
		closed <- ss.Close(s.ctx())
	}()
	var sendErr, closeErr error
	for range 2 {
		select {
		case sendErr = <-sent:
		case closeErr = <-closed:
		case <-time.After(s.opts.Timeout):
			t.Fatalf("SendText and a concurrent Close did not both return within %v", s.opts.Timeout)
		}
	}
	if closeErr != nil {
		t.Errorf("Close during a send: %v", closeErr)
	}
	want := 0
	if sendErr == nil {
		want = 1 // it said it sent: the message must be there
	}
	if got := s.waitReceived(ss, to, want); len(got) > 1 || len(got) < want {
		t.Errorf("SendText racing Close returned %v, and %s received %q: want the message at most once, and once if SendText succeeded",
			sendErr, wasend.MaskPhone(to), got)
	}
}

func (s *suite) testRelaunch() {
	t := s.t
	first := s.launchLoggedIn()
	id := first.SystemID()
	to := s.opts.Recipient(400)
	s.send(first, to, "before the relaunch")
	if err := first.Close(s.ctx()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again := s.launch(id)
	if again.SystemID() != id {
		t.Fatalf("relaunch by SystemID %q gave SystemID %q", id, again.SystemID())
	}
	s.login(again, 0)
	s.send(again, to, "after the relaunch", "before the relaunch")
}

func (s *suite) testSentFinder() {
	t := s.t
	ss := s.launchLoggedIn()
	f, ok := ss.Session.(wasend.SentFinder)
	if !ok {
		if s.opts.SentFinder {
			t.Fatal("the session does not implement wasend.SentFinder (Options.SentFinder)")
		}
		t.Log("the session is not a wasend.SentFinder: not checked")
		return
	}
	to := s.opts.Recipient(500)
	since := time.Now().Add(-time.Minute)
	text := "find me\nif you can ✓"
	r := s.send(ss, to, text)
	// Move to another chat, so that the lookup has to open this one.
	s.send(ss, s.opts.Recipient(501), "elsewhere")

	got, found, err := f.FindSent(s.ctx(), wasend.SentQuery{To: to, Text: text, Since: since})
	switch {
	case err != nil:
		t.Errorf("FindSent of a sent message: %v", err)
	case !found:
		t.Error("FindSent did not find a sent message")
	case r.MessageID != "" && got.MessageID != "" && got.MessageID != r.MessageID:
		t.Errorf("FindSent found message %q, but SendText's receipt says %q", got.MessageID, r.MessageID)
	}
	_, found, err = f.FindSent(s.ctx(), wasend.SentQuery{To: to, Text: "never sent", Since: since})
	if err != nil || found {
		t.Errorf("FindSent of a message never sent: found %v, error %v; want not found and no error", found, err)
	}
}

func (s *suite) testMarker() {
	t := s.t
	ss := s.launchLoggedIn()
	m, ok := ss.Session.(wasend.Marker)
	if !ok || !m.MarksSends() {
		if s.opts.Marker {
			t.Fatal("the session is not a wasend.Marker that marks its sends (Options.Marker)")
		}
		t.Log("the session does not mark its sends: not checked")
		return
	}
	to := s.opts.Recipient(600)
	const text = "marked"

	var marks []string
	ctx := wasend.WithSendTrace(s.ctx(), &wasend.SendTrace{BeforeSend: func(mark string) error {
		marks = append(marks, mark)
		return nil
	}})
	if _, err := ss.SendText(ctx, to, text); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	if len(marks) != 1 || marks[0] == "" {
		t.Fatalf("a Marker called BeforeSend with %q, want one non-empty mark", marks)
	}

	// A BeforeSend that fails stops the send, and its error comes back.
	refused := errors.New("browsertest: mark not stored")
	var second []string
	ctx = wasend.WithSendTrace(s.ctx(), &wasend.SendTrace{BeforeSend: func(mark string) error {
		second = append(second, mark)
		return refused
	}})
	_, err := ss.SendText(ctx, to, text)
	if !errors.Is(err, refused) {
		t.Errorf("SendText whose BeforeSend failed: got %v, want the hook's error", err)
	}
	if len(second) != 1 || second[0] == "" {
		t.Errorf("a Marker called BeforeSend with %q, want one non-empty mark", second)
	}
	if got := s.waitReceived(ss, to, 1); !equal(got, []string{text}) {
		t.Errorf("%s received %q, want %q: a send whose BeforeSend failed must not send", wasend.MaskPhone(to), got, []string{text})
	}

	f, ok := ss.Session.(wasend.SentFinder)
	if !ok || len(second) != 1 {
		return
	}
	// The first mark was taken before the message was there: the lookup
	// finds it. The second was taken with the message there: the lookup
	// must not take that row for a new one.
	since := time.Now().Add(-time.Hour)
	_, found, err := f.FindSent(s.ctx(), wasend.SentQuery{To: to, Text: text, Since: since, Mark: marks[0]})
	if err != nil || !found {
		t.Errorf("FindSent with the mark taken before the send: found %v, error %v; want found", found, err)
	}
	_, found, err = f.FindSent(s.ctx(), wasend.SentQuery{To: to, Text: text, Since: since, Mark: second[0]})
	if err != nil || found {
		t.Errorf("FindSent with a mark that lists the message as already there: found %v, error %v; want not found", found, err)
	}
}

func (s *suite) testPhonePairer() {
	t := s.t
	ss := s.launch("")
	p, ok := ss.Session.(wasend.PhonePairer)
	if !ok {
		if s.opts.PhonePairer {
			t.Fatal("the session does not implement wasend.PhonePairer (Options.PhonePairer)")
		}
		t.Log("the session is not a wasend.PhonePairer: not checked")
		return
	}
	first := s.waitEvent(ss, 0, "qr or available", func(ev wasend.SessionEvent) bool { return isQR(ev) || isAvailable(ev) })
	evs, _ := ss.rec.snapshot()
	for _, ev := range evs {
		if isAvailable(ev) {
			first = ev
		}
	}
	if isAvailable(first) {
		t.Log("the session logged in by itself: pairing not checked")
		return
	}
	from := ss.rec.len()
	code, err := p.RequestPairingCode(s.ctx(), s.opts.PairPhone)
	if err != nil {
		t.Fatalf("RequestPairingCode: %v", err)
	}
	if code == "" {
		t.Fatal("RequestPairingCode returned an empty code")
	}
	ev := s.waitEvent(ss, from, "pairing_code", func(ev wasend.SessionEvent) bool { return ev.Type == wasend.EventPairingCode })
	if ev.Code != code {
		t.Errorf("the pairing code event carries %q, RequestPairingCode returned %q", ev.Code, code)
	}
	if s.opts.ConfirmPairing == nil {
		t.Log("Options.ConfirmPairing is nil: the login by code is not completed")
		return
	}
	s.opts.ConfirmPairing(t, ss.Session, s.opts.PairPhone, code)
	s.waitEvent(ss, from, "available after the pairing", isAvailable)
	s.send(ss, s.opts.Recipient(700), "paired")
}
