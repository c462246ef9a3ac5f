package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// envScreenshot names the file that TestDashboard saves a screenshot of the
// dashboard to, with a second context showing its QR code; unset, it takes
// none: WASEND_DASHBOARD_SCREENSHOT=$PWD/docs/dashboard.png.
const envScreenshot = "WASEND_DASHBOARD_SCREENSHOT"

// browserPage drives one tab of headless Chromium.
type browserPage struct {
	t   *testing.T
	ctx context.Context
}

// do runs actions, each step bounded by the tab's context.
func (p browserPage) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	require.NoError(p.t, chromedp.Do(p.ctx, actions...), what)
}

// wait waits until the element sel is visible, or fails after d.
func (p browserPage) wait(what, sel string, d time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))), "%s: %s not visible within %v", what, sel, d)
}

// present waits until the element sel exists, or fails after d.
func (p browserPage) present(what, sel string, d time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(sel))), "%s: no %s within %v", what, sel, d)
}

// js evaluates an expression that gives a string.
func (p browserPage) js(expr string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](expr))
	require.NoError(p.t, err, expr)
	return s
}

// newestJob returns the id of the newest job.
func newestJob(api apiClient) int64 {
	var page jobPageJSON
	api.json("GET", "/v1/jobs?order=newest&limit=1", nil, 200, &page)
	require.NotEmpty(api.t, page.Jobs)
	return page.Jobs[0].ID
}

// TestDashboard drives the dashboard in real headless Chromium, on the
// embedded defaults with pacing off: the sign-in with ?token=, a context
// created with the button, its QR code pushed to the page, its badge
// turning available after the imitation's phone scans it (no reload), a
// send from the form whose row completes and opens on its message, sent
// and masked, and a bulk job paused, resumed and cancelled from its
// buttons.
func TestDashboard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const token = "dash-token-7e1b90c4"
	ts := startServer(t, ctx, token)
	chromium, a, srv, logs, api := ts.chromium, ts.app, ts.srv, ts.logs, ts.api

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromium), chromedp.WindowSize(1400, 1000), chromedp.Flag("disable-dev-shm-usage", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer allocCancel()
	tabCtx, tabCancel := chromedp.NewContext(allocCtx)
	defer tabCancel()
	require.NoError(t, chromedp.Do(tabCtx), "starting Chromium") // no timeout on the first run: it owns the browser
	stepCtx, stepCancel := context.WithTimeout(tabCtx, 2*time.Minute)
	defer stepCancel()
	p := browserPage{t: t, ctx: stepCtx}

	// The sign-in: the token once in the URL, then a cookie and a clean URL.
	p.do("signing in", chromedp.Navigate(srv.URL+"/?token="+token))
	p.wait("the dashboard", "#new-context", 20*time.Second)
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/", loc, "the token left the address bar")
	p.js(`window.__sameLoad = "yes", ""`) // a reload would lose it

	// A webhook endpoint for every event, before anything happens.
	rc := newHookReceiver(t)
	var hook webhookJSON
	api.json("POST", "/v1/webhooks", map[string]any{"url": rc.URL + "/hooks"}, 201, &hook)
	rc.setSecret(hook.Secret)

	// A context from the button; its QR code arrives on the page.
	p.do("creating a context", chromedp.Click(chromedp.CSS("#new-context")))
	p.wait("the QR code on the page", "#contexts article.card img.qr", 60*time.Second)
	cardID := p.js(`document.querySelector("#contexts article.card").id`)
	var id int64
	_, err = fmt.Sscanf(cardID, "ctx-%d", &id)
	require.NoError(t, err, "card id %q", cardID)
	assert.True(t, strings.HasPrefix(p.js(fmt.Sprintf(`document.querySelector("#ctx-%d img.qr").src`, id)), "data:image/png;base64,"),
		"the QR code is a PNG pushed by the stream")
	assert.Equal(t, "disconnected", p.js(fmt.Sprintf(`document.querySelector("#ctx-%d .badge").textContent`, id)))

	// The phone scans it: the badge turns available without a reload.
	const phone = "5491100000002"
	scanned := ""
	eventually(t, 60*time.Second, "the badge available", func() bool {
		if p.js(fmt.Sprintf(`document.querySelector("#ctx-%d .badge").textContent`, id)) == "available" {
			return true
		}
		if q, ok := a.qr(id); ok && q.payload != scanned {
			sctx, scancel := context.WithTimeout(ctx, 15*time.Second)
			defer scancel()
			if a.fake.Scan(sctx, q.payload, phone) == nil {
				scanned = q.payload
			}
		}
		return false
	})
	p.wait("no QR code once logged in", fmt.Sprintf(`#ctx-%d[data-status="available"]`, id), 5*time.Second)
	assert.Equal(t, "false", p.js(fmt.Sprintf(`String(!!document.querySelector("#ctx-%d img.qr"))`, id)))

	// A message from the form: its row completes, and opens on its message.
	const to, text = "+54 9 11 5555-0199", "Dashboard hello 771234"
	p.present("the context in the form", fmt.Sprintf(`#send-context option[value="%d"]`, id), 10*time.Second)
	p.do("filling the form",
		chromedp.SetValue(chromedp.CSS("#send-context"), fmt.Sprint(id)),
		chromedp.SendKeys(chromedp.CSS("#send-to"), to),
		chromedp.SendKeys(chromedp.CSS("#send-text"), text),
		chromedp.Click(chromedp.CSS("#send-submit")))
	p.wait("the send accepted", "#send-result.ok", 20*time.Second)
	single := newestJob(api)
	p.wait("the job completed", fmt.Sprintf(`#job-%d[data-status="completed"]`, single), 60*time.Second)
	p.do("opening the job", chromedp.Click(chromedp.CSS(fmt.Sprintf("#job-%d td.toggle", single))))
	p.wait("its message sent", fmt.Sprintf(`#job-detail-%d tr.message[data-status="sent"]`, single), 20*time.Second)
	shown := p.js(fmt.Sprintf(`document.querySelector("#job-detail-%d td.to").textContent`, single))
	assert.Equal(t, wasend.MaskPhone("+5491155550199"), shown, "the number, masked")
	assert.NotContains(t, shown, "55550199")
	var job jobJSON
	api.json("GET", fmt.Sprintf("/v1/jobs/%d", single), nil, 200, &job)
	require.Len(t, job.Messages, 1)
	assert.Equal(t, text, job.Messages[0].Text)
	assert.NotEmpty(t, job.IdempotencyKey, "the form sends an Idempotency-Key")
	require.Len(t, a.fake.Received(phone, "5491155550199"), 1, "WhatsApp received it once")
	// The webhook receiver got the job's events, signed, in order; and the
	// context's login.
	assert.Equal(t, []string{"job.created", "job.running", "message.sent", "job.completed"},
		topicsOf(rc.jobEvents(t, single, "job.completed")))
	ctxEvents := rc.events(t, func(b hookBody) bool { return b.Data.ContextID == id && b.Data.JobID == 0 })
	assert.Contains(t, topicsOf(ctxEvents), "context.status")
	assert.True(t, slices.ContainsFunc(ctxEvents, func(b hookBody) bool { return b.Data.Status == "available" }),
		"a context.status available webhook: %v", topicsOf(ctxEvents))

	// A bulk job from the form (one number per line), paused, resumed and
	// cancelled from its buttons.
	numbers := []string{"+14155550110", "+14155550111", "+14155550112", "+14155550113", "+14155550114", "+14155550115"}
	p.js(`document.querySelector("#send-text").value = "", ""`)
	p.do("filling the form with a bulk job",
		chromedp.SendKeys(chromedp.CSS("#send-to"), strings.Join(numbers, "\n")),
		chromedp.SendKeys(chromedp.CSS("#send-text"), "Bulk from the dashboard"),
		chromedp.Click(chromedp.CSS("#send-submit")))
	p.wait("the bulk job accepted", "#send-result.ok", 20*time.Second)
	bulk := newestJob(api)
	require.NotEqual(t, single, bulk)
	row := fmt.Sprintf("#job-%d", bulk)
	p.wait("the pause button", row+` button[data-action="pause"]`, 20*time.Second)
	p.do("pausing", chromedp.Click(chromedp.CSS(row+` button[data-action="pause"]`)))
	p.wait("the job paused", row+`[data-status="paused"] button[data-action="resume"]`, 20*time.Second)
	p.do("resuming", chromedp.Click(chromedp.CSS(row+` button[data-action="resume"]`)))
	p.wait("the job resumed", row+` button[data-action="pause"]`, 20*time.Second)
	p.do("cancelling", chromedp.Click(chromedp.CSS(row+` button[data-action="cancel"]`)))
	p.wait("the job cancelled", row+`[data-status="cancelled"]`, 20*time.Second)
	api.json("GET", fmt.Sprintf("/v1/jobs/%d", bulk), nil, 200, &job)
	assert.Equal(t, "cancelled", string(job.Status))
	assert.Len(t, job.Messages, len(numbers))
	// Its events, in order: created, paused, resumed, cancelled (with what
	// it sent in between).
	bulkTopics := topicsOf(rc.jobEvents(t, bulk, "job.cancelled"))
	var lifecycle []string
	for _, tp := range bulkTopics {
		if tp == "job.created" || tp == "job.paused" || tp == "job.resumed" || tp == "job.cancelled" {
			lifecycle = append(lifecycle, tp)
		}
	}
	assert.Equal(t, []string{"job.created", "job.paused", "job.resumed", "job.cancelled"}, lifecycle, "all: %v", bulkTopics)
	for _, r := range rc.requests() {
		for _, secret := range []string{"55550199", "771234", "14155550110", "Bulk from"} {
			assert.NotContains(t, string(r.body), secret, "a webhook holds %q", secret)
		}
	}

	if path := os.Getenv(envScreenshot); path != "" {
		screenshot(t, p, api, path)
	}
	assert.Equal(t, "yes", p.js(`window.__sameLoad || ""`), "the page was never reloaded")

	// The logs name routes: never the token, the query, nor a number or a text.
	out := logs.String()
	assert.Contains(t, out, `route="GET /{$}"`)
	assert.Contains(t, out, `route="GET /v1/contexts/{id}/qr/stream"`)
	for _, secret := range []string{token, "token=", a.session(), "55550199", "771234", "14155550110"} {
		assert.NotContains(t, out, secret, "the logs hold %q", secret)
	}
}

// screenshot adds a second context, waiting for its login, and a few jobs,
// and saves the dashboard's full page as a PNG to path.
func screenshot(t *testing.T, p browserPage, api apiClient, path string) {
	var bc contextJSON
	api.json("POST", "/v1/contexts", nil, 201, &bc)
	p.wait("the second context's QR code", fmt.Sprintf("#ctx-%d img.qr", bc.ID), 60*time.Second)
	var first contextJSON
	var list struct{ Contexts []contextJSON }
	api.json("GET", "/v1/contexts", nil, 200, &list)
	first = list.Contexts[0]
	for i, m := range []struct{ to, text string }{
		{"+44 7700 900123", "Your table for 4 is booked for 8 pm."},
		{"+1 415 555 0142", "Your parcel ships today."},
	} {
		var j jobJSON
		api.json("POST", fmt.Sprintf("/v1/contexts/%d/messages", first.ID), map[string]any{"to": m.to, "text": m.text},
			201, &j, "Idempotency-Key", fmt.Sprintf("shot-%d", i))
		p.wait("the job completed", fmt.Sprintf(`#job-%d[data-status="completed"]`, j.ID), 60*time.Second)
	}
	var paused jobJSON
	api.json("POST", fmt.Sprintf("/v1/contexts/%d/bulk", first.ID), map[string]any{"delay_ms": 60000,
		"messages": []map[string]string{{"to": "+33 6 12 34 56 78", "text": "Sale starts Monday"}, {"to": "+33 6 98 76 54 32", "text": "Sale starts Monday"}}},
		201, &paused)
	api.json("POST", fmt.Sprintf("/v1/jobs/%d/pause", paused.ID), nil, 200, &paused)
	p.wait("the paused job", fmt.Sprintf(`#job-%d[data-status="paused"]`, paused.ID), 20*time.Second)
	p.wait("the first context available again", fmt.Sprintf(`#ctx-%d[data-status="available"]`, first.ID), 30*time.Second)
	shot, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot saved to %s", path)
}

// TestDashboardSignIn checks the sign-in without a browser: ?token= sets an
// HttpOnly, SameSite=Strict cookie and redirects to / without the query;
// the cookie opens the page and the API; a wrong token or cookie does not;
// the access log records no query.
func TestDashboardSignIn(t *testing.T) {
	logs := &syncBuffer{}
	a := newAppState(config{token: "s3cret-token"}, slog.New(slog.NewTextHandler(logs, nil)))
	h := a.handler()
	get := func(target string, cookie *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	rec := get("/?token=wrong", nil)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Empty(t, rec.Result().Cookies(), "no cookie for a wrong token")
	assert.Contains(t, rec.Body.String(), "not the server")

	rec = get("/?token=s3cret-token", nil)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	assert.Equal(t, "/", rec.Header().Get("Location"), "redirected without the query")
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, sessionCookie, c.Name)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.NotContains(t, c.Value, "s3cret-token", "the cookie is not the token")

	rec = get("/", c)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "Browser contexts")
	assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
	rec = get("/", nil)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Body.String(), `name="token"`, "the sign-in form")

	// The cookie passes the API's auth (this filter fails before the
	// Client is called); a forged one does not.
	assert.Equal(t, http.StatusBadRequest, get("/v1/jobs?order=sideways", c).Code)
	assert.Equal(t, http.StatusUnauthorized, get("/v1/jobs?order=sideways", &http.Cookie{Name: sessionCookie, Value: "forged"}).Code)
	assert.Equal(t, http.StatusUnauthorized, get("/v1/jobs?order=sideways", nil).Code)

	rec = get("/assets/app.js", nil)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Header().Get("Content-Type"), "javascript")
	assert.Equal(t, http.StatusOK, get("/assets/style.css", nil).Code)
	assert.Equal(t, http.StatusNotFound, get("/nowhere", c).Code)

	out := logs.String()
	assert.NotContains(t, out, "s3cret-token")
	assert.NotContains(t, out, "wrong")
	assert.NotContains(t, out, "sideways")
	assert.Contains(t, out, `route="GET /{$}"`)
}

func TestMaskIf(t *testing.T) {
	j := jobJSON{ID: 1, Error: "sending to +5491155550101 failed", Messages: []messageJSON{
		{To: "+5491155550101", Text: "hi", Error: "+5491155550101 is not on WhatsApp", ErrorKind: "not_on_whatsapp"}}}
	plain := maskIf(httptest.NewRequest("GET", "/v1/jobs/1", nil), j)
	assert.Equal(t, j, plain, "unmasked without masked=1")
	got := maskIf(httptest.NewRequest("GET", "/v1/jobs/1?masked=1", nil), j)
	assert.Equal(t, wasend.MaskPhone("+5491155550101"), got.Messages[0].To)
	assert.Empty(t, got.Error)
	assert.Empty(t, got.Messages[0].Error)
	assert.Equal(t, wasend.ErrorKind("not_on_whatsapp"), got.Messages[0].ErrorKind)
	assert.Equal(t, "hi", got.Messages[0].Text)
	assert.Equal(t, "+5491155550101", j.Messages[0].To, "the job given is left as it was")
}
