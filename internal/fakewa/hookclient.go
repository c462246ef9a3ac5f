package fakewa

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HookClient drives the test hooks of a Server in another process over its
// /__fake/ endpoints. Its methods mirror those of Server and return the same
// sentinel errors. It is safe for concurrent use.
type HookClient struct {
	base  string
	token string
	hc    *http.Client
}

// NewHookClient returns a client for the server at baseURL (as returned by
// Server.Start) with the token of Server.HookToken. A nil hc means
// http.DefaultClient.
func NewHookClient(baseURL, token string, hc *http.Client) *HookClient {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &HookClient{base: strings.TrimRight(baseURL, "/"), token: token, hc: hc}
}

// serverTimeout is how long the server may wait for a blocking hook when
// the client has d left: d less a margin for the answer to come back, a
// tenth of d but at least a second (or half of d when d is shorter), since
// a loaded machine can take far longer than a tenth of a short d.
func serverTimeout(d time.Duration) time.Duration {
	margin := max(d/10, min(d/2, time.Second))
	return d - margin
}

// do sends a hook request and decodes a JSON answer into out when out is
// not nil.
func (h *HookClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	if dl, ok := ctx.Deadline(); ok && method == http.MethodPost {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		// The server gives up before the client does, so that the client
		// gets the server's answer and not its own timeout.
		path += sep + "timeout=" + url.QueryEscape(serverTimeout(time.Until(dl)).String())
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
		for _, he := range hookErrors {
			if he.code == e.Code {
				return fmt.Errorf("%w (%s)", he.err, e.Error)
			}
		}
		return fmt.Errorf("fakewa: hook %s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Scan is Server.Scan.
func (h *HookClient) Scan(ctx context.Context, qrPayload, phone string) error {
	return h.do(ctx, http.MethodPost, "/__fake/scan", map[string]string{"ref": qrPayload, "phone": phone}, nil)
}

// ScanAny is Server.ScanAny.
func (h *HookClient) ScanAny(ctx context.Context, phone string) error {
	return h.do(ctx, http.MethodPost, "/__fake/scan-any", map[string]string{"phone": phone}, nil)
}

// PendingQRs is Server.PendingQRs.
func (h *HookClient) PendingQRs(ctx context.Context) ([]QR, error) {
	var out []QR
	err := h.do(ctx, http.MethodGet, "/__fake/qrs", nil, &out)
	return out, err
}

// ConfirmPairingCode is Server.ConfirmPairingCode.
func (h *HookClient) ConfirmPairingCode(ctx context.Context, code, phone string) error {
	return h.do(ctx, http.MethodPost, "/__fake/pairing", map[string]string{"code": code, "phone": phone}, nil)
}

// Logout is Server.Logout.
func (h *HookClient) Logout(ctx context.Context, phone string) error {
	return h.do(ctx, http.MethodPost, "/__fake/logout", map[string]string{"phone": phone}, nil)
}

// SetNotOnWhatsApp is Server.SetNotOnWhatsApp.
func (h *HookClient) SetNotOnWhatsApp(ctx context.Context, number string, notOn bool) error {
	return h.do(ctx, http.MethodPost, "/__fake/not-on-whatsapp", map[string]any{"number": number, "notOn": notOn}, nil)
}

// Conflict is Server.Conflict.
func (h *HookClient) Conflict(ctx context.Context, phone string) error {
	return h.do(ctx, http.MethodPost, "/__fake/conflict", map[string]string{"phone": phone}, nil)
}

// SetPhoneOnline is Server.SetPhoneOnline.
func (h *HookClient) SetPhoneOnline(ctx context.Context, phone string, online bool) error {
	return h.do(ctx, http.MethodPost, "/__fake/phone-online", map[string]any{"phone": phone, "online": online}, nil)
}

// SetStuckPending is Server.SetStuckPending.
func (h *HookClient) SetStuckPending(ctx context.Context, phone string, stuck bool) error {
	return h.do(ctx, http.MethodPost, "/__fake/stuck-pending", map[string]any{"phone": phone, "stuck": stuck}, nil)
}

// Incoming is Server.Incoming.
func (h *HookClient) Incoming(ctx context.Context, phone, from, text string) (Message, error) {
	var out Message
	err := h.do(ctx, http.MethodPost, "/__fake/incoming", map[string]string{"phone": phone, "from": from, "text": text}, &out)
	return out, err
}

// Received is Server.Received.
func (h *HookClient) Received(ctx context.Context, from, to string) ([]Message, error) {
	var out []Message
	q := url.Values{"from": {from}, "to": {to}}
	err := h.do(ctx, http.MethodGet, "/__fake/received?"+q.Encode(), nil, &out)
	return out, err
}

// AllReceived is Server.AllReceived.
func (h *HookClient) AllReceived(ctx context.Context) ([]Message, error) {
	var out []Message
	err := h.do(ctx, http.MethodGet, "/__fake/received", nil, &out)
	return out, err
}

// Reset is Server.Reset.
func (h *HookClient) Reset(ctx context.Context) error {
	return h.do(ctx, http.MethodPost, "/__fake/reset", nil, nil)
}

// Sessions is Server.Sessions.
func (h *HookClient) Sessions(ctx context.Context) ([]Session, error) {
	var out []Session
	err := h.do(ctx, http.MethodGet, "/__fake/sessions", nil, &out)
	return out, err
}

// MessageStatus is Server.MessageStatus; ok is false for an unknown ID.
func (h *HookClient) MessageStatus(ctx context.Context, id string) (st Status, ok bool, err error) {
	var out struct {
		Status Status `json:"status"`
	}
	err = h.do(ctx, http.MethodGet, "/__fake/status?id="+url.QueryEscape(id), nil, &out)
	if errors.Is(err, ErrUnknownMessage) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return out.Status, true, nil
}

// restrict posts one action of the restrict hook.
func (h *HookClient) restrict(ctx context.Context, req restrictRequest) error {
	return h.do(ctx, http.MethodPost, "/__fake/restrict", req, nil)
}

// TemporaryBan is Server.TemporaryBan.
func (h *HookClient) TemporaryBan(ctx context.Context, phone string, code int, d time.Duration) error {
	return h.restrict(ctx, restrictRequest{Action: "temporary-ban", Phone: phone, Code: code, Duration: d})
}

// LiftTemporaryBan is Server.LiftTemporaryBan.
func (h *HookClient) LiftTemporaryBan(ctx context.Context, phone string) error {
	return h.restrict(ctx, restrictRequest{Action: "lift-temporary-ban", Phone: phone})
}

// Timelock is Server.Timelock.
func (h *HookClient) Timelock(ctx context.Context, phone string, until time.Time, enforcement string) error {
	return h.restrict(ctx, restrictRequest{Action: "timelock", Phone: phone, Until: until, Enforcement: enforcement})
}

// LiftTimelock is Server.LiftTimelock.
func (h *HookClient) LiftTimelock(ctx context.Context, phone string) error {
	return h.restrict(ctx, restrictRequest{Action: "lift-timelock", Phone: phone})
}

// CapNewChats is Server.CapNewChats.
func (h *HookClient) CapNewChats(ctx context.Context, phone string, used, total int, until time.Time) error {
	return h.restrict(ctx, restrictRequest{Action: "cap-new-chats", Phone: phone, Used: used, Total: total, Until: until})
}

// RejectNext is Server.RejectNext.
func (h *HookClient) RejectNext(ctx context.Context, phone, to string) error {
	return h.restrict(ctx, restrictRequest{Action: "reject-next", Phone: phone, To: to})
}

// RejectNextCapped is Server.RejectNextCapped.
func (h *HookClient) RejectNextCapped(ctx context.Context, phone, to string) error {
	return h.restrict(ctx, restrictRequest{Action: "reject-next-capped", Phone: phone, To: to})
}

// Ban is Server.Ban.
func (h *HookClient) Ban(ctx context.Context, phone string) error {
	return h.restrict(ctx, restrictRequest{Action: "ban", Phone: phone})
}

// RequirePasskey is Server.RequirePasskey.
func (h *HookClient) RequirePasskey(ctx context.Context, phone string, on bool) error {
	return h.restrict(ctx, restrictRequest{Action: "require-passkey", Phone: phone, On: on})
}

// Rejected is Server.Rejected.
func (h *HookClient) Rejected(ctx context.Context, from, to string) ([]Message, error) {
	var out []Message
	q := url.Values{"from": {from}, "to": {to}}
	err := h.do(ctx, http.MethodGet, "/__fake/rejected?"+q.Encode(), nil, &out)
	return out, err
}

// TypingSpans is Server.TypingSpans.
func (h *HookClient) TypingSpans(ctx context.Context, from, to string) ([]Typing, error) {
	var out []Typing
	q := url.Values{"from": {from}, "to": {to}}
	err := h.do(ctx, http.MethodGet, "/__fake/typing?"+q.Encode(), nil, &out)
	return out, err
}

// SetNeverDeliver is Server.SetNeverDeliver.
func (h *HookClient) SetNeverDeliver(ctx context.Context, phone, to string, never bool) error {
	return h.do(ctx, http.MethodPost, "/__fake/never-deliver", map[string]any{"phone": phone, "to": to, "never": never}, nil)
}

// ReadBy is Server.ReadBy.
func (h *HookClient) ReadBy(ctx context.Context, phone, contact string) ([]string, error) {
	var out []string
	err := h.do(ctx, http.MethodPost, "/__fake/read-by", map[string]string{"phone": phone, "contact": contact}, &out)
	return out, err
}

// SetMessageStatus is Server.SetMessageStatus.
func (h *HookClient) SetMessageStatus(ctx context.Context, id string, st Status) error {
	return h.do(ctx, http.MethodPost, "/__fake/message-status", map[string]any{"id": id, "status": st}, nil)
}

// ReadByAccount is Server.ReadByAccount.
func (h *HookClient) ReadByAccount(ctx context.Context, phone, from string) ([]string, error) {
	var out []string
	q := url.Values{"phone": {phone}, "from": {from}}
	err := h.do(ctx, http.MethodGet, "/__fake/read-by-account?"+q.Encode(), nil, &out)
	return out, err
}

// UnreadByAccount is Server.UnreadByAccount.
func (h *HookClient) UnreadByAccount(ctx context.Context, phone, from string) ([]string, error) {
	var out []string
	q := url.Values{"phone": {phone}, "from": {from}}
	err := h.do(ctx, http.MethodGet, "/__fake/unread-by-account?"+q.Encode(), nil, &out)
	return out, err
}

// SetCanonicalNumber is Server.SetCanonicalNumber.
func (h *HookClient) SetCanonicalNumber(ctx context.Context, typed, canonical string) error {
	return h.do(ctx, http.MethodPost, "/__fake/canonical-number", map[string]string{"typed": typed, "canonical": canonical}, nil)
}
