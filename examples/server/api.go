package main

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wasend/wasend"
)

// route is one route of the API. The mux registers routes, and the test
// checks the OpenAPI document against the same slice.
type route struct {
	method, path string
	// open routes need no bearer token.
	open   bool
	handle func(a *app, w http.ResponseWriter, r *http.Request)
}

// pattern is the route's ServeMux pattern.
func (rt route) pattern() string { return rt.method + " " + rt.path }

var routes = []route{
	{"GET", "/healthz", true, (*app).healthz},
	{"GET", "/readyz", true, (*app).readyz},
	{"GET", "/openapi.json", true, (*app).openapi},
	{"GET", "/metrics", true, (*app).serveMetrics},
	{"POST", "/v1/contexts", false, (*app).createContext},
	{"GET", "/v1/contexts", false, (*app).listContexts},
	{"GET", "/v1/contexts/{id}", false, (*app).getContext},
	{"POST", "/v1/contexts/{id}/open", false, (*app).openContext},
	{"DELETE", "/v1/contexts/{id}", false, (*app).closeContext},
	{"GET", "/v1/contexts/{id}/qr.png", false, (*app).qrPNG},
	{"GET", "/v1/contexts/{id}/qr/stream", false, (*app).qrStream},
	{"POST", "/v1/contexts/{id}/messages", false, (*app).send},
	{"POST", "/v1/contexts/{id}/bulk", false, (*app).sendBulk},
	{"GET", "/v1/jobs", false, (*app).listJobs},
	{"GET", "/v1/jobs/{id}", false, (*app).getJob},
	{"POST", "/v1/jobs/{id}/pause", false, (*app).pauseJob},
	{"POST", "/v1/jobs/{id}/resume", false, (*app).resumeJob},
	{"POST", "/v1/jobs/{id}/cancel", false, (*app).cancelJob},
	{"GET", "/v1/stats", false, (*app).stats},
	{"POST", "/v1/webhooks", false, (*app).createWebhook},
	{"GET", "/v1/webhooks", false, (*app).listWebhooks},
	{"DELETE", "/v1/webhooks/{id}", false, (*app).deleteWebhook},
	{"POST", "/v1/webhooks/{id}/test", false, (*app).testWebhook},
}

//go:embed openapi.json
var openapiJSON []byte

// maxBody caps a request body: a bulk job of wasend's default 1,000
// messages of long texts fits.
const maxBody = 16 << 20

// handler returns the API and the dashboard: the routes behind the bearer
// token where they need it, all behind the access log.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		h := func(w http.ResponseWriter, r *http.Request) { rt.handle(a, w, r) }
		if !rt.open {
			h = a.auth(h)
		}
		mux.HandleFunc(rt.pattern(), h)
	}
	a.dashboardRoutes(mux)
	return a.accessLog(mux)
}

// auth refuses a request without the bearer token, in its Authorization
// header or, from the dashboard, as its session cookie.
func (a *app) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wasend"`)
			writeError(w, http.StatusUnauthorized, kindUnauthorized, "a valid bearer token is required")
			return
		}
		next(w, r)
	}
}

// authorized reports whether r carries the bearer token or the dashboard's
// session cookie; both compare in constant time.
func (a *app) authorized(r *http.Request) bool {
	if a.token == "" {
		return true
	}
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) == 1
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.session())) == 1
	}
	return false
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's Flusher (the
// QR streams flush each event).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// accessLog logs each request: its method, the pattern of the route that
// served it (never the raw path, nor a query, a body or a header: the
// dashboard's ?token= never reaches the log), the status and the duration.
func (a *app) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "(no route)"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		a.log.Info("http", "method", r.Method, "route", pattern, "status", sw.status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}

// Error kinds of the API's own, besides wasend's.
const (
	kindUnauthorized   wasend.ErrorKind = "unauthorized"
	kindInvalidRequest wasend.ErrorKind = "invalid_request"
	kindNoQR           wasend.ErrorKind = "no_qr"
)

type errorBody struct {
	Error struct {
		Kind    wasend.ErrorKind `json:"kind"`
		Message string           `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, kind wasend.ErrorKind, msg string) {
	var b errorBody
	b.Error.Kind, b.Error.Message = kind, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// statusOf maps an error of the library to an HTTP status.
func statusOf(err error) int {
	var ve *wasend.ValidationError
	is := func(targets ...error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
	switch {
	case errors.As(err, &ve), is(wasend.ErrInvalidPhone, wasend.ErrEmptyText, wasend.ErrTextTooLong,
		wasend.ErrInvalidText, wasend.ErrNoMessages, wasend.ErrTooManyMessages, wasend.ErrInvalidDelay,
		wasend.ErrInvalidMetadata, wasend.ErrInvalidIdempotencyKey, wasend.ErrInvalidOption,
		wasend.ErrInvalidPacing, wasend.ErrInvalidNotBefore, wasend.ErrInvalidFilter, wasend.ErrInvalidPool):
		return http.StatusBadRequest
	case is(wasend.ErrContextNotFound, wasend.ErrJobNotFound, wasend.ErrCampaignNotFound):
		return http.StatusNotFound
	case is(wasend.ErrIdempotencyConflict, wasend.ErrJobFinished, wasend.ErrJobState, wasend.ErrJobExists,
		wasend.ErrCampaignExists, wasend.ErrDuplicateContext, wasend.ErrContextClosed,
		wasend.ErrContextNotAvailable, wasend.ErrContextHeld, wasend.ErrConsuming, wasend.ErrLoggedIn):
		return http.StatusConflict
	case is(wasend.ErrNotSupported):
		return http.StatusNotImplemented
	case is(wasend.ErrStore, wasend.ErrQueue, wasend.ErrClosed, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail writes err as the API's error body. The message goes to the caller,
// never to the log: it may hold the caller's data.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	kind := wasend.KindOf(err)
	if status >= 500 {
		a.log.Warn("request failed", "route", r.Pattern, "kind", kind)
	}
	writeError(w, status, kind, err.Error())
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeError(w, http.StatusBadRequest, kindInvalidRequest, fmt.Sprintf(format, args...))
}

// pathID reads the {id} of the route.
func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		badRequest(w, "the id %q is not a positive integer", r.PathValue("id"))
		return 0, false
	}
	return id, true
}

// decode reads a JSON body into v. An empty body leaves v as it is when
// emptyOK.
func decode(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if emptyOK && errors.Is(err, io.EOF) {
			return true
		}
		badRequest(w, "the body is not the JSON expected: %v", err)
		return false
	}
	if dec.More() {
		badRequest(w, "the body holds more than one JSON value")
		return false
	}
	return true
}

// ----- health

func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := a.client.Stats(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, wasend.KindOf(err), "not ready: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (a *app) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapiJSON)
}

// serveMetrics serves wasend's metrics in the Prometheus text format. It is
// open: the metrics hold ids, kinds and statuses, never a number or a text.
func (a *app) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if a.metrics == nil {
		http.NotFound(w, r)
		return
	}
	a.metrics.ServeHTTP(w, r)
}

// ----- contexts

type createContextRequest struct {
	// Proxy is the context's proxy URL, or empty.
	Proxy string `json:"proxy"`
}

func (a *app) createContext(w http.ResponseWriter, r *http.Request) {
	var req createContextRequest
	if !decode(w, r, &req, true) {
		return
	}
	var opts []wasend.ContextOption
	if req.Proxy != "" {
		opts = append(opts, wasend.ContextProxy(req.Proxy))
	}
	bc, err := a.client.CreateContext(r.Context(), opts...)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a.contextOf(bc))
}

func (a *app) listContexts(w http.ResponseWriter, r *http.Request) {
	list, err := a.client.Contexts(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]contextJSON, len(list))
	for i, bc := range list {
		out[i] = a.contextOf(bc)
	}
	writeJSON(w, http.StatusOK, map[string]any{"contexts": out})
}

func (a *app) getContext(w http.ResponseWriter, r *http.Request) {
	a.contextCall(w, r, a.client.Context)
}

func (a *app) openContext(w http.ResponseWriter, r *http.Request) {
	a.contextCall(w, r, a.client.OpenContext)
}

func (a *app) closeContext(w http.ResponseWriter, r *http.Request) {
	a.contextCall(w, r, func(ctx context.Context, id int64) (wasend.BrowserContext, error) {
		if err := a.client.CloseContext(ctx, id); err != nil {
			return wasend.BrowserContext{}, err
		}
		a.forget(id)
		return a.client.Context(ctx, id)
	})
}

func (a *app) contextCall(w http.ResponseWriter, r *http.Request, call func(context.Context, int64) (wasend.BrowserContext, error)) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	bc, err := call(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.contextOf(bc))
}

func (a *app) qrPNG(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	q, ok := a.qr(id)
	if !ok {
		if _, err := a.client.Context(r.Context(), id); err != nil {
			a.fail(w, r, err)
			return
		}
		writeError(w, http.StatusNotFound, kindNoQR, fmt.Sprintf("browser context %d shows no QR code now", id))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Last-Modified", q.at.UTC().Format(http.TimeFormat))
	_, _ = w.Write(q.png)
}

// ----- sends

type sendRequest struct {
	To       string         `json:"to"`
	Text     string         `json:"text"`
	Metadata map[string]any `json:"metadata"`
}

type bulkRequest struct {
	Messages []struct {
		To   string `json:"to"`
		Text string `json:"text"`
	} `json:"messages"`
	// DelayMS is the pause between two messages; nil for the Client's
	// default.
	DelayMS  *int64         `json:"delay_ms"`
	Metadata map[string]any `json:"metadata"`
}

func sendOptions(r *http.Request, metadata map[string]any) []wasend.SendOption {
	var opts []wasend.SendOption
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		opts = append(opts, wasend.IdempotencyKey(k))
	}
	if metadata != nil {
		opts = append(opts, wasend.Metadata(metadata))
	}
	return opts
}

func (a *app) send(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req sendRequest
	if !decode(w, r, &req, false) {
		return
	}
	var created bool
	job, err := a.client.Send(withCreated(r.Context(), &created), id, req.To, req.Text, sendOptions(r, req.Metadata)...)
	a.sent(w, r, job, created, err)
}

func (a *app) sendBulk(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req bulkRequest
	if !decode(w, r, &req, false) {
		return
	}
	msgs := make([]wasend.BulkMessage, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = wasend.BulkMessage{To: m.To, Text: m.Text}
	}
	opts := sendOptions(r, req.Metadata)
	if req.DelayMS != nil {
		opts = append(opts, wasend.Delay(time.Duration(*req.DelayMS)*time.Millisecond))
	}
	var created bool
	job, err := a.client.SendBulk(withCreated(r.Context(), &created), id, msgs, opts...)
	a.sent(w, r, job, created, err)
}

// sent answers a send: 201 with a new job, 200 with the job an
// idempotency key already held.
func (a *app) sent(w http.ResponseWriter, r *http.Request, job wasend.Job, created bool, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Location", fmt.Sprintf("/v1/jobs/%d", job.ID))
	writeJSON(w, status, maskIf(r, jobOf(job)))
}

// ----- jobs

func (a *app) getJob(w http.ResponseWriter, r *http.Request) { a.jobCall(w, r, a.client.Job) }

func (a *app) pauseJob(w http.ResponseWriter, r *http.Request) { a.jobCall(w, r, a.client.Pause) }

func (a *app) resumeJob(w http.ResponseWriter, r *http.Request) { a.jobCall(w, r, a.client.Resume) }

func (a *app) cancelJob(w http.ResponseWriter, r *http.Request) { a.jobCall(w, r, a.client.Cancel) }

func (a *app) jobCall(w http.ResponseWriter, r *http.Request, call func(context.Context, int64) (wasend.Job, error)) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	job, err := call(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, maskIf(r, jobOf(job)))
}

// maskIf masks j when the query says masked=1: its messages' numbers as
// wasend.MaskPhone does, and its error messages left out (they may quote a
// number); the error kinds stay.
func maskIf(r *http.Request, j jobJSON) jobJSON {
	if r.URL.Query().Get("masked") != "1" {
		return j
	}
	j.Error = ""
	msgs := make([]messageJSON, len(j.Messages))
	for i, m := range j.Messages {
		m.To = wasend.MaskPhone(m.To)
		m.Error = ""
		msgs[i] = m
	}
	if j.Messages != nil {
		j.Messages = msgs
	}
	return j
}

// invalidFilter is a bad query parameter of the job listing.
func invalidFilter(field, format string, args ...any) error {
	return &wasend.ValidationError{Index: -1, Field: field,
		Err: fmt.Errorf("%w: "+format, append([]any{wasend.ErrInvalidFilter}, args...)...)}
}

// jobFilter reads the job listing's query: status (repeated or
// comma-separated), kind, context, limit, order (newest or oldest) and
// cursor (the next_cursor of the page before).
func jobFilter(r *http.Request) (wasend.JobFilter, error) {
	q := r.URL.Query()
	var f wasend.JobFilter
	for _, v := range q["status"] {
		for s := range strings.SplitSeq(v, ",") {
			if s != "" {
				f.Statuses = append(f.Statuses, wasend.JobStatus(s))
			}
		}
	}
	f.Kind = wasend.JobKind(q.Get("kind"))
	var err error
	if v := q.Get("context"); v != "" {
		if f.ContextID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return f, invalidFilter("context", "%q is not an id", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil {
			return f, invalidFilter("limit", "%q is not a number", v)
		}
	}
	switch q.Get("order") {
	case "", "oldest":
	case "newest":
		f.Newest = true
	default:
		return f, invalidFilter("order", "%q, want newest or oldest", q.Get("order"))
	}
	if v := q.Get("cursor"); v != "" {
		c, err := parseCursor(v)
		if err != nil || c.newest != f.Newest {
			return f, invalidFilter("cursor", "not a cursor of this order")
		}
		if f.Newest {
			f.BeforeID = c.id
		} else {
			f.AfterID = c.id
		}
	}
	return f, nil
}

// cursor is the position of a job listing: past job id, in one order.
// It travels as opaque base64 text.
type cursor struct {
	newest bool
	id     int64
}

func (c cursor) String() string {
	dir := "a"
	if c.newest {
		dir = "b"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(dir + strconv.FormatInt(c.id, 10)))
}

func parseCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || (b[0] != 'a' && b[0] != 'b') {
		return cursor{}, errors.New("bad cursor")
	}
	id, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || id <= 0 {
		return cursor{}, errors.New("bad cursor")
	}
	return cursor{newest: b[0] == 'b', id: id}, nil
}

func (a *app) listJobs(w http.ResponseWriter, r *http.Request) {
	f, err := jobFilter(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.client.Jobs(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := jobPageJSON{Jobs: make([]jobJSON, len(page.Jobs))}
	for i, j := range page.Jobs {
		out.Jobs[i] = maskIf(r, jobOf(j))
	}
	if n := page.Next; n != nil {
		c := cursor{newest: n.Newest, id: n.AfterID}
		if n.Newest {
			c.id = n.BeforeID
		}
		out.NextCursor = c.String()
	}
	writeJSON(w, http.StatusOK, out)
}

// ----- stats

func (a *app) stats(w http.ResponseWriter, r *http.Request) {
	st, err := a.client.Stats(r.Context())
	// A queue that cannot answer leaves the store's counts, with queue
	// counters of -1: they are still worth showing.
	if err != nil && !(errors.Is(err, wasend.ErrQueue) && st.Jobs != nil) {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statsOf(st))
}
