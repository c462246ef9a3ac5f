package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/wasend/wasend"
)

// The dashboard: pages rendered with html/template and static assets (CSS
// and a little JavaScript, no build step), embedded in the binary. The
// page's JavaScript calls the API with the session cookie that GET
// /?token=... sets.

//go:embed dashboard
var dashboardFS embed.FS

var pages = template.Must(template.ParseFS(dashboardFS, "dashboard/*.html"))

// sessionCookie is the dashboard's cookie. Its value is derived from the
// token (an HMAC), so that the cookie is not the bearer token itself.
const sessionCookie = "wasend_session"

// sessionMaxAge is how long the dashboard's cookie lasts.
const sessionMaxAge = 12 * time.Hour

// qrKeepAlive is how often a QR stream with nothing new sends a comment,
// so that proxies keep it open.
const qrKeepAlive = 15 * time.Second

// session is the value of the dashboard's cookie.
func (a *app) session() string {
	m := hmac.New(sha256.New, []byte(a.token))
	m.Write([]byte("wasend dashboard session v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// dashboardRoutes adds the dashboard to mux: GET / (behind the token) and
// GET /assets/ (open: the CSS and the script hold no data).
func (a *app) dashboardRoutes(mux *http.ServeMux) {
	assets, err := fs.Sub(dashboardFS, "dashboard/assets")
	if err != nil {
		panic(err) // the embedded folder is there, or the build failed
	}
	files := http.FileServerFS(assets)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /{$}", a.dashboard)
}

// dashboard serves the page. GET /?token=... checks the token once, sets
// the session cookie (HttpOnly, SameSite=Strict) and redirects to / without
// the query, so that the token stays out of the address bar and the
// history. Without the cookie, it serves a page that asks for the token.
func (a *app) dashboard(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	if r.URL.Query().Has("token") {
		got := r.URL.Query().Get("token")
		if a.token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1 {
			a.page(w, http.StatusUnauthorized, "login", map[string]any{"Error": "That token is not the server's."})
			return
		}
		if a.token != "" {
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: a.session(), Path: "/",
				MaxAge: int(sessionMaxAge / time.Second), HttpOnly: true, Secure: r.TLS != nil,
				SameSite: http.SameSiteStrictMode})
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !a.authorized(r) {
		a.page(w, http.StatusUnauthorized, "login", map[string]any{})
		return
	}
	a.page(w, http.StatusOK, "dashboard", map[string]any{"Fake": a.fake != nil, "AutoScan": a.autoScan && a.fake != nil})
}

func (a *app) page(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		a.log.Warn("rendering a page", "page", name, "err", err)
	}
}

// finalStatus reports whether a context's status ends its QR stream: it is
// logged in (available, busy or restricted) or closed.
func finalStatus(s wasend.ContextStatus) bool {
	return s != "" && s != wasend.ContextDisconnected && s != wasend.ContextError
}

// qrStream pushes a context's QR codes as Server-Sent Events: an event
// "qr" with each new code ({"png": a data: URL, "at": its time}), and
// "status" events ({"status": ...}); the stream ends after a status that
// is not disconnected or error (the context logged in, or closed).
func (a *app) qrStream(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	bc, err := a.client.Context(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, data any) bool {
		b, err := json.Marshal(data)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	q, hasQR, st, changed := a.watch(id)
	keepAlive := time.NewTicker(qrKeepAlive)
	defer keepAlive.Stop()
	var lastQR string
	var lastStatus wasend.ContextStatus
	for {
		if hasQR && q.payload != lastQR {
			lastQR = q.payload
			png := "data:image/png;base64," + base64.StdEncoding.EncodeToString(q.png)
			if !send("qr", map[string]any{"png": png, "at": q.at.UTC()}) {
				return
			}
		}
		// Before the session's first event, the store's status is all
		// there is; a QR code clears the status the events told.
		status := st
		if status == "" && !hasQR {
			status = bc.Status
		}
		if status != "" && status != lastStatus {
			lastStatus = status
			if !send("status", map[string]any{"status": status}) || finalStatus(status) {
				return
			}
		}
		select {
		case <-changed:
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-a.streams.Done():
			return
		}
		q, hasQR, st, changed = a.watch(id)
	}
}
