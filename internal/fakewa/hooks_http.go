package fakewa

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var (
	// errUnknownAction is what the restrict hook answers for an unknown
	// action.
	errUnknownAction = errors.New("fakewa: unknown restrict action")
)

// restrictRequest is the body of POST /__fake/restrict: one hook of
// restrict.go by its action.
type restrictRequest struct {
	Action      string        `json:"action"`
	Phone       string        `json:"phone"`
	To          string        `json:"to,omitempty"`
	Code        int           `json:"code,omitempty"`
	Duration    time.Duration `json:"duration,omitempty"`
	Until       time.Time     `json:"until,omitzero"`
	Enforcement string        `json:"enforcement,omitempty"`
	Used        int           `json:"used,omitempty"`
	Total       int           `json:"total,omitempty"`
	On          bool          `json:"on,omitempty"`
}

// applyRestrict runs the hook that req names.
func (s *Server) applyRestrict(req restrictRequest) error {
	switch req.Action {
	case "temporary-ban":
		s.TemporaryBan(req.Phone, req.Code, req.Duration)
	case "lift-temporary-ban":
		s.LiftTemporaryBan(req.Phone)
	case "timelock":
		s.Timelock(req.Phone, req.Until, req.Enforcement)
	case "lift-timelock":
		s.LiftTimelock(req.Phone)
	case "cap-new-chats":
		s.CapNewChats(req.Phone, req.Used, req.Total, req.Until)
	case "reject-next":
		s.RejectNext(req.Phone, req.To)
	case "reject-next-capped":
		s.RejectNextCapped(req.Phone, req.To)
	case "ban":
		s.Ban(req.Phone)
	case "require-passkey":
		s.RequirePasskey(req.Phone, req.On)
	default:
		return fmt.Errorf("%w: %q", errUnknownAction, req.Action)
	}
	return nil
}

// hookErrors maps the sentinels to the codes of the hook API and to HTTP
// statuses, so that HookClient can give back the same sentinels.
var hookErrors = []struct {
	err    error
	code   string
	status int
}{
	{ErrInvalidPhone, "invalid_phone", http.StatusBadRequest},
	{ErrUnknownQR, "unknown_qr", http.StatusNotFound},
	{ErrQRExpired, "qr_expired", http.StatusGone},
	{ErrNoPendingQR, "no_pending_qr", http.StatusNotFound},
	{ErrAmbiguousQR, "ambiguous_qr", http.StatusConflict},
	{ErrUnknownCode, "unknown_code", http.StatusNotFound},
	{ErrPhoneMismatch, "phone_mismatch", http.StatusConflict},
	{ErrPageGone, "page_gone", http.StatusGone},
	{ErrClosed, "closed", http.StatusServiceUnavailable},
	{ErrPasskeyRequired, "passkey_required", http.StatusConflict},
	{ErrUnauthorized, "unauthorized", http.StatusUnauthorized},
	{ErrUnknownMessage, "unknown_message", http.StatusNotFound},
	{ErrInvalidStatus, "invalid_status", http.StatusConflict},
	{errEmptyText, "empty_text", http.StatusBadRequest},
	{errUnknownAction, "unknown_action", http.StatusBadRequest},
	{context.DeadlineExceeded, "deadline", http.StatusGatewayTimeout},
	{context.Canceled, "canceled", http.StatusGatewayTimeout},
}

func writeHookError(w http.ResponseWriter, err error) {
	for _, he := range hookErrors {
		if errors.Is(err, he.err) {
			writeJSON(w, he.status, map[string]string{"error": err.Error(), "code": he.code})
			return
		}
	}
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error(), "code": "internal"})
}

// listHook serves a list of a pair of numbers ("from" and "to"), as JSON,
// [] when empty.
func listHook[T any](list func(from, to string) []T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		out := list(q.Get("from"), q.Get("to"))
		if out == nil {
			out = []T{}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// nonNil returns v, or an empty slice for nil, so that a list encodes as
// [] and not null.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// hookTimeout is how long a blocking hook waits when the request gives no
// timeout.
const hookTimeout = 30 * time.Second

// hookContext returns the request's context, limited by its "timeout"
// query parameter (a Go duration) or hookTimeout.
func hookContext(r *http.Request) (context.Context, context.CancelFunc) {
	d := hookTimeout
	if v := r.URL.Query().Get("timeout"); v != "" {
		if p, err := time.ParseDuration(v); err == nil && p > 0 {
			d = p
		}
	}
	return context.WithTimeout(r.Context(), d)
}

// hooksHandler serves the test hooks under /__fake/. Every request needs
// "Authorization: Bearer <HookToken>"; the page cannot know the token.
func (s *Server) hooksHandler() http.Handler {
	mux := http.NewServeMux()
	type phoneReq struct {
		Phone string `json:"phone"`
	}
	mux.HandleFunc("POST /__fake/scan", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Ref   string `json:"ref"`
			Phone string `json:"phone"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		ctx, cancel := hookContext(r)
		defer cancel()
		if err := s.Scan(ctx, req.Ref, req.Phone); err != nil {
			writeHookError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/scan-any", func(w http.ResponseWriter, r *http.Request) {
		var req phoneReq
		if !decodeJSON(w, r, &req) {
			return
		}
		ctx, cancel := hookContext(r)
		defer cancel()
		if err := s.ScanAny(ctx, req.Phone); err != nil {
			writeHookError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /__fake/qrs", func(w http.ResponseWriter, r *http.Request) {
		qrs := s.PendingQRs()
		if qrs == nil {
			qrs = []QR{}
		}
		writeJSON(w, http.StatusOK, qrs)
	})
	mux.HandleFunc("POST /__fake/pairing", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Code  string `json:"code"`
			Phone string `json:"phone"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		ctx, cancel := hookContext(r)
		defer cancel()
		if err := s.ConfirmPairingCode(ctx, req.Code, req.Phone); err != nil {
			writeHookError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/logout", func(w http.ResponseWriter, r *http.Request) {
		var req phoneReq
		if !decodeJSON(w, r, &req) {
			return
		}
		s.Logout(req.Phone)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/not-on-whatsapp", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Number string `json:"number"`
			NotOn  bool   `json:"notOn"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		s.SetNotOnWhatsApp(req.Number, req.NotOn)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/conflict", func(w http.ResponseWriter, r *http.Request) {
		var req phoneReq
		if !decodeJSON(w, r, &req) {
			return
		}
		s.Conflict(req.Phone)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/phone-online", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Phone  string `json:"phone"`
			Online bool   `json:"online"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		s.SetPhoneOnline(req.Phone, req.Online)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/stuck-pending", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Phone string `json:"phone"`
			Stuck bool   `json:"stuck"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		s.SetStuckPending(req.Phone, req.Stuck)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/incoming", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Phone string `json:"phone"`
			From  string `json:"from"`
			Text  string `json:"text"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		m, err := s.Incoming(req.Phone, req.From, req.Text)
		if err != nil {
			writeHookError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
	mux.HandleFunc("POST /__fake/restrict", func(w http.ResponseWriter, r *http.Request) {
		var req restrictRequest
		if !decodeJSON(w, r, &req) {
			return
		}
		if err := s.applyRestrict(req); err != nil {
			writeHookError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /__fake/rejected", listHook(s.Rejected))
	mux.HandleFunc("GET /__fake/typing", listHook(s.TypingSpans))
	mux.HandleFunc("GET /__fake/received", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var ms []Message
		if q.Has("from") || q.Has("to") {
			ms = s.Received(q.Get("from"), q.Get("to"))
		} else {
			ms = s.AllReceived()
		}
		if ms == nil {
			ms = []Message{}
		}
		writeJSON(w, http.StatusOK, ms)
	})
	mux.HandleFunc("POST /__fake/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /__fake/sessions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Sessions())
	})
	mux.HandleFunc("GET /__fake/status", func(w http.ResponseWriter, r *http.Request) {
		st, ok := s.MessageStatus(r.URL.Query().Get("id"))
		if !ok {
			writeHookError(w, ErrUnknownMessage)
			return
		}
		writeJSON(w, http.StatusOK, map[string]Status{"status": st})
	})
	mux.HandleFunc("POST /__fake/never-deliver", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Phone string `json:"phone"`
			To    string `json:"to"`
			Never bool   `json:"never"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		s.SetNeverDeliver(req.Phone, req.To, req.Never)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/read-by", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Phone   string `json:"phone"`
			Contact string `json:"contact"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		writeJSON(w, http.StatusOK, nonNil(s.ReadBy(req.Phone, req.Contact)))
	})
	mux.HandleFunc("POST /__fake/message-status", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     string `json:"id"`
			Status Status `json:"status"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		if err := s.SetMessageStatus(req.ID, req.Status); err != nil {
			writeHookError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /__fake/read-by-account", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, nonNil(s.ReadByAccount(q.Get("phone"), q.Get("from"))))
	})
	mux.HandleFunc("GET /__fake/unread-by-account", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, nonNil(s.UnreadByAccount(q.Get("phone"), q.Get("from"))))
	})
	mux.HandleFunc("POST /__fake/canonical-number", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Typed     string `json:"typed"`
			Canonical string `json:"canonical"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		if err := s.SetCanonicalNumber(req.Typed, req.Canonical); err != nil {
			writeHookError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/__fake/", http.NotFound)

	want := []byte("Bearer " + s.hookToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(strings.TrimSpace(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			writeHookError(w, ErrUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
