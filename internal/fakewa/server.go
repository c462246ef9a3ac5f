package fakewa

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server imitates web.whatsapp.com: the page, the "WhatsApp servers" the page
// talks to, and the phone. It is an http.Handler and safe for concurrent use.
type Server struct {
	cfg       config
	log       *slog.Logger
	hookToken string
	classes   []string
	mux       *http.ServeMux

	mu       sync.Mutex
	closed   bool
	done     chan struct{}
	clients  map[string]*client
	refs     map[string]*client
	oldRefs  map[string]struct{}
	codes    map[string]*client
	logins   map[string]*login
	accounts map[string]*account
	notOnWA  map[string]bool
	canon    map[string]string // typed number -> the number of its chat
	stuckAll bool
	received []Message
	rejected []Message
	typing   []Typing
	msgs     map[string]*message
	wg       sync.WaitGroup

	srvMu   sync.Mutex
	httpSrv *http.Server
	baseURL string
	serveWG sync.WaitGroup
}

// client is one page load.
type client struct {
	id, tab, ua string
	state       PageState
	url, chat   string
	login       *login
	conflict    bool
	loggedOut   bool

	conns     int
	kick      chan struct{}
	connected bool
	lastSeen  time.Time
	queue     [][]byte
	notify    chan struct{}

	ref      string
	refresh  int
	issued   time.Time
	expired  bool
	qrGen    int
	qrTimer  *time.Timer
	pairCode string
	pairTel  string
	linkAck  chan struct{}

	composing map[string]time.Time // chat -> when the page began "composing"
}

// login is one linked device: a browser profile that scanned a QR code.
type login struct {
	token, phone string
	n            int
	valid        bool
	active       string // ID of the client that may use the login
	elsewhere    bool   // another (virtual) window took the login
}

// account is one phone number.
type account struct {
	phone   string
	online  bool
	stuck   bool
	devices int
	chats   map[string][]*message
	held    []*message

	tempBan  *tempBan
	timelock *timelock
	capped   *capping
	rejects  map[string][]rejectKind // recipient -> the kinds of the next rejections
	passkey  bool

	neverDeliver map[string]bool // recipient (or AllAccounts) -> held at Sent
}

// message is a message on the server: an outgoing one that a page sent,
// or an incoming one (in) that a contact wrote (Incoming).
type message struct {
	Message
	in       bool
	status   Status
	dataID   string
	ck       string
	held     bool
	recorded bool
	waiting  bool
	reject   rejectKind
	timer    *time.Timer

	read   bool      // an incoming message that the account has read
	readAt time.Time // when a page of the account marked it read

	data []byte // the bytes of an image, for its thumbnail
}

// New returns a Server. It panics with an error that wraps ErrInvalidOption
// when an option has a value that makes no sense, such as a negative delay.
func New(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	seed := cfg.seed
	if !cfg.seeded {
		seed = mrand.Int64()
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.logger,
		hookToken: rand.Text(),
		classes:   classPool(seed, classPoolSize),
		done:      make(chan struct{}),
		clients:   make(map[string]*client),
		refs:      make(map[string]*client),
		oldRefs:   make(map[string]struct{}),
		codes:     make(map[string]*client),
		logins:    make(map[string]*login),
		accounts:  make(map[string]*account),
		notOnWA:   make(map[string]bool),
		canon:     make(map[string]string),
		msgs:      make(map[string]*message),
	}
	s.mux = s.routes()
	return s
}

// HookToken returns the token that the /__fake/ endpoints require as
// "Authorization: Bearer <token>". The page never sees it.
func (s *Server) HookToken() string { return s.hookToken }

// ServeHTTP serves the page, the page's endpoints under /__wa/ and the
// hook endpoints under /__fake/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Start listens on the address of WithAddr (default a free loopback port)
// and serves in a goroutine until Close. It returns the base URL, such as
// "http://127.0.0.1:41234", without a trailing slash.
func (s *Server) Start() (baseURL string, err error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return "", ErrClosed
	}
	if s.httpSrv != nil {
		return s.baseURL, nil
	}
	ln, err := net.Listen("tcp", s.cfg.addr)
	if err != nil {
		return "", fmt.Errorf("fakewa: listen: %w", err)
	}
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.baseURL = "http://" + ln.Addr().String()
	srv := s.httpSrv
	s.serveWG.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("fakewa: serve", "err", err)
		}
	})
	return s.baseURL, nil
}

// URL returns the base URL of Start, or "" before Start.
func (s *Server) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.baseURL
}

// Close stops the timers, ends the WebSocket connections of the pages and,
// after Start, stops the HTTP server. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	for _, c := range s.clients {
		if c.qrTimer != nil {
			c.qrTimer.Stop()
		}
	}
	for _, m := range s.msgs {
		if m.timer != nil {
			m.timer.Stop()
		}
	}
	s.mu.Unlock()

	s.srvMu.Lock()
	srv := s.httpSrv
	s.srvMu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err = srv.Shutdown(ctx); err != nil {
			err = srv.Close()
		}
		s.serveWG.Wait()
	}
	s.wg.Wait()
	return err
}
