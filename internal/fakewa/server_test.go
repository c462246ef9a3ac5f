package fakewa

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func getPage(t *testing.T, base, path, ua string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", ua)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestPageHTML(t *testing.T) {
	s, base := newTestServer(t)
	appDiv := regexp.MustCompile(`(?s)<div id="app">(.*?)</div><template id="wa-unsupported">`)
	tests := []struct {
		name, path, ua string
		unsupported    bool
	}{
		{"desktop root", "/", desktopUA, false},
		{"send link", "/send?phone=15551234567&text=hi", desktopUA, false},
		{"send link with slash", "/send/?phone=15551234567&type=phone_number&app_absent=0", desktopUA, false},
		{"headless", "/", strings.Replace(desktopUA, "Chrome/", "HeadlessChrome/", 1), true},
		{"old chrome", "/", strings.Replace(desktopUA, "Chrome/156", "Chrome/84", 1), true},
		{"firefox", "/", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", false},
		{"whatsapp prefix", "/", "WhatsApp/2.2149.4 Mozilla/5.0 Chrome/104.0.0.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := getPage(t, base, tt.path, tt.ua)
			require.Equal(t, http.StatusOK, code)
			assert.Contains(t, body, `<body class="web">`)
			assert.NotContains(t, body, s.HookToken(), "the page must never see the hook token")
			m := appDiv.FindStringSubmatch(body)
			require.NotNil(t, m, "no #app in %s", body[:200])
			if tt.unsupported {
				assert.Contains(t, m[1], "WhatsApp works with Google Chrome 85+")
				assert.Contains(t, m[1], `<a href="https://support.google.com/chrome/answer/95414"`)
			} else {
				assert.Contains(t, m[1], `<div id="initial_startup"`)
				assert.Contains(t, m[1], `<progress value="0" max="100"`)
				assert.Contains(t, m[1], "End-to-end encrypted")
				assert.NotContains(t, m[1], "WhatsApp works with")
			}
		})
	}

	resp, err := http.Post(base+"/", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestAppScriptIsSafeToInline(t *testing.T) {
	assert.NotContains(t, strings.ToLower(appJS), "</script")
	assert.NotContains(t, strings.ToLower(appCSS), "</style")
}

func TestSupportedUserAgent(t *testing.T) {
	tests := []struct {
		ua   string
		min  int
		want bool
	}{
		{desktopUA, 85, true},
		{desktopUA, 157, false},
		{desktopUA, 0, true},
		{"Mozilla/5.0 HeadlessChrome/156.0.0.0", 0, false},
		{"Mozilla/5.0 Chrome/120.0 Electron/28.1.0", 85, false},
		{"Mozilla/5.0 QtWebEngine/5.15.2 Chrome/87.0", 85, false},
		{"WhatsApp/2.2 Mozilla/5.0 Chrome/104.0", 85, false},
		{"Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15", 85, true},
		{"Mozilla/5.0 Chrome/60.0.3112.113", 60, true},
		{"Mozilla/5.0 Chrome/59.0.3071.115", 60, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.ua, tt.min), func(t *testing.T) {
			assert.Equal(t, tt.want, SupportedUserAgent(tt.ua, tt.min))
		})
	}
}

func TestClassPool(t *testing.T) {
	a := classPool(42, 64)
	b := classPool(42, 64)
	c := classPool(43, 64)
	assert.Equal(t, a, b, "same seed, same classes")
	assert.NotEqual(t, a, c)
	seen := map[string]bool{}
	for _, name := range a {
		assert.Regexp(t, `^(x[1-9a-z][a-z0-9]{5,7}|_a[a-z0-9]{3})$`, name)
		assert.False(t, seen[name], "duplicate %s", name)
		seen[name] = true
	}

	s1, s2 := New(WithSeed(7)), New(WithSeed(7))
	assert.Equal(t, s1.startupHTML(), s2.startupHTML())
	assert.NotEqual(t, New().startupHTML(), New().startupHTML(), "random seeds differ")
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
	}{
		{"negative boot", WithBootDelay(-time.Second)},
		{"zero QR rotate", WithQRRotate(0)},
		{"negative refreshes", WithQRMaxRefreshes(-1)},
		{"negative tick", WithTickDelays(0, -1, 0, 0)},
		{"unknown id style", WithIDStyle(IDStyle(9))},
		{"unknown markup", WithMarkup(Markup(9))},
		{"negative chrome", WithMinChromeMajor(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r)
				err, ok := r.(error)
				require.True(t, ok)
				assert.ErrorIs(t, err, ErrInvalidOption)
			}()
			New(tt.opt)
		})
	}

	s := New()
	assert.Equal(t, DefaultQRFirst, s.cfg.qrFirst)
	assert.Equal(t, DefaultQRRotate, s.cfg.qrRotate)
	assert.Equal(t, DefaultQRMaxRefreshes, s.cfg.qrMaxRefreshes)
	assert.Equal(t, DefaultIDStyle, s.cfg.idStyle)
	assert.Equal(t, DefaultMinChromeMajor, s.cfg.minChrome)
	assert.Equal(t, DefaultReadDelay, s.cfg.readDelay)
	s = New(WithBootDelay(time.Second), WithBootDelay(2*time.Second))
	assert.Equal(t, 2*time.Second, s.cfg.bootDelay, "the last option wins")
	assert.Equal(t, "jid", IDStyleJID.String())
	assert.Equal(t, "hash", IDStyleHash.String())
	assert.Equal(t, DefaultMarkup, s.cfg.markup)
	assert.Equal(t, "classic", MarkupClassic.String())
	assert.Equal(t, "2026", Markup2026.String())
}

func TestStatusText(t *testing.T) {
	for _, st := range []Status{StatusPending, StatusSent, StatusDelivered, StatusRead} {
		b, err := st.MarshalText()
		require.NoError(t, err)
		var back Status
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, st, back)
	}
	var st Status
	assert.Error(t, st.UnmarshalText([]byte("lost")))
	assert.Equal(t, "Status(9)", Status(9).String())
}

func TestStartAndClose(t *testing.T) {
	s := New(fastOptions()...)
	base, err := s.Start()
	require.NoError(t, err)
	again, err := s.Start()
	require.NoError(t, err)
	assert.Equal(t, base, again)
	assert.Equal(t, base, s.URL())
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, base)

	p := connectPage(t, base, "tab", "")
	p.next("auth")
	require.NoError(t, s.Close())
	select {
	case <-p.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a page connection open")
	}
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = s.Start()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, s.Scan(context.Background(), "x", "15550001111"), ErrClosed)
}

func TestQRCycle(t *testing.T) {
	// The first code of a cycle lasts 2 s, so that the reloaded one below
	// is still the pending code when the test looks, on a loaded machine;
	// the codes of the first cycle are read from the page's events, which
	// wait in its queue.
	s, base := newTestServer(t, WithQRFirst(2*time.Second), WithQRRotate(80*time.Millisecond), WithQRMaxRefreshes(3))
	p := connectPage(t, base, "tab", "")
	assert.Equal(t, map[string]any{"type": "auth", "ok": false, "loggedOut": false}, p.next("auth"))
	var refs []string
	for range 4 {
		refs = append(refs, p.next("qr")["ref"].(string))
	}
	p.next("qr-expired")
	assert.Len(t, refs, 4)
	for i, r := range refs {
		assert.Regexp(t, `^2@[A-Za-z0-9+/]{86}==,[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}=$`, r)
		for _, o := range refs[:i] {
			assert.NotEqual(t, o, r)
		}
	}
	assert.Empty(t, s.PendingQRs())
	sess := s.Sessions()
	require.Len(t, sess, 1)
	assert.True(t, sess[0].QRExpired)
	assert.Equal(t, PageQR, sess[0].State)

	assert.ErrorIs(t, s.Scan(t.Context(), refs[3], "15550001111"), ErrQRExpired)
	assert.ErrorIs(t, s.Scan(t.Context(), "2@nope", "15550001111"), ErrUnknownQR)
	assert.ErrorIs(t, s.Scan(t.Context(), refs[0], "+1555"), ErrInvalidPhone)

	code, _ := p.post("/__wa/qr/reload", nil)
	require.Equal(t, http.StatusNoContent, code)
	fresh := p.next("qr")["ref"].(string)
	qrs := s.PendingQRs()
	require.Len(t, qrs, 1)
	assert.Equal(t, fresh, qrs[0].Ref)
	assert.Equal(t, 0, qrs[0].Refresh)
	assert.Equal(t, p.cid, qrs[0].ClientID)
	assert.Equal(t, desktopUA, qrs[0].UserAgent)
	assert.Equal(t, fresh, s.Sessions()[0].QRRef)
}

func TestScanLinksAndRestoresSession(t *testing.T) {
	s, base := newTestServer(t)
	const phone = "15550001111"
	p, tok := loggedInPage(t, s, base, phone)
	assert.NotEmpty(t, tok)
	sess := s.Sessions()
	require.Len(t, sess, 1)
	assert.Equal(t, phone, sess[0].Phone)
	assert.Empty(t, s.PendingQRs())

	code, _ := p.post("/__wa/state", map[string]any{"tab": p.tab, "state": "main", "url": base + "/", "chat": ""})
	require.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, PageMain, s.Sessions()[0].State)
	p.close()

	// The same profile (token) later: straight to a session.
	p2 := connectPage(t, base, p.tab, tok)
	auth := p2.next("auth")
	assert.Equal(t, true, auth["ok"])
	assert.Equal(t, phone, auth["phone"])
	assert.Equal(t, float64(1), auth["n"])
	p2.none("qr", 50*time.Millisecond)
	p2.none("conflict", 0)

	// A second device of the same phone is device 2.
	p3 := connectPage(t, base, "other-profile", "")
	p3.next("auth")
	ref := p3.next("qr")["ref"].(string)
	p3.linkVia(func() error { return s.Scan(t.Context(), ref, phone) })
	sess = s.Sessions()
	phones := 0
	for _, ss := range sess {
		if ss.Phone == phone && ss.Connected {
			phones++
		}
	}
	assert.Equal(t, 2, phones)
}

func TestScanAny(t *testing.T) {
	s, base := newTestServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.ScanAny(ctx, "15550001111"), ErrNoPendingQR)

	p := connectPage(t, base, "a", "")
	p.next("qr")
	p.linkVia(func() error { return s.ScanAny(t.Context(), "15550001111") })

	q1 := connectPage(t, base, "b", "")
	q2 := connectPage(t, base, "c", "")
	q1.next("qr")
	q2.next("qr")
	assert.ErrorIs(t, s.ScanAny(t.Context(), "15550002222"), ErrAmbiguousQR)
}

func TestScanWaitsForThePage(t *testing.T) {
	s, base := newTestServer(t)
	p := connectPage(t, base, "a", "")
	ref := p.next("qr")["ref"].(string)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	// The page never acknowledges: Scan ends with the context.
	assert.ErrorIs(t, s.Scan(ctx, ref, "15550001111"), context.DeadlineExceeded)
	p.next("linked")
}

func TestSendOracleAndTicks(t *testing.T) {
	s, base := newTestServer(t, WithTickDelays(10*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond))
	const me, to = "15550001111", "447700900123"
	p, _ := loggedInPage(t, s, base, me)
	texts := []string{
		"plain",
		"two\nlines",
		"<b>x</b>&amp;",
		"emoji 👨‍👩‍👧‍👦 🇩🇪",
		"עברית\nعربي",
		strings.Repeat("x", 4096),
		"\x00 nul and \u2028 separator",
	}
	before := time.Now()
	for _, text := range texts {
		code, v := p.sendText(to, text)
		require.Equal(t, http.StatusOK, code, "%v", v)
		assert.Equal(t, text, v["text"])
		assert.Equal(t, "pending", v["status"])
		id := v["id"].(string)
		assert.Regexp(t, `^3EB0[0-9A-F]{16}$`, id)
		assert.Equal(t, "true_"+to+"@c.us_"+id, v["dataId"])
		msg := p.next("msg")["message"].(map[string]any)
		assert.Equal(t, id, msg["id"])
		for _, want := range []string{"sent", "delivered", "read"} {
			ack := p.next("ack")
			assert.Equal(t, id, ack["id"])
			assert.Equal(t, to, ack["chat"])
			assert.Equal(t, want, ack["status"])
		}
		st, ok := s.MessageStatus(id)
		assert.True(t, ok)
		assert.Equal(t, StatusRead, st)
	}
	after := time.Now()
	got := s.Received(me, to)
	require.Len(t, got, len(texts))
	for i, m := range got {
		assert.Equal(t, texts[i], m.Text, "byte for byte")
		assert.Equal(t, me, m.From)
		assert.Equal(t, to, m.To)
		// Stamped when it arrived: between the first send and the last
		// ack, in order (however long a loaded machine took).
		assert.False(t, m.At.Before(before) || m.At.After(after), "At %s, want between %s and %s", m.At, before, after)
		if i > 0 {
			assert.False(t, m.At.Before(got[i-1].At), "At %s before the previous message's %s", m.At, got[i-1].At)
		}
	}
	assert.Empty(t, s.Received(to, me))
	assert.Len(t, s.AllReceived(), len(texts))

	code, chats := p.get("/__wa/chats", nil)
	require.Equal(t, http.StatusOK, code)
	list := chats["chats"].([]any)
	require.Len(t, list, 1)
	assert.Equal(t, to, list[0].(map[string]any)["chat"])
	code, chat := p.get("/__wa/chat", url.Values{"phone": {to}})
	require.Equal(t, http.StatusOK, code)
	assert.Len(t, chat["messages"], len(texts))

	s.Reset()
	assert.Empty(t, s.AllReceived())
	_, ok := s.MessageStatus("nope")
	assert.False(t, ok)
}

func TestIncoming(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   []Option
		dataID func(from, id string) string
	}{
		{"classic", nil, func(from, id string) string { return "false_" + from + "@c.us_" + id }},
		{"2026", []Option{WithMarkup(Markup2026)}, func(_, id string) string { return id }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, base := newTestServer(t, tt.opts...)
			const me, from = "15550001111", "15557654321"
			p, _ := loggedInPage(t, s, base, me)
			m, err := s.Incoming(me, from, "hello from a contact")
			require.NoError(t, err)
			assert.Equal(t, Message{From: from, To: me, Text: "hello from a contact", ID: m.ID, At: m.At}, m)
			v := p.next("msg")["message"].(map[string]any)
			assert.Equal(t, from, v["chat"])
			assert.Equal(t, true, v["in"])
			assert.Equal(t, tt.dataID(from, m.ID), v["dataId"])
			assert.Empty(t, s.AllReceived(), "the oracle lists what pages sent")

			code, chat := p.get("/__wa/chat", url.Values{"phone": {from}})
			require.Equal(t, http.StatusOK, code)
			require.Len(t, chat["messages"], 1)
			assert.Equal(t, true, chat["messages"].([]any)[0].(map[string]any)["in"])
			code, chats := p.get("/__wa/chats", nil)
			require.Equal(t, http.StatusOK, code)
			assert.Equal(t, true, chats["chats"].([]any)[0].(map[string]any)["in"])

			_, err = s.Incoming(me, "12ab", "x")
			assert.ErrorIs(t, err, ErrInvalidPhone)
			_, err = s.Incoming(me, from, " \n")
			assert.Error(t, err)

			h := NewHookClient(base, s.HookToken(), nil)
			hm, err := h.Incoming(t.Context(), me, from, "through the hook")
			require.NoError(t, err)
			assert.Equal(t, "through the hook", hm.Text)
			assert.Equal(t, from, hm.From)
			_, err = h.Incoming(t.Context(), "x", from, "y")
			assert.ErrorIs(t, err, ErrInvalidPhone)
		})
	}
}

func TestSendRejects(t *testing.T) {
	s, base := newTestServer(t)
	p, _ := loggedInPage(t, s, base, "15550001111")
	s.SetNotOnWhatsApp("15559990000", true)
	tests := []struct {
		name string
		to   string
		text string
		code int
	}{
		{"bad number", "+1555", "x", http.StatusBadRequest},
		{"empty text", "15551234567", "", http.StatusBadRequest},
		{"blank text", "15551234567", " \n\t", http.StatusBadRequest},
		{"too long", "15551234567", strings.Repeat("a", maxMessageRunes+1), http.StatusRequestEntityTooLarge},
		{"not on whatsapp", "15559990000", "x", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _ := p.sendText(tt.to, tt.text)
			assert.Equal(t, tt.code, code)
		})
	}
	assert.Empty(t, s.AllReceived())

	code, v := p.get("/__wa/contact", url.Values{"phone": {"15559990000"}})
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, false, v["exists"])
	s.SetNotOnWhatsApp("15559990000", false)
	_, v = p.get("/__wa/contact", url.Values{"phone": {"15559990000"}})
	assert.Equal(t, true, v["exists"])
	_, v = p.get("/__wa/contact", url.Values{"phone": {"+15559990000"}})
	assert.Equal(t, false, v["exists"])

	// A page that is not logged in cannot send or look anything up.
	q := connectPage(t, base, "x", "")
	q.next("auth")
	code, _ = q.sendText("15551234567", "x")
	assert.Equal(t, http.StatusConflict, code)
	code, _ = q.get("/__wa/chats", nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	resp, err := http.Post(base+"/__wa/send", "application/json", strings.NewReader(`{"cid":"nobody","to":"15551234567","text":"x"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestConflictAndTakeover(t *testing.T) {
	s, base := newTestServer(t)
	const me, to = "15550001111", "15551234567"
	p1, tok := loggedInPage(t, s, base, me)

	// A second tab of the same profile gets the dialog.
	p2 := connectPage(t, base, "second-tab", tok)
	assert.Equal(t, true, p2.next("auth")["ok"])
	p2.next("conflict")
	code, _ := p2.sendText(to, "from tab 2")
	assert.Equal(t, http.StatusConflict, code)
	code, _ = p1.sendText(to, "from tab 1")
	assert.Equal(t, http.StatusOK, code)

	// "Use here" in tab 2 moves the dialog to tab 1.
	code, _ = p2.post("/__wa/takeover", nil)
	require.Equal(t, http.StatusNoContent, code)
	p1.next("conflict")
	code, _ = p1.sendText(to, "blocked")
	assert.Equal(t, http.StatusConflict, code)
	code, _ = p2.sendText(to, "from tab 2")
	assert.Equal(t, http.StatusOK, code)

	// The hook: another window takes the login from every page.
	s.Conflict(me)
	p2.next("conflict")
	code, _ = p2.sendText(to, "blocked")
	assert.Equal(t, http.StatusConflict, code)
	code, _ = p1.post("/__wa/takeover", nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = p1.sendText(to, "back")
	assert.Equal(t, http.StatusOK, code)

	var texts []string
	for _, m := range s.Received(me, to) {
		texts = append(texts, m.Text)
	}
	assert.Equal(t, []string{"from tab 1", "from tab 2", "back"}, texts)
}

func TestLogout(t *testing.T) {
	s, base := newTestServer(t)
	const me = "15550001111"
	p, tok := loggedInPage(t, s, base, me)
	other, _ := loggedInPage(t, s, base, "15550002222")

	s.Logout(me)
	assert.Equal(t, "0", p.next("logout")["reason"])
	p.next("qr")
	other.none("logout", 50*time.Millisecond)
	code, _ := p.sendText("15551234567", "x")
	assert.Equal(t, http.StatusConflict, code)
	for _, ss := range s.Sessions() {
		if ss.ClientID == p.cid {
			assert.Equal(t, PageQR, ss.State)
			assert.True(t, ss.LoggedOut)
			assert.Empty(t, ss.Phone)
		}
	}

	// The stored token is dead: a reload is told it was logged out.
	p2 := connectPage(t, base, p.tab, tok)
	assert.Equal(t, map[string]any{"type": "auth", "ok": false, "loggedOut": true}, p2.next("auth"))
	p2.next("qr")
}

func TestPhoneOfflineHoldsMessages(t *testing.T) {
	s, base := newTestServer(t)
	const me, to = "15550001111", "15551234567"
	p, tok := loggedInPage(t, s, base, me)

	s.SetPhoneOnline(me, false)
	assert.Equal(t, false, p.next("phone")["online"])
	code, v := p.sendText(to, "held")
	require.Equal(t, http.StatusOK, code)
	p.none("ack", 400*time.Millisecond)
	assert.Empty(t, s.Received(me, to), "a message is not received while the phone is offline")
	st, _ := s.MessageStatus(v["id"].(string))
	assert.Equal(t, StatusPending, st)

	// A reload while the phone is offline learns it at once.
	p2 := connectPage(t, base, p.tab, tok)
	assert.Equal(t, false, p2.next("auth")["online"])

	s.SetPhoneOnline(me, true)
	assert.Equal(t, true, p.next("phone")["online"])
	assert.Equal(t, "sent", p.next("ack")["status"])
	got := s.Received(me, to)
	require.Len(t, got, 1)
	assert.Equal(t, "held", got[0].Text)
}

func TestStuckPending(t *testing.T) {
	s, base := newTestServer(t)
	const me, to = "15550001111", "15551234567"
	p, _ := loggedInPage(t, s, base, me)
	q, _ := loggedInPage(t, s, base, "15550002222")

	s.SetStuckPending(me, true)
	code, _ := p.sendText(to, "stuck")
	require.Equal(t, http.StatusOK, code)
	code, _ = q.sendText(to, "flows")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "sent", q.next("ack")["status"])
	assert.Equal(t, "delivered", q.next("ack")["status"])
	p.none("ack", 300*time.Millisecond)
	require.Len(t, s.Received(me, to), 1, "a stuck message reaches the server")

	s.SetStuckPending(me, false)
	assert.Equal(t, "sent", p.next("ack")["status"])

	s.SetStuckPending(AllAccounts, true)
	code, _ = q.sendText(to, "all stuck")
	require.Equal(t, http.StatusOK, code)
	q.none("ack", 300*time.Millisecond)
	s.SetStuckPending(AllAccounts, false)
	for {
		if q.next("ack")["status"] == "sent" {
			break
		}
	}
}

func TestPairingCode(t *testing.T) {
	s, base := newTestServer(t)
	p := connectPage(t, base, "t", "")
	p.next("qr")
	code, _ := p.post("/__wa/pair", map[string]any{"phone": "+44 abc"})
	assert.Equal(t, http.StatusBadRequest, code)
	code, v := p.post("/__wa/pair", map[string]any{"phone": "+44 (7700) 900-123"})
	require.Equal(t, http.StatusOK, code)
	pc := v["code"].(string)
	assert.Regexp(t, `^[1-9A-HJ-NP-TV-Z]{8}$`, pc)
	assert.Empty(t, s.PendingQRs(), "the QR cycle stops in pairing mode")
	sess := s.Sessions()
	require.Len(t, sess, 1)
	assert.Equal(t, PagePairing, sess[0].State)
	assert.Equal(t, pc, sess[0].PairingCode)

	assert.ErrorIs(t, s.ConfirmPairingCode(t.Context(), "ZZZZZZZZ", "447700900123"), ErrUnknownCode)
	assert.ErrorIs(t, s.ConfirmPairingCode(t.Context(), pc, "15550001111"), ErrPhoneMismatch)
	commas := strings.Join(strings.Split(pc, ""), ",")
	p.linkVia(func() error { return s.ConfirmPairingCode(t.Context(), strings.ToLower(commas), "447700900123") })
	assert.Equal(t, "447700900123", s.Sessions()[0].Phone)
}

func TestHookTokenGuard(t *testing.T) {
	s, base := newTestServer(t)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"bare token", s.HookToken(), http.StatusUnauthorized},
		{"right token", "Bearer " + s.HookToken(), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, base+"/__fake/sessions", nil)
			require.NoError(t, err)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
	// A page can POST to the hooks, but without the token nothing happens.
	p, _ := loggedInPage(t, s, base, "15550001111")
	resp, err := http.Post(base+"/__fake/logout", "application/json", strings.NewReader(`{"phone":"15550001111"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	p.none("logout", 50*time.Millisecond)
	assert.NotEqual(t, New().HookToken(), New().HookToken())
}

func TestHookServerTimeout(t *testing.T) {
	for _, tc := range []struct{ client, server time.Duration }{
		{30 * time.Second, 27 * time.Second}, // a tenth
		{5 * time.Second, 4 * time.Second},   // a second
		{2 * time.Second, time.Second},
		{100 * time.Millisecond, 50 * time.Millisecond}, // half
		{0, 0},
	} {
		assert.Equal(t, tc.server, serverTimeout(tc.client), "client %s", tc.client)
	}
}

func TestHookClient(t *testing.T) {
	s, base := newTestServer(t)
	h := NewHookClient(base+"/", s.HookToken(), nil)
	ctx := t.Context()

	// The server gives up a second before the client, time enough for its
	// answer on a loaded machine.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	assert.ErrorIs(t, h.ScanAny(short, "15550001111"), ErrNoPendingQR)

	p := connectPage(t, base, "t", "")
	ref := p.next("qr")["ref"].(string)
	qrs, err := h.PendingQRs(ctx)
	require.NoError(t, err)
	require.Len(t, qrs, 1)
	assert.Equal(t, ref, qrs[0].Ref)
	assert.ErrorIs(t, h.Scan(ctx, "2@unknown", "15550001111"), ErrUnknownQR)
	assert.ErrorIs(t, h.Scan(ctx, ref, "x"), ErrInvalidPhone)
	p.linkVia(func() error { return h.Scan(ctx, ref, "15550001111") })

	require.NoError(t, h.SetNotOnWhatsApp(ctx, "15559990000", true))
	code, _ := p.sendText("15559990000", "x")
	assert.Equal(t, http.StatusNotFound, code)
	require.NoError(t, h.SetNotOnWhatsApp(ctx, "15559990000", false))

	code, v := p.sendText("15559990000", "hello")
	require.Equal(t, http.StatusOK, code)
	got, err := h.Received(ctx, "15550001111", "15559990000")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "hello", got[0].Text)
	all, err := h.AllReceived(ctx)
	require.NoError(t, err)
	assert.Equal(t, got, all)
	p.next("ack")
	st, ok, err := h.MessageStatus(ctx, v["id"].(string))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.GreaterOrEqual(t, st, StatusSent)
	_, ok, err = h.MessageStatus(ctx, "nope")
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, h.SetPhoneOnline(ctx, "15550001111", false))
	assert.Equal(t, false, p.next("phone")["online"])
	require.NoError(t, h.SetPhoneOnline(ctx, "15550001111", true))
	require.NoError(t, h.SetStuckPending(ctx, AllAccounts, true))
	require.NoError(t, h.SetStuckPending(ctx, AllAccounts, false))
	require.NoError(t, h.Conflict(ctx, "15550001111"))
	p.next("conflict")
	sessions, err := h.Sessions(ctx)
	require.NoError(t, err)
	require.Len(t, sessions, 1)
	assert.Equal(t, PageConflict, sessions[0].State)
	require.NoError(t, h.Logout(ctx, "15550001111"))
	p.next("logout")
	require.NoError(t, h.Reset(ctx))
	all, err = h.AllReceived(ctx)
	require.NoError(t, err)
	assert.Empty(t, all)

	code, pv := p.post("/__wa/pair", map[string]any{"phone": "15550003333"})
	require.Equal(t, http.StatusOK, code)
	assert.ErrorIs(t, h.ConfirmPairingCode(ctx, pv["code"].(string), "15550004444"), ErrPhoneMismatch)
	p.linkVia(func() error { return h.ConfirmPairingCode(ctx, pv["code"].(string), "15550003333") })

	bad := NewHookClient(base, "wrong", nil)
	_, err = bad.Sessions(ctx)
	assert.ErrorIs(t, err, ErrUnauthorized)
}

func TestConcurrentPagesExactlyOnce(t *testing.T) {
	s, base := newTestServer(t)
	const pages, each = 8, 10
	var wg sync.WaitGroup
	for i := range pages {
		me := fmt.Sprintf("1666000%04d", i)
		p, _ := loggedInPage(t, s, base, me)
		wg.Go(func() {
			for j := range each {
				code, _ := p.sendText("15551234567", fmt.Sprintf("%s #%d", me, j))
				assert.Equal(t, http.StatusOK, code)
			}
		})
		wg.Go(func() {
			for range each {
				_ = s.Sessions()
				_ = s.AllReceived()
			}
		})
	}
	wg.Wait()
	all := s.AllReceived()
	assert.Len(t, all, pages*each)
	seen := map[string]bool{}
	for _, m := range all {
		assert.False(t, seen[m.Text], "duplicate %q", m.Text)
		seen[m.Text] = true
	}
}
