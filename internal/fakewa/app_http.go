package fakewa

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxMessageRunes is the longest text the server accepts, as WhatsApp does.
const maxMessageRunes = 65536

var (
	errNotLoggedIn   = errors.New("fakewa: page not logged in")
	errUnknownClient = errors.New("fakewa: unknown client")
	errEmptyText     = errors.New("fakewa: empty text")
)

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__wa/ws", s.handleWS)
	mux.HandleFunc("POST /__wa/state", s.handleState)
	mux.HandleFunc("POST /__wa/linked", s.handleLinked)
	mux.HandleFunc("POST /__wa/qr/reload", s.handleQRReload)
	mux.HandleFunc("POST /__wa/pair", s.handlePair)
	mux.HandleFunc("POST /__wa/takeover", s.handleTakeover)
	mux.HandleFunc("GET /__wa/contact", s.handleContact)
	mux.HandleFunc("GET /__wa/chats", s.handleChats)
	mux.HandleFunc("GET /__wa/chat", s.handleChat)
	mux.HandleFunc("POST /__wa/send", s.handleSend)
	mux.HandleFunc("POST /__wa/read", s.handleRead)
	mux.HandleFunc("POST /__wa/media", s.handleMedia)
	mux.HandleFunc("GET /__wa/media", s.handleMediaGet)
	mux.HandleFunc("/__wa/", http.NotFound)
	mux.Handle("/__fake/", s.hooksHandler())
	mux.HandleFunc("/favicon.ico", http.NotFound)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.handlePage(w, r)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return false
	}
	return true
}

// pageClient returns the page with ID cid or answers 404.
func (s *Server) pageClient(w http.ResponseWriter, cid string) *client {
	s.mu.Lock()
	c := s.clients[cid]
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusNotFound, errUnknownClient)
	}
	return c
}

// mayUseLocked reports whether c holds its login and may send.
func mayUseLocked(c *client) bool {
	l := c.login
	return l != nil && l.valid && l.active == c.id && !l.elsewhere && !c.conflict
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cid, tab := q.Get("cid"), q.Get("tab")
	if !validID(cid) || !validID(tab) {
		http.Error(w, "bad cid or tab", http.StatusBadRequest)
		return
	}
	conn, err := upgradeWS(w, r)
	if err != nil {
		return
	}
	c, kick, err := s.attach(cid, tab, q.Get("token"), r.UserAgent())
	if err != nil {
		_ = conn.CloseWith(1001)
		return
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m struct {
				Type  string `json:"type"`
				Chat  string `json:"chat"`
				State string `json:"state"`
			}
			if json.Unmarshal(b, &m) == nil && m.Type == "presence" {
				s.presence(c, m.Chat, m.State)
			}
		}
	}()
	s.pump(c, conn, kick, readDone)
	_ = conn.Close()
	<-readDone
	s.detach(c)
}

// pump writes the queued events of c to conn until the connection ends.
func (s *Server) pump(c *client, conn *wsConn, kick, readDone chan struct{}) {
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		s.mu.Lock()
		q := c.queue
		c.queue = nil
		s.mu.Unlock()
		for i, b := range q {
			if err := conn.WriteText(b); err != nil {
				s.mu.Lock()
				c.queue = append(slices.Clone(q[i:]), c.queue...)
				s.mu.Unlock()
				return
			}
		}
		select {
		case <-c.notify:
		case <-kick:
			return
		case <-readDone:
			return
		case <-s.done:
			_ = conn.CloseWith(1001)
			return
		case <-ping.C:
			if err := conn.Ping(); err != nil {
				return
			}
		}
	}
}

type cidRequest struct {
	CID string `json:"cid"`
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CID   string    `json:"cid"`
		Tab   string    `json:"tab"`
		State PageState `json:"state"`
		URL   string    `json:"url"`
		Chat  string    `json:"chat"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	switch req.State {
	case PageBoot, PageUnsupported, PageQR, PagePairing, PageLoading, PageMain, PageConflict, PageTempBan, PagePasskey:
	default:
		writeError(w, http.StatusBadRequest, errors.New("fakewa: unknown state"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[req.CID]
	if c == nil {
		if req.State != PageUnsupported || !validID(req.CID) {
			writeError(w, http.StatusNotFound, errUnknownClient)
			return
		}
		// An unsupported page never opens a WebSocket; keep a record of it
		// for Sessions.
		c = &client{id: req.CID, tab: req.Tab, ua: r.UserAgent(), lastSeen: time.Now(), notify: make(chan struct{}, 1)}
		s.clients[req.CID] = c
	}
	if c.conflict && req.State == PageMain {
		req.State = PageConflict
	}
	c.state, c.url, c.chat = req.State, req.URL, req.Chat
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleLinked(w http.ResponseWriter, r *http.Request) {
	var req cidRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	c := s.pageClient(w, req.CID)
	if c == nil {
		return
	}
	s.mu.Lock()
	if c.linkAck != nil {
		close(c.linkAck)
		c.linkAck = nil
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleQRReload(w http.ResponseWriter, r *http.Request) {
	var req cidRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	c := s.pageClient(w, req.CID)
	if c == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.login != nil && c.login.valid {
		writeError(w, http.StatusConflict, errors.New("fakewa: page is logged in"))
		return
	}
	s.startQRLocked(c)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handlePair(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CID   string `json:"cid"`
		Phone string `json:"phone"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	c := s.pageClient(w, req.CID)
	if c == nil {
		return
	}
	phone := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return 'x'
	}, req.Phone)
	if !validPhone(phone) {
		writeError(w, http.StatusBadRequest, ErrInvalidPhone)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.login != nil && c.login.valid {
		writeError(w, http.StatusConflict, errors.New("fakewa: page is logged in"))
		return
	}
	s.stopQRLocked(c)
	if c.pairCode != "" && s.codes[c.pairCode] == c {
		delete(s.codes, c.pairCode)
	}
	c.pairCode, c.pairTel = newPairingCode(), phone
	s.codes[c.pairCode] = c
	c.state = PagePairing
	writeJSON(w, http.StatusOK, map[string]string{"code": c.pairCode})
}

func (s *Server) handleTakeover(w http.ResponseWriter, r *http.Request) {
	var req cidRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	c := s.pageClient(w, req.CID)
	if c == nil {
		return
	}
	if err := s.takeover(c); err != nil {
		writeError(w, http.StatusConflict, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// loggedIn returns the page of the request's cid when it is logged in, or
// answers an error.
func (s *Server) loggedIn(w http.ResponseWriter, cid string) (*client, string) {
	c := s.pageClient(w, cid)
	if c == nil {
		return nil, ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.login == nil || !c.login.valid {
		writeError(w, http.StatusUnauthorized, errNotLoggedIn)
		return nil, ""
	}
	return c, c.login.phone
}

func (s *Server) handleContact(w http.ResponseWriter, r *http.Request) {
	c, _ := s.loggedIn(w, r.URL.Query().Get("cid"))
	if c == nil {
		return
	}
	s.mu.Lock()
	exists, wid := s.lookupLocked(r.URL.Query().Get("phone"))
	s.mu.Unlock()
	out := map[string]any{"exists": exists}
	if exists {
		out["phone"] = wid
	}
	writeJSON(w, http.StatusOK, out)
}

type chatView struct {
	Chat   string `json:"chat"`
	In     bool   `json:"in,omitempty"`
	Text   string `json:"text"`
	At     int64  `json:"at"`
	Status string `json:"status"`
	ID     string `json:"id"`
	Unread int    `json:"unread,omitempty"`
}

func (s *Server) handleChats(w http.ResponseWriter, r *http.Request) {
	c, phone := s.loggedIn(w, r.URL.Query().Get("cid"))
	if c == nil {
		return
	}
	s.mu.Lock()
	a := s.accountLocked(phone)
	out := make([]chatView, 0, len(a.chats))
	for chat, ms := range a.chats {
		if len(ms) == 0 {
			continue
		}
		last := ms[len(ms)-1]
		out = append(out, chatView{
			Chat: chat, In: last.in, Text: last.preview(), At: last.At.UnixMilli(), Status: last.status.String(),
			ID: last.ID, Unread: len(unreadLocked(a, chat)),
		})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b chatView) int {
		return cmp.Or(cmp.Compare(b.At, a.At), strings.Compare(a.Chat, b.Chat))
	})
	writeJSON(w, http.StatusOK, map[string]any{"chats": out})
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	c, phone := s.loggedIn(w, r.URL.Query().Get("cid"))
	if c == nil {
		return
	}
	chat := r.URL.Query().Get("phone")
	s.mu.Lock()
	a := s.accountLocked(phone)
	ms := a.chats[chat]
	out := make([]messageView, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.view())
	}
	isNew := newChatLocked(a, chat)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"messages": out, "new": isNew})
}

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CID  string `json:"cid"`
		To   string `json:"to"`
		Text string `json:"text"`
		CK   string `json:"ck"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	c := s.pageClient(w, req.CID)
	if c == nil {
		return
	}
	switch {
	case !validPhone(req.To):
		writeError(w, http.StatusBadRequest, ErrInvalidPhone)
		return
	case strings.TrimFunc(req.Text, unicode.IsSpace) == "" || !utf8.ValidString(req.Text):
		writeError(w, http.StatusBadRequest, errEmptyText)
		return
	case utf8.RuneCountInString(req.Text) > maxMessageRunes:
		writeError(w, http.StatusRequestEntityTooLarge, errors.New("fakewa: text too long"))
		return
	}
	s.mu.Lock()
	ok := mayUseLocked(c)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusConflict, errNotLoggedIn)
		return
	}
	s.finishSend(w, r, c, req.To, req.Text, req.CK, nil)
}

// finishSend waits the pending delay of a message that page c sends to
// to, checks again that it may be sent, stores it and answers its view.
func (s *Server) finishSend(w http.ResponseWriter, r *http.Request, c *client, to, text, ck string, up *upload) {
	if d := s.cfg.pendingDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			writeError(w, http.StatusServiceUnavailable, ErrClosed)
			return
		}
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, ErrClosed)
		return
	case !mayUseLocked(c):
		s.mu.Unlock()
		writeError(w, http.StatusConflict, errNotLoggedIn)
		return
	case s.notOnWA[to]:
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, errors.New("fakewa: number not on WhatsApp"))
		return
	case s.accountLocked(c.login.phone).tempBan != nil:
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, errors.New("fakewa: account temporarily banned"))
		return
	}
	m := s.acceptLocked(c, to, text, ck, up)
	v := m.view()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// handleRead takes the read receipts of a page: the incoming messages ids
// of the chat chat that the page showed in the open chat while its window
// was visible and focused.
func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CID  string   `json:"cid"`
		Chat string   `json:"chat"`
		IDs  []string `json:"ids"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	c := s.pageClient(w, req.CID)
	if c == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !mayUseLocked(c) {
		writeError(w, http.StatusConflict, errNotLoggedIn)
		return
	}
	done := s.markReadLocked(s.accountLocked(c.login.phone), req.Chat, req.IDs)
	writeJSON(w, http.StatusOK, map[string]any{"ids": nonNil(done)})
}
