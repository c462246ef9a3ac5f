package chromedpdriver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wasend/wasend"
)

// Pool is the default wasend.BrowserPool: it launches WhatsApp Web sessions
// in Chromium, driven with chromedp. It is safe for concurrent use.
type Pool struct {
	cfg config
	log *slog.Logger
	ua  string

	mu       sync.Mutex
	sessions map[string]*Session
	sel      *compiledSelectors
	selGen   uint64
	closed   bool

	sharedMu sync.Mutex
	shared   *browserProc

	// typeOnly makes sends skip the paste and type the text; tests use it
	// to exercise the fallback.
	typeOnly bool
}

// New returns a Pool. It validates the options (errors wrap
// wasend.ErrInvalidOption, or ErrNoBrowser when no browser is found) and
// reads the browser's version for the User-Agent; it starts no browser.
func New(opts ...Option) (*Pool, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// Even an ephemeral pool resumes persistent sessions, by their id.
	root, err := filepath.Abs(cfg.profileRoot)
	if err != nil {
		return nil, fmt.Errorf("%w: profile root: %w", wasend.ErrInvalidOption, err)
	}
	cfg.profileRoot = root
	p := &Pool{cfg: cfg, log: cfg.logger.With("component", "chromedpdriver"), sessions: map[string]*Session{}}
	p.ua = cfg.userAgent
	if p.ua == "" {
		major, err := browserMajor(cfg.execPath)
		if err != nil {
			p.log.Warn("could not read the browser's version; using the default User-Agent", "err", err)
			major = DefaultChromeMajor
		}
		p.ua = desktopUA(goos(), major)
	}
	sel, err := compileSelectors(cfg.selectors, 1)
	if err != nil {
		return nil, err
	}
	p.sel, p.selGen = sel, 1
	return p, nil
}

// UserAgent returns the User-Agent that the pool's browsers send.
func (p *Pool) UserAgent() string { return p.ua }

// Launch starts the session of a browser context and returns it (a
// *Session) once its page is loading, without waiting for a login: QR
// codes and status changes arrive through req.OnEvent. An empty
// req.SystemID creates a new session in the pool's mode; otherwise the
// session of that id is resumed, in the mode the id names (for a
// persistent one, on the same profile folder). Launch fails if the browser
// cannot start, or with ErrProfileInUse if the session is already open.
func (p *Pool) Launch(ctx context.Context, req wasend.LaunchRequest) (wasend.Session, error) {
	s, err := p.launch(ctx, req)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (p *Pool) launch(ctx context.Context, req wasend.LaunchRequest) (*Session, error) {
	id := req.SystemID
	resumed := id != ""
	if id == "" {
		id = newSystemID(p.cfg.mode)
	}
	mode, name, err := parseSystemID(id)
	if err != nil {
		return nil, err
	}
	if err := wasend.CheckProxy(req.Proxy); err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("chromedpdriver: pool closed: %w", wasend.ErrClosed)
	}
	if p.sessions[id] != nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: session %s is open", ErrProfileInUse, id)
	}
	sel := p.sel
	s := newSession(p, id, mode, name, resumed, req.OnEvent, sel)
	s.proxy = req.Proxy
	p.sessions[id] = s
	p.mu.Unlock()

	if err := s.open(ctx); err != nil {
		p.forget(s)
		return nil, err
	}
	return s, nil
}

func (p *Pool) forget(s *Session) {
	p.mu.Lock()
	if p.sessions[s.id] == s {
		delete(p.sessions, s.id)
	}
	p.mu.Unlock()
}

// Session returns the live session with the system id, or nil.
func (p *Pool) Session(systemID string) *Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions[systemID]
}

// SetSelectors replaces the selector set of the pool and of every live
// session. Each session runs its self-test again; one that was in status
// error because of the old set reports available once the new one passes.
func (p *Pool) SetSelectors(set SelectorSet) error {
	p.mu.Lock()
	p.selGen++
	sel, err := compileSelectors(set, p.selGen)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	p.sel = sel
	list := make([]*Session, 0, len(p.sessions))
	for _, s := range p.sessions {
		list = append(list, s)
	}
	p.mu.Unlock()
	for _, s := range list {
		s.useSelectors(sel)
	}
	return nil
}

func (p *Pool) nextSelectorGen() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.selGen++
	return p.selGen
}

// Close closes every session of the pool, gracefully so that their
// profiles are flushed, and the shared browser of ephemeral sessions. It is
// idempotent; Launch fails after it.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	list := make([]*Session, 0, len(p.sessions))
	for _, s := range p.sessions {
		list = append(list, s)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(list))
	for i, s := range list {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), p.cfg.closeTimeout+5*time.Second)
			defer cancel()
			errs[i] = s.Close(ctx)
		})
	}
	wg.Wait()
	p.sharedMu.Lock()
	if p.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.closeTimeout)
		p.shared.close(ctx)
		cancel()
		p.shared = nil
	}
	p.sharedMu.Unlock()
	return errors.Join(errs...)
}

// flags returns the command line of a browser with profile folder dir.
func (p *Pool) flags(dir string) []chromeFlag {
	return chromeFlags(&p.cfg, p.ua, dir, os.Geteuid() == 0)
}

// sharedBrowser returns the browser of the ephemeral sessions, starting it
// (again) when needed.
func (p *Pool) sharedBrowser(ctx context.Context) (*browserProc, error) {
	p.sharedMu.Lock()
	defer p.sharedMu.Unlock()
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("chromedpdriver: pool closed: %w", wasend.ErrClosed)
	}
	if p.shared != nil && !p.shared.dead() {
		return p.shared, nil
	}
	if p.shared != nil {
		p.shared.kill()
		p.shared = nil
	}
	b, err := startBrowser(ctx, p.cfg.execPath, p.flags(""), "", p.log)
	if err != nil {
		return nil, err
	}
	p.log.Info("shared browser started", "pid", b.pid)
	p.shared = b
	return b, nil
}
