package fakewa

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file tests, with the page played in Go, the hooks of the "breadth"
// features: ticks under the test's control, the read state of incoming
// messages, attachments, the chat-id correction of number checks.

// nextAck waits for the next ack of message id and returns its status.
func (p *fakePage) nextAck(id string) string {
	p.t.Helper()
	for {
		ack := p.next("ack")
		if ack["id"] == id {
			return ack["status"].(string)
		}
	}
}

func TestTickHooks(t *testing.T) {
	s, base := newTestServer(t, WithTickDelays(5*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond, 0))
	h := NewHookClient(base, s.HookToken(), nil)
	ctx := t.Context()
	const me, blocked, other = "15550004101", "15557774101", "15557774102"
	p, _ := loggedInPage(t, s, base, me)

	// Never delivered: one tick for good, and ReadBy cannot read it.
	require.NoError(t, h.SetNeverDeliver(ctx, me, blocked, true))
	code, v := p.sendText(blocked, "are you there?")
	require.Equal(t, http.StatusOK, code)
	id := v["id"].(string)
	assert.Equal(t, "sent", p.nextAck(id))
	p.none("ack", 150*time.Millisecond)
	st, _ := s.MessageStatus(id)
	assert.Equal(t, StatusSent, st)
	read, err := h.ReadBy(ctx, me, blocked)
	require.NoError(t, err)
	assert.Empty(t, read)
	assert.Len(t, s.Received(me, blocked), 1, "the server got it")

	// Unblocked: it goes on to Delivered; then the contact reads it.
	require.NoError(t, h.SetNeverDeliver(ctx, me, blocked, false))
	assert.Equal(t, "delivered", p.nextAck(id))
	p.none("ack", 100*time.Millisecond)
	read, err = h.ReadBy(ctx, me, blocked)
	require.NoError(t, err)
	assert.Equal(t, []string{id}, read)
	assert.Equal(t, "read", p.nextAck(id))
	assert.Empty(t, s.ReadBy(me, blocked), "nothing left to read")

	// One message at a time.
	_, v = p.sendText(other, "one")
	id1 := v["id"].(string)
	assert.ErrorIs(t, s.SetMessageStatus("nope", StatusRead), ErrUnknownMessage)
	assert.ErrorIs(t, h.SetMessageStatus(ctx, "nope", StatusRead), ErrUnknownMessage)
	assert.Equal(t, "sent", p.nextAck(id1))
	require.NoError(t, h.SetMessageStatus(ctx, id1, StatusRead))
	assert.Equal(t, "read", p.nextAck(id1))
	p.none("ack", 100*time.Millisecond) // the delivered timer does nothing
	assert.ErrorIs(t, s.SetMessageStatus(id1, StatusDelivered), ErrInvalidStatus)
	assert.ErrorIs(t, h.SetMessageStatus(ctx, id1, StatusPending), ErrInvalidStatus)
	assert.NoError(t, s.SetMessageStatus(id1, StatusRead), "no change")
	in, err := s.Incoming(me, other, "an incoming one")
	require.NoError(t, err)
	assert.ErrorIs(t, s.SetMessageStatus(in.ID, StatusRead), ErrUnknownMessage)

	// Every recipient.
	s.SetNeverDeliver(me, AllAccounts, true)
	_, v = p.sendText(other, "two")
	id2 := v["id"].(string)
	assert.Equal(t, "sent", p.nextAck(id2))
	p.none("ack", 100*time.Millisecond)
	require.NoError(t, s.SetMessageStatus(id2, StatusDelivered), "a hook for one message overrides the switch")
	assert.Equal(t, "delivered", p.nextAck(id2))
	s.SetNeverDeliver(me, AllAccounts, false)
}

func TestReadReceipts(t *testing.T) {
	s, base := newTestServer(t)
	const me, from = "15550004301", "15557774301"
	p, _ := loggedInPage(t, s, base, me)
	m1, err := s.Incoming(me, from, "one")
	require.NoError(t, err)
	ev := p.next("msg")
	assert.Equal(t, float64(1), ev["unread"])
	assert.Nil(t, ev["message"].(map[string]any)["read"])
	m2, err := s.Incoming(me, from, "two")
	require.NoError(t, err)
	assert.Equal(t, float64(2), p.next("msg")["unread"])

	_, chats := p.get("/__wa/chats", nil)
	c := chats["chats"].([]any)[0].(map[string]any)
	assert.Equal(t, float64(2), c["unread"])
	assert.Equal(t, m2.ID, c["id"])
	assert.Equal(t, []string{m1.ID, m2.ID}, s.UnreadByAccount(me, from))
	assert.Empty(t, s.ReadByAccount(me, from))

	// The page read the first row only; an unknown ID is ignored.
	code, out := p.post("/__wa/read", map[string]any{"chat": from, "ids": []string{m1.ID, "nope"}})
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []any{m1.ID}, out["ids"])
	ev = p.next("read")
	assert.Equal(t, from, ev["chat"])
	assert.Equal(t, []any{m1.ID}, ev["ids"])
	assert.Equal(t, float64(1), ev["unread"])
	assert.Equal(t, []string{m1.ID}, s.ReadByAccount(me, from))
	assert.Equal(t, []string{m2.ID}, s.UnreadByAccount(me, from))
	_, chat := p.get("/__wa/chat", map[string][]string{"phone": {from}})
	msgs := chat["messages"].([]any)
	assert.Equal(t, true, msgs[0].(map[string]any)["read"])
	assert.Nil(t, msgs[1].(map[string]any)["read"])

	// Reading again changes nothing; a page behind the conflict dialog
	// cannot read.
	_, out = p.post("/__wa/read", map[string]any{"chat": from, "ids": []string{m1.ID}})
	assert.Empty(t, out["ids"])
	s.Conflict(me)
	p.next("conflict")
	code, _ = p.post("/__wa/read", map[string]any{"chat": from, "ids": []string{m2.ID}})
	assert.Equal(t, http.StatusConflict, code)
	assert.Equal(t, []string{m2.ID}, s.UnreadByAccount(me, from))
	assert.Empty(t, s.ReadByAccount("15550009999", from), "an unknown account")
}

// postMedia uploads an attachment as the page does.
func (p *fakePage) postMedia(q url.Values, body []byte) (int, map[string]any) {
	p.t.Helper()
	q.Set("cid", p.cid)
	resp, err := http.Post(p.base+"/__wa/media?"+q.Encode(), "application/octet-stream", bytes.NewReader(body))
	require.NoError(p.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestMediaUpload(t *testing.T) {
	s, base := newTestServer(t, WithMediaLimits(1000, 2000))
	h := NewHookClient(base, s.HookToken(), nil)
	const me, to = "15550004501", "15557774501"
	p, _ := loggedInPage(t, s, base, me)
	img := []byte("\x89PNG\r\n\x1a\n not really a png \x00\xff")
	caption := "line one\nline two 🇩🇪 + & = %"
	code, v := p.postMedia(url.Values{"to": {to}, "kind": {"image"}, "name": {"ä ö/ü.png"}, "mime": {"image/png"}, "caption": {caption}, "ck": {"CK1"}}, img)
	assert.Equal(t, http.StatusBadRequest, code, "a slash in the name: %v", v)
	name := "é 日本 \"x\".png"
	code, v = p.postMedia(url.Values{"to": {to}, "kind": {"image"}, "name": {name}, "mime": {"image/png"}, "caption": {caption}, "ck": {"CK1"}}, img)
	require.Equal(t, http.StatusOK, code, "%v", v)
	md := v["media"].(map[string]any)
	assert.Equal(t, "image", md["kind"])
	assert.Equal(t, name, md["name"])
	url1 := md["url"].(string)
	assert.Equal(t, "/__wa/media?id="+v["id"].(string), url1)

	got, err := h.Received(t.Context(), me, to)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, caption, got[0].Text)
	assert.Equal(t, &Media{Kind: MediaImage, FileName: name, MIMEType: "image/png", Size: int64(len(img)), SHA256: sha256Hex(img)}, got[0].Media)

	// The thumbnail's bytes, for the account's pages only.
	resp, err := http.Get(base + url1 + "&cid=" + p.cid)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, img, body)
	assert.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	other, _ := loggedInPage(t, s, base, "15550004502")
	resp, err = http.Get(base + url1 + "&cid=" + other.cid)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// A document: no type means one from the name; the chat list shows its name.
	doc := bytes.Repeat([]byte{0}, 1500)
	code, v = p.postMedia(url.Values{"to": {to}, "kind": {"document"}, "name": {"report.pdf"}, "ck": {"CK2"}}, doc)
	require.Equal(t, http.StatusOK, code, "%v", v)
	assert.Nil(t, v["media"].(map[string]any)["url"])
	got = s.Received(me, to)
	require.Len(t, got, 2)
	assert.Equal(t, "application/pdf", got[1].Media.MIMEType)
	assert.Equal(t, "", got[1].Text)
	_, chats := p.get("/__wa/chats", nil)
	assert.Equal(t, "report.pdf", chats["chats"].([]any)[0].(map[string]any)["text"])

	// Limits, kinds and emptiness.
	code, _ = p.postMedia(url.Values{"to": {to}, "kind": {"image"}, "name": {"big.png"}}, make([]byte, 1001))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	code, _ = p.postMedia(url.Values{"to": {to}, "kind": {"document"}, "name": {"big.pdf"}}, make([]byte, 2001))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	code, _ = p.postMedia(url.Values{"to": {to}, "kind": {"sticker"}, "name": {"x.webp"}}, []byte("x"))
	assert.Equal(t, http.StatusBadRequest, code)
	code, _ = p.postMedia(url.Values{"to": {to}, "kind": {"image"}, "name": {"empty.png"}}, nil)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Len(t, s.Received(me, to), 2)
	assert.Panics(t, func() { New(WithMediaLimits(0, 1)) })
}

func TestCanonicalNumber(t *testing.T) {
	s, base := newTestServer(t)
	h := NewHookClient(base, s.HookToken(), nil)
	ctx := t.Context()
	p, _ := loggedInPage(t, s, base, "15550004601")
	contact := func(phone string) map[string]any {
		_, out := p.get("/__wa/contact", url.Values{"phone": {phone}})
		return out
	}
	assert.Equal(t, map[string]any{"exists": true, "phone": "5511987654321"}, contact("5511987654321"))
	require.NoError(t, h.SetCanonicalNumber(ctx, "5511987654321", "551187654321")) // Brazil, ninth digit
	require.NoError(t, s.SetCanonicalNumber("5215512345678", "525512345678"))      // Mexico
	require.NoError(t, s.SetCanonicalNumber("541112345678", "5491112345678"))      // Argentina
	assert.Equal(t, map[string]any{"exists": true, "phone": "551187654321"}, contact("5511987654321"))
	assert.Equal(t, map[string]any{"exists": true, "phone": "525512345678"}, contact("5215512345678"))
	assert.Equal(t, map[string]any{"exists": true, "phone": "5491112345678"}, contact("541112345678"))
	assert.Equal(t, map[string]any{"exists": true, "phone": "551187654321"}, contact("551187654321"), "the canonical number itself")

	s.SetNotOnWhatsApp("525512345678", true)
	assert.Equal(t, map[string]any{"exists": false}, contact("5215512345678"), "the chat's number is not on WhatsApp")
	s.SetNotOnWhatsApp("525512345678", false)
	require.NoError(t, s.SetCanonicalNumber("5215512345678", ""))
	assert.Equal(t, map[string]any{"exists": true, "phone": "5215512345678"}, contact("5215512345678"))
	assert.ErrorIs(t, h.SetCanonicalNumber(ctx, "12ab", "551187654321"), ErrInvalidPhone)
	assert.ErrorIs(t, s.SetCanonicalNumber("551187654321", "+55"), ErrInvalidPhone)
}
