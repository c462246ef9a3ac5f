package fakewa

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// clientGC is how long a disconnected page stays in Sessions.
const clientGC = 2 * time.Minute

// maxOldRefs bounds the memory of replaced QR payloads.
const maxOldRefs = 4096

// validPhone reports whether p is 6 to 15 ASCII digits.
func validPhone(p string) bool {
	if len(p) < 6 || len(p) > 15 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// maskPhone keeps the last four digits of a number, for logs, which never
// hold a whole number.
func maskPhone(p string) string {
	if len(p) <= 4 {
		return "…"
	}
	return "…" + p[len(p)-4:]
}

// validID reports whether id is a plausible client or tab ID from the page.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// newRef returns a QR payload in the shape "2@<b64>,<b64>,<b64>,<b64>".
func newRef() string {
	enc := base64.StdEncoding.EncodeToString
	return "2@" + enc(randomBytes(64)) + "," + enc(randomBytes(32)) + "," +
		enc(randomBytes(32)) + "," + enc(randomBytes(32))
}

// pairingAlphabet has no 0, O, I or U, like the codes of the real app.
const pairingAlphabet = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"

func newPairingCode() string {
	b := randomBytes(8)
	for i := range b {
		b[i] = pairingAlphabet[int(b[i])%len(pairingAlphabet)]
	}
	return string(b)
}

// normalizeCode drops the separators a reader may keep ("A,B,C", "ABCD-EFGH").
func normalizeCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r == ',' || r == '-' || r == ' ' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hashIDs reports whether rows carry a bare hash as their data-id.
func (s *Server) hashIDs() bool {
	return s.cfg.idStyle == IDStyleHash || s.cfg.markup == Markup2026
}

func (s *Server) newMessageID() string {
	if s.hashIDs() {
		return strings.ToUpper(hex.EncodeToString(randomBytes(16)))
	}
	return "3EB0" + strings.ToUpper(hex.EncodeToString(randomBytes(8)))
}

// dataID returns the data-id of the row of message id in the chat with
// chat: "true_" (fromMe) or "false_", the chat's JID and the id, or the
// bare id.
func (s *Server) dataID(fromMe bool, chat, id string) string {
	if s.hashIDs() {
		return id
	}
	return strconv.FormatBool(fromMe) + "_" + chat + "@c.us_" + id
}

// pushLocked queues an event for the page. The caller holds s.mu.
func (s *Server) pushLocked(c *client, typ string, fields map[string]any) {
	ev := map[string]any{"type": typ}
	for k, v := range fields {
		ev[k] = v
	}
	b, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("fakewa: marshal event", "type", typ, "err", err)
		return
	}
	s.log.Debug("fakewa: event", "client", c.id, "type", typ)
	c.queue = append(c.queue, b)
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// accountLocked returns the account of phone, making it when needed.
func (s *Server) accountLocked(phone string) *account {
	a := s.accounts[phone]
	if a == nil {
		a = &account{phone: phone, online: true, chats: make(map[string][]*message)}
		s.accounts[phone] = a
	}
	return a
}

// accountClientsLocked returns the connected pages logged into phone.
func (s *Server) accountClientsLocked(phone string) []*client {
	var out []*client
	for _, c := range s.clients {
		if c.login != nil && c.login.valid && c.login.phone == phone {
			out = append(out, c)
		}
	}
	return out
}

// attach registers a WebSocket connection of page cid and returns the
// client and the channel that closes when a newer connection of the same
// page replaces this one.
func (s *Server) attach(cid, tab, token, ua string) (*client, chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, ErrClosed
	}
	s.gcLocked()
	kick := make(chan struct{})
	c := s.clients[cid]
	if c != nil {
		if c.kick != nil {
			close(c.kick)
		}
		c.kick = kick
		c.conns++
		c.ua = ua
		c.lastSeen = time.Now()
		if !c.connected {
			c.connected = true
			s.resumeLocked(c)
		}
		s.wg.Add(1)
		return c, kick, nil
	}
	c = &client{
		id: cid, tab: tab, ua: ua, state: PageBoot,
		conns: 1, kick: kick, connected: true, lastSeen: time.Now(),
		notify: make(chan struct{}, 1),
	}
	s.clients[cid] = c
	s.wg.Add(1)

	l := s.logins[token]
	if l == nil || !l.valid {
		s.pushLocked(c, "auth", map[string]any{"ok": false, "loggedOut": token != ""})
		s.startQRLocked(c)
		return c, kick, nil
	}
	c.login = l
	a := s.accountLocked(l.phone)
	s.pushLocked(c, "auth", map[string]any{
		"ok": true, "phone": l.phone, "n": l.n, "online": a.online,
	})
	s.pushRestrictTo(c, a)
	holder := s.clients[l.active]
	if l.elsewhere || (holder != nil && holder != c && holder.connected && holder.login == l && holder.tab != tab) {
		c.conflict = true
		s.pushLocked(c, "conflict", nil)
	} else {
		l.active = c.id
	}
	return c, kick, nil
}

// resumeLocked restarts what a page needs after it reconnects.
func (s *Server) resumeLocked(c *client) {
	switch {
	case c.login != nil:
	case c.pairCode != "":
		s.codes[c.pairCode] = c
	case c.state == PageBoot || c.state == PageQR:
		s.startQRLocked(c)
	}
}

// detach ends one WebSocket connection of c.
func (s *Server) detach(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wg.Done()
	c.conns--
	c.lastSeen = time.Now()
	if c.conns > 0 {
		return
	}
	c.connected = false
	s.stopQRLocked(c)
	if c.pairCode != "" && s.codes[c.pairCode] == c {
		delete(s.codes, c.pairCode)
	}
}

// gcLocked forgets pages that have been disconnected for a while.
func (s *Server) gcLocked() {
	now := time.Now()
	for id, c := range s.clients {
		if !c.connected && now.Sub(c.lastSeen) > clientGC {
			s.stopQRLocked(c)
			delete(s.clients, id)
		}
	}
}

// startQRLocked starts a QR cycle for c: a first code, refreshes, then the
// reload button.
func (s *Server) startQRLocked(c *client) {
	if c.pairCode != "" {
		if s.codes[c.pairCode] == c {
			delete(s.codes, c.pairCode)
		}
		c.pairCode, c.pairTel = "", ""
	}
	s.stopQRLocked(c)
	c.refresh = 0
	c.expired = false
	c.state = PageQR
	s.issueRefLocked(c, s.cfg.qrFirst)
}

func (s *Server) issueRefLocked(c *client, life time.Duration) {
	s.retireRefLocked(c)
	c.ref = newRef()
	c.issued = time.Now()
	s.refs[c.ref] = c
	s.pushLocked(c, "qr", map[string]any{"ref": c.ref, "refresh": c.refresh})
	gen := c.qrGen
	c.qrTimer = time.AfterFunc(life, func() { s.qrTick(c, gen) })
}

func (s *Server) retireRefLocked(c *client) {
	if c.ref == "" {
		return
	}
	if s.refs[c.ref] == c {
		delete(s.refs, c.ref)
	}
	if len(s.oldRefs) >= maxOldRefs {
		clear(s.oldRefs)
	}
	s.oldRefs[c.ref] = struct{}{}
}

// stopQRLocked ends the QR cycle of c, if any.
func (s *Server) stopQRLocked(c *client) {
	c.qrGen++
	if c.qrTimer != nil {
		c.qrTimer.Stop()
		c.qrTimer = nil
	}
	s.retireRefLocked(c)
}

func (s *Server) qrTick(c *client, gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || c.qrGen != gen || c.login != nil {
		return
	}
	if c.refresh >= s.cfg.qrMaxRefreshes {
		s.retireRefLocked(c)
		c.qrTimer = nil
		c.expired = true
		s.pushLocked(c, "qr-expired", nil)
		return
	}
	c.refresh++
	s.issueRefLocked(c, s.cfg.qrRotate)
}

// linkLocked logs page c into phone, as a phone that scanned its code.
func (s *Server) linkLocked(c *client, phone string) chan struct{} {
	a := s.accountLocked(phone)
	a.devices++
	l := &login{token: rand.Text(), phone: phone, n: a.devices, valid: true, active: c.id}
	s.logins[l.token] = l
	s.stopQRLocked(c)
	if c.pairCode != "" {
		delete(s.codes, c.pairCode)
		c.pairCode, c.pairTel = "", ""
	}
	c.login = l
	c.conflict = false
	c.expired = false
	c.state = PageLoading
	if c.linkAck != nil {
		close(c.linkAck)
	}
	c.linkAck = make(chan struct{})
	s.pushLocked(c, "linked", map[string]any{
		"token": l.token, "phone": phone, "n": l.n, "online": a.online,
	})
	s.pushRestrictTo(c, a)
	s.log.Info("fakewa: linked", "client", c.id, "phone", maskPhone(phone), "device", l.n)
	return c.linkAck
}

// waitLinked waits until page c stored the login (ack closes).
func (s *Server) waitLinked(ctx context.Context, c *client, ack chan struct{}) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ack:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return ErrClosed
		case <-t.C:
			s.mu.Lock()
			gone := !c.connected && time.Since(c.lastSeen) > 3*time.Second
			s.mu.Unlock()
			if gone {
				return ErrPageGone
			}
		}
	}
}

// Scan plays the phone that scans the QR code with payload qrPayload (the
// data-ref attribute) and links that page to the account phone (6 to 15
// digits, E.164 without "+"). It returns when the page has stored the login
// in its localStorage and IndexedDB, or when ctx ends.
func (s *Server) Scan(ctx context.Context, qrPayload, phone string) error {
	if !validPhone(phone) {
		return fmt.Errorf("%w: %q", ErrInvalidPhone, phone)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	c := s.refs[qrPayload]
	if c == nil || !c.connected {
		_, old := s.oldRefs[qrPayload]
		s.mu.Unlock()
		if old {
			return ErrQRExpired
		}
		return ErrUnknownQR
	}
	if s.passkeyLocked(c, phone) {
		s.mu.Unlock()
		return ErrPasskeyRequired
	}
	ack := s.linkLocked(c, phone)
	s.mu.Unlock()
	return s.waitLinked(ctx, c, ack)
}

// Links returns how many times a page was linked to the account phone (a
// QR code scanned, or a pairing code confirmed): each is a new linked
// device on the real service, and asks a person to pick up the phone.
func (s *Server) Links(phone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[phone]; a != nil {
		return a.devices
	}
	return 0
}

// PendingQRs returns the QR codes that connected pages show now, the
// oldest code first.
func (s *Server) PendingQRs() []QR {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingQRsLocked()
}

func (s *Server) pendingQRsLocked() []QR {
	var out []QR
	for ref, c := range s.refs {
		if !c.connected {
			continue
		}
		out = append(out, QR{ClientID: c.id, Ref: ref, Refresh: c.refresh, Issued: c.issued, UserAgent: c.ua})
	}
	slices.SortFunc(out, func(a, b QR) int { return a.Issued.Compare(b.Issued) })
	return out
}

// ScanAny scans the QR code of the only page that shows one, waiting until
// a page shows one or ctx ends. It returns ErrAmbiguousQR when several pages
// show a code, and ErrNoPendingQR, joined with the error of ctx, when none
// did before ctx ended.
func (s *Server) ScanAny(ctx context.Context, phone string) error {
	if !validPhone(phone) {
		return fmt.Errorf("%w: %q", ErrInvalidPhone, phone)
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		qrs := s.pendingQRsLocked()
		switch len(qrs) {
		case 0:
		case 1:
			c := s.refs[qrs[0].Ref]
			if s.passkeyLocked(c, phone) {
				s.mu.Unlock()
				return ErrPasskeyRequired
			}
			ack := s.linkLocked(c, phone)
			s.mu.Unlock()
			return s.waitLinked(ctx, c, ack)
		default:
			s.mu.Unlock()
			return fmt.Errorf("%w: %d pages", ErrAmbiguousQR, len(qrs))
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNoPendingQR, ctx.Err())
		case <-t.C:
		}
	}
}

// ConfirmPairingCode plays the phone that enters the pairing code a page
// shows after "Link with phone number". The code may keep the commas of
// data-link-code or a dash. phone must be the number typed into the page.
// It returns when the page has stored the login, or when ctx ends.
func (s *Server) ConfirmPairingCode(ctx context.Context, code, phone string) error {
	if !validPhone(phone) {
		return fmt.Errorf("%w: %q", ErrInvalidPhone, phone)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	c := s.codes[normalizeCode(code)]
	if c == nil || !c.connected {
		s.mu.Unlock()
		return ErrUnknownCode
	}
	if c.pairTel != phone {
		s.mu.Unlock()
		return fmt.Errorf("%w: code for %s, not %s", ErrPhoneMismatch, c.pairTel, phone)
	}
	if s.passkeyLocked(c, phone) {
		s.mu.Unlock()
		return ErrPasskeyRequired
	}
	ack := s.linkLocked(c, phone)
	s.mu.Unlock()
	return s.waitLinked(ctx, c, ack)
}

// Logout plays "log out from the phone": every login of phone ends, and
// every page logged into it clears its login storage, sets old-logout-cred,
// changes its URL to /?post_logout=1&logout_reason=0 and shows a new QR code.
func (s *Server) Logout(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logoutLocked(phone, "0", false)
}

// logoutLocked ends the logins of phone with a logout reason; banner adds
// the 403 banner to the QR screen.
func (s *Server) logoutLocked(phone, reason string, banner bool) {
	for _, l := range s.logins {
		if l.phone == phone {
			l.valid = false
			l.active = ""
		}
	}
	for _, c := range s.clients {
		if c.login == nil || c.login.phone != phone {
			continue
		}
		c.login = nil
		c.conflict = false
		c.loggedOut = true
		c.chat = ""
		s.pushLocked(c, "logout", map[string]any{"reason": reason, "banner": banner})
		if c.connected {
			s.startQRLocked(c)
		} else {
			c.state = PageQR
		}
	}
}

// SetNotOnWhatsApp marks number (digits) as not on WhatsApp, or as on
// WhatsApp again. /send?phone=<number> then shows the invalid number dialog.
// Every well-formed number is on WhatsApp unless marked.
func (s *Server) SetNotOnWhatsApp(number string, notOn bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if notOn {
		s.notOnWA[number] = true
	} else {
		delete(s.notOnWA, number)
	}
}

// SetCanonicalNumber plays the chat-id correction of WhatsApp's number
// check (whatsapp-web.md §10.7): the account of typed is registered as
// canonical, such as a Brazilian number with or without the ninth digit
// (5511987654321 and 551187654321), Mexico's 521… and 52…, or
// Argentina's 549… and 54…. Opening typed (a /send?phone= link, an
// in-app link, or the search box) then opens the chat of canonical: its
// header's span[title] is "+<canonical>" and a message sent there is
// recorded To canonical. A canonical of "" or typed itself removes the
// correction. It returns ErrInvalidPhone unless both are 6 to 15 digits.
func (s *Server) SetCanonicalNumber(typed, canonical string) error {
	if !validPhone(typed) || (canonical != "" && !validPhone(canonical)) {
		return ErrInvalidPhone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if canonical == "" || canonical == typed {
		delete(s.canon, typed)
	} else {
		s.canon[typed] = canonical
	}
	return nil
}

// lookupLocked answers the number check of the page for phone: whether it
// is on WhatsApp, and the number of its chat.
func (s *Server) lookupLocked(phone string) (bool, string) {
	if !validPhone(phone) || s.notOnWA[phone] {
		return false, ""
	}
	wid := phone
	if c, ok := s.canon[phone]; ok {
		wid = c
	}
	if s.notOnWA[wid] {
		return false, ""
	}
	return true, wid
}

// Conflict plays "WhatsApp opened in another window" for every login of
// phone: each page logged into it shows the dialog "WhatsApp is open in
// another window…" with "Close" and "Use here", and cannot send until "Use
// here" takes the login back.
func (s *Server) Conflict(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.logins {
		if l.valid && l.phone == phone {
			l.elsewhere = true
			l.active = ""
		}
	}
	for _, c := range s.accountClientsLocked(phone) {
		c.conflict = true
		c.state = PageConflict
		s.pushLocked(c, "conflict", nil)
	}
}

// takeover gives the login of c to c ("Use here").
func (s *Server) takeover(c *client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := c.login
	if l == nil || !l.valid {
		return errNotLoggedIn
	}
	l.elsewhere = false
	l.active = c.id
	c.conflict = false
	c.state = PageMain
	for _, o := range s.clients {
		if o != c && o.login == l && o.connected && !o.conflict {
			o.conflict = true
			o.state = PageConflict
			s.pushLocked(o, "conflict", nil)
		}
	}
	return nil
}

// SetPhoneOnline plays the phone of account phone going offline or coming
// back. While it is offline the pages show the "Phone not connected"
// banner, and messages they send stay Pending and do not reach the server
// (Received does not list them) until the phone is online again.
func (s *Server) SetPhoneOnline(phone string, online bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accountLocked(phone)
	if a.online == online {
		return
	}
	a.online = online
	for _, c := range s.accountClientsLocked(phone) {
		s.pushLocked(c, "phone", map[string]any{"online": online})
	}
	if online {
		held := a.held
		a.held = nil
		for _, m := range held {
			s.deliverLocked(a, m)
		}
	}
}

// SetStuckPending turns the "stuck pending" switch of account phone, or of
// every account for AllAccounts. Messages of a stuck account reach the
// server (Received lists them) but their rows stay Pending (msg-time). When
// the switch turns off, they go on to Sent.
func (s *Server) SetStuckPending(phone string, stuck bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if phone == AllAccounts {
		s.stuckAll = stuck
		if !stuck {
			for _, a := range s.accounts {
				a.stuck = false
			}
		}
	} else {
		s.accountLocked(phone).stuck = stuck
	}
	if stuck {
		return
	}
	for _, m := range s.msgs {
		a := s.accounts[m.From]
		if m.status == StatusPending && m.recorded && !m.held && !m.waiting && !s.stuckLocked(a) {
			s.scheduleLocked(m, s.cfg.sentDelay, StatusSent)
		}
	}
}

func (s *Server) stuckLocked(a *account) bool { return s.stuckAll || a.stuck }

// Received returns the messages that account from sent to the recipient
// to, oldest first.
func (s *Server) Received(from, to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return between(s.received, from, to, Message.pair)
}

// AllReceived returns every message the server received, oldest first.
func (s *Server) AllReceived() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Reset empties the list of received messages. Chat histories, logins and
// switches stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = nil
}

// MessageStatus returns the status of the outgoing message with id.
func (s *Server) MessageStatus(id string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[id]
	if m == nil {
		return 0, false
	}
	return m.status, true
}

// Sessions returns the pages the server knows, connected or disconnected
// for less than two minutes, sorted by client ID.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Session, 0, len(s.clients))
	for _, c := range s.clients {
		ss := Session{
			ClientID: c.id, Tab: c.tab, State: c.state, Chat: c.chat,
			QRExpired: c.expired, PairingCode: c.pairCode, LoggedOut: c.loggedOut,
			URL: c.url, UserAgent: c.ua, Connected: c.connected,
		}
		if c.login != nil && c.login.valid {
			ss.Phone = c.login.phone
		}
		if s.refs[c.ref] == c {
			ss.QRRef = c.ref
		}
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b Session) int { return strings.Compare(a.ClientID, b.ClientID) })
	return out
}

// acceptLocked stores a message that page c sends to to. The caller checked that
// c may send.
func (s *Server) acceptLocked(c *client, to, text, ck string, up *upload) *message {
	a := s.accountLocked(c.login.phone)
	id := s.newMessageID()
	m := &message{
		Message: Message{From: a.phone, To: to, Text: text, ID: id, At: time.Now()},
		dataID:  s.dataID(true, to, id),
		ck:      ck,
		reject:  s.rejectionLocked(a, to),
	}
	if up != nil {
		media := up.media
		m.Media = &media
		if media.Kind == MediaImage {
			m.data = up.data
		}
	}
	s.endTypingLocked(c, to, true)
	s.msgs[id] = m
	a.chats[to] = append(a.chats[to], m)
	for _, o := range s.accountClientsLocked(a.phone) {
		s.pushLocked(o, "msg", map[string]any{"message": m.view()})
	}
	if !a.online {
		m.held = true
		a.held = append(a.held, m)
		return m
	}
	s.deliverLocked(a, m)
	return m
}

// deliverLocked hands m to the WhatsApp server: the oracle records it once,
// and unless the account is stuck the ticks start.
func (s *Server) deliverLocked(a *account, m *message) {
	m.held = false
	if !m.recorded {
		m.recorded = true
		m.At = time.Now()
		if m.reject != rejectNone {
			s.rejected = append(s.rejected, m.Message)
		} else {
			s.received = append(s.received, m.Message)
		}
	}
	if m.status == StatusPending && !s.stuckLocked(a) {
		s.scheduleLocked(m, s.cfg.sentDelay, StatusSent)
	}
}

func (s *Server) scheduleLocked(m *message, d time.Duration, next Status) {
	m.waiting = true
	m.timer = time.AfterFunc(d, func() { s.tick(m, next) })
}

func (s *Server) tick(m *message, next Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.waiting = false
	if s.closed || m.status >= next {
		return
	}
	a := s.accounts[m.From]
	if next == StatusSent {
		if s.stuckLocked(a) {
			return
		}
		if !a.online {
			m.held = true
			a.held = append(a.held, m)
			return
		}
	}
	if next == StatusDelivered && a.neverDelivers(m.To) {
		return // SetNeverDeliver: the message stays at one tick
	}
	s.advanceLocked(a, m, next)
}

// advanceLocked sets the status of the outgoing message m of account a,
// tells the account's pages and schedules the next automatic step.
func (s *Server) advanceLocked(a *account, m *message, next Status) {
	m.status = next
	for _, c := range s.accountClientsLocked(a.phone) {
		s.pushLocked(c, "ack", map[string]any{"id": m.ID, "chat": m.To, "status": next.String(), "fail": m.reject})
	}
	switch {
	case next == StatusSent && m.reject != rejectNone:
		s.scheduleLocked(m, s.cfg.rejectDelay, StatusFailed)
	case next == StatusSent:
		if !a.neverDelivers(m.To) {
			s.scheduleLocked(m, s.cfg.deliveredDelay, StatusDelivered)
		}
	case next == StatusDelivered:
		if s.cfg.readDelay > 0 {
			s.scheduleLocked(m, s.cfg.readDelay, StatusRead)
		}
	}
}

// neverDelivers reports whether SetNeverDeliver holds the messages of a
// to to at one tick.
func (a *account) neverDelivers(to string) bool {
	return a.neverDeliver[to] || a.neverDeliver[AllAccounts]
}

// SetNeverDeliver makes the messages that account phone sends to to stay
// at one tick (" Sent ", msg-check or wds-ic-delivered) for good, as for a
// contact who blocked the account or whose phone is off
// (whatsapp-web.md §10.4): they reach the server (Received lists them)
// but are never delivered, and so never read, not even by ReadBy. to may
// be AllAccounts for every recipient. false lets them go on: messages
// that wait at Sent become Delivered after the delivered delay of
// WithTickDelays.
func (s *Server) SetNeverDeliver(phone, to string, never bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accountLocked(phone)
	if never {
		if a.neverDeliver == nil {
			a.neverDeliver = make(map[string]bool)
		}
		a.neverDeliver[to] = true
		return
	}
	delete(a.neverDeliver, to)
	for _, ms := range a.chats {
		for _, m := range ms {
			if !m.in && m.status == StatusSent && m.reject == rejectNone && !m.waiting && !a.neverDelivers(m.To) {
				s.scheduleLocked(m, s.cfg.deliveredDelay, StatusDelivered)
			}
		}
	}
}

// ReadBy plays the contact reading the chat on their phone: every message
// that account phone sent to contact and that the server has passed on
// (Sent or Delivered, not held by SetNeverDeliver, not rejected) becomes
// Read at once: " Read " with the blue tick on the account's pages. It
// returns the IDs of the messages it changed, oldest first.
func (s *Server) ReadBy(phone, contact string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[phone]
	if a == nil {
		return nil
	}
	var ids []string
	for _, m := range a.chats[contact] {
		if m.in || m.reject != rejectNone || a.neverDelivers(m.To) {
			continue
		}
		if m.status == StatusSent || m.status == StatusDelivered {
			s.advanceLocked(a, m, StatusRead)
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// SetMessageStatus moves the outgoing message id forward to st, which must
// be StatusSent, StatusDelivered or StatusRead, as if the contact's phone
// had acknowledged it now; the rows follow at once and the later steps
// keep their delays from there. It returns ErrUnknownMessage for an ID
// that is not an outgoing message the server has received, and
// ErrInvalidStatus for another status, a step back or a message that the
// server rejects.
func (s *Server) SetMessageStatus(id string, st Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[id]
	if m == nil || m.in || !m.recorded {
		return fmt.Errorf("%w: %q", ErrUnknownMessage, id)
	}
	switch {
	case st != StatusSent && st != StatusDelivered && st != StatusRead:
		return fmt.Errorf("%w: to %v", ErrInvalidStatus, st)
	case m.reject != rejectNone || m.status == StatusFailed:
		return fmt.Errorf("%w: the server rejects this message", ErrInvalidStatus)
	case st < m.status:
		return fmt.Errorf("%w: from %v back to %v", ErrInvalidStatus, m.status, st)
	case st == m.status:
		return nil
	}
	s.advanceLocked(s.accountLocked(m.From), m, st)
	return nil
}

// messageView is a message as the page sees it. Chat is the other party.
type messageView struct {
	ID     string `json:"id"`
	DataID string `json:"dataId"`
	Chat   string `json:"chat"`
	In     bool   `json:"in,omitempty"`
	Text   string `json:"text"`
	At     int64  `json:"at"`
	Status string `json:"status"`
	CK     string `json:"ck,omitempty"`
	Fail   string `json:"fail,omitempty"`
	// Read reports whether the account has read an incoming message.
	Read bool `json:"read,omitempty"`
	// Media describes an attachment; Text is then its caption.
	Media *mediaView `json:"media,omitempty"`
}

// mediaView is an attachment as the page sees it. URL serves the bytes of
// an image for its thumbnail.
type mediaView struct {
	Kind MediaKind `json:"kind"`
	Name string    `json:"name"`
	MIME string    `json:"mime"`
	Size int64     `json:"size"`
	URL  string    `json:"url,omitempty"`
}

func (m *message) view() messageView {
	chat := m.To
	if m.in {
		chat = m.From
	}
	v := messageView{
		ID: m.ID, DataID: m.dataID, Chat: chat, In: m.in, Text: m.Text,
		At: m.At.UnixMilli(), Status: m.status.String(), CK: m.ck, Read: m.in && m.read,
	}
	if m.status == StatusFailed {
		v.Fail = string(m.reject)
	}
	if md := m.Media; md != nil {
		v.Media = &mediaView{Kind: md.Kind, Name: md.FileName, MIME: md.MIMEType, Size: md.Size}
		if m.data != nil {
			v.Media.URL = "/__wa/media?id=" + m.ID
		}
	}
	return v
}

// preview is the text of the chat list for m: the text or caption, or for
// an attachment without a caption "Photo", "Video" or the file name (the
// file name always for a document).
func (m *message) preview() string {
	md := m.Media
	switch {
	case md == nil:
		return m.Text
	case md.Kind == MediaDocument:
		return md.FileName
	case m.Text != "":
		return m.Text
	case md.Kind == MediaVideo:
		return "Video"
	}
	return "Photo"
}

// Incoming delivers a message that the contact from writes to the account
// phone: it joins the chat's history and shows, at once, as an incoming
// row in the chat with from on the account's pages (div.message-in and a
// "false_" data-id, or in the 2026 markup a speaker label "+<from>:"). It
// is unread until a page of the account shows it in the open chat while
// the window is visible and focused (see ReadByAccount); until then the
// chat list shows the unread badge. It is not in Received, which lists
// what pages sent. It returns the message, From being the contact and To
// the account, or ErrInvalidPhone.
func (s *Server) Incoming(phone, from, text string) (Message, error) {
	if !validPhone(phone) || !validPhone(from) {
		return Message{}, ErrInvalidPhone
	}
	if strings.TrimSpace(text) == "" {
		return Message{}, errEmptyText
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accountLocked(phone)
	id := s.newMessageID()
	m := &message{
		Message: Message{From: from, To: phone, Text: text, ID: id, At: time.Now()},
		in:      true,
		status:  StatusRead,
		dataID:  s.dataID(false, from, id),
	}
	a.chats[from] = append(a.chats[from], m)
	unread := len(unreadLocked(a, from))
	for _, c := range s.accountClientsLocked(phone) {
		s.pushLocked(c, "msg", map[string]any{"message": m.view(), "unread": unread})
	}
	return m.Message, nil
}

// unreadLocked returns the incoming messages of the chat of a with from
// that the account has not read, oldest first.
func unreadLocked(a *account, from string) []*message {
	var out []*message
	for _, m := range a.chats[from] {
		if m.in && !m.read {
			out = append(out, m)
		}
	}
	return out
}

// markReadLocked marks the incoming messages ids of the chat of a with
// chat as read by the account, as the page of c sends read receipts, and
// tells the account's pages. It returns the IDs it changed.
func (s *Server) markReadLocked(a *account, chat string, ids []string) []string {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var done []string
	now := time.Now()
	for _, m := range a.chats[chat] {
		if m.in && !m.read && want[m.ID] {
			m.read, m.readAt = true, now
			done = append(done, m.ID)
		}
	}
	if len(done) == 0 {
		return nil
	}
	unread := len(unreadLocked(a, chat))
	for _, c := range s.accountClientsLocked(a.phone) {
		s.pushLocked(c, "read", map[string]any{"chat": chat, "ids": done, "unread": unread})
	}
	return done
}

// ReadByAccount returns the IDs of the incoming messages from the contact
// from that account phone has read, oldest first: the read receipts the
// contact got (blue ticks on their phone). A page reads the incoming rows
// of the open chat only while document.visibilityState is "visible" and
// document.hasFocus() is true; see the package documentation.
func (s *Server) ReadByAccount(phone, from string) []string {
	return s.incomingIDs(phone, from, true)
}

// UnreadByAccount returns the IDs of the incoming messages from the
// contact from that account phone has not read yet, oldest first.
func (s *Server) UnreadByAccount(phone, from string) []string {
	return s.incomingIDs(phone, from, false)
}

func (s *Server) incomingIDs(phone, from string, read bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[phone]
	if a == nil {
		return nil
	}
	var out []string
	for _, m := range a.chats[from] {
		if m.in && m.read == read {
			out = append(out, m.ID)
		}
	}
	return out
}
