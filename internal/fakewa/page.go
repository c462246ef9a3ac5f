package fakewa

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	mrand "math/rand/v2"
	"net/http"
	"strings"
)

//go:embed assets/app.js
var appJS string

//go:embed assets/app.css
var appCSS string

// classPoolSize is how many obfuscated class names a server makes.
const classPoolSize = 192

// classPool returns n distinct class names in the style of the real page's
// atomic CSS ("x1n2onr6", "_ak1i"), made from seed.
func classPool(seed int64, n int) []string {
	r := mrand.New(mrand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		var b strings.Builder
		if r.IntN(4) == 0 {
			b.WriteString("_a")
			for range 3 {
				b.WriteByte(alnum[r.IntN(len(alnum))])
			}
		} else {
			b.WriteByte('x')
			b.WriteByte("123456789abcdefghijklmnopqrstuvwxyz"[r.IntN(35)])
			for range 5 + r.IntN(3) {
				b.WriteByte(alnum[r.IntN(len(alnum))])
			}
		}
		if name := b.String(); !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// cls returns one or two obfuscated class names for key, stable for a
// server.
func (s *Server) cls(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	v := h.Sum32()
	a := s.classes[v%uint32(len(s.classes))]
	b := s.classes[(v>>9)%uint32(len(s.classes))]
	if a == b {
		return a
	}
	return a + " " + b
}

// with returns the semantic class sem followed by obfuscated classes.
func (s *Server) with(sem string) string {
	return sem + " " + s.cls(sem)
}

const lockIcon = `<span data-icon="lock-small" aria-hidden="true"><svg viewBox="0 0 10 12" height="12" width="10" preserveAspectRatio="xMidYMid meet"><title>lock-small</title><path fill="currentColor" d="M5 1a2.5 2.5 0 0 0-2.5 2.5V5H2a1 1 0 0 0-1 1v4a1 1 0 0 0 1 1h6a1 1 0 0 0 1-1V6a1 1 0 0 0-1-1h-.5V3.5A2.5 2.5 0 0 0 5 1zm-1.5 4V3.5a1.5 1.5 0 0 1 3 0V5z"/></svg></span>`

const logoIcon = `<span data-icon="intro-md-beta-logo-light" aria-hidden="true"><svg viewBox="0 0 64 64" height="64" width="64" preserveAspectRatio="xMidYMid meet"><title>intro-md-beta-logo-light</title><path fill="currentColor" d="M32 4a28 28 0 0 0-24.2 42L4 60l14.4-3.7A28 28 0 1 0 32 4zm0 5a23 23 0 1 1-12 42.6l-.9-.5-8.5 2.2 2.3-8.3-.6-.9A23 23 0 0 1 32 9zm-9 11.5c-.6 0-1.5.2-2.3 1.1-.8.8-3 2.9-3 7.1s3.1 8.3 3.5 8.8c.4.6 6 9.6 14.9 13 7.4 2.9 8.9 2.3 10.5 2.2 1.6-.2 5.2-2.1 5.9-4.2.7-2 .7-3.8.5-4.2-.2-.3-.8-.6-1.7-1-.8-.4-5.1-2.5-5.9-2.8-.8-.3-1.4-.4-2 .4-.6.9-2.2 2.8-2.7 3.3-.5.6-1 .7-1.8.2-.9-.4-3.7-1.4-7-4.3-2.6-2.3-4.4-5.2-4.9-6-.5-.9 0-1.4.4-1.8l1.3-1.5c.4-.5.6-.9.9-1.4.3-.6.1-1.1 0-1.5l-2.7-6.6c-.7-1.7-1.4-1.5-2-1.5z"/></svg></span>`

// startupHTML is the splash screen, server rendered so that it shows before
// the script runs.
func (s *Server) startupHTML() string {
	return fmt.Sprintf(`<div id="initial_startup" class="%s">`+
		`<div class="%s">%s</div>`+
		`<div class="%s"><progress value="0" max="100" dir="ltr"></progress></div>`+
		`<div class="%s">WhatsApp</div>`+
		`<div class="%s">%s End-to-end encrypted</div>`+
		`</div>`,
		s.cls("initial_startup"), s.with("graphic"), logoIcon, s.with("progress"),
		s.with("main"), s.with("secondary"), lockIcon)
}

// unsupportedHTML is the "WhatsApp works with Google Chrome NN+" page.
func (s *Server) unsupportedHTML() string {
	nn := s.cfg.minChrome
	if nn <= 0 {
		nn = DefaultMinChromeMajor
	}
	return fmt.Sprintf(`<div class="%s"><div class="%s">`+
		`<div class="%s">%s<div class="%s">WhatsApp Web</div></div>`+
		`<div class="%s"><div class="%s">`+
		`<div class="%s">WhatsApp works with Google Chrome %d+</div>`+
		`<div class="%s">To use WhatsApp, update Chrome or use `+
		`<a href="https://www.mozilla.org/firefox/" target="_blank" rel="noopener noreferrer">Mozilla Firefox</a>, `+
		`<a href="https://www.apple.com/safari/" target="_blank" rel="noopener noreferrer">Safari</a>, `+
		`<a href="https://www.microsoft.com/edge" target="_blank" rel="noopener noreferrer">Microsoft Edge</a> or `+
		`<a href="https://www.opera.com/" target="_blank" rel="noopener noreferrer">Opera</a>.</div>`+
		`<a href="https://support.google.com/chrome/answer/95414" target="_blank" rel="noopener noreferrer" class="%s">`+
		`<button type="button" class="%s">Update Google Chrome</button></a>`+
		`</div></div></div></div>`,
		s.with("app-wrapper-web"), s.with("landing-wrapper unsupported-browser"),
		s.with("landing-header"), logoIcon, s.with("landing-headerTitle"),
		s.with("landing-window"), s.with("landing-main"),
		s.with("landing-title"), nn, s.cls("unsupported-text"),
		s.cls("unsupported-link"), s.cls("unsupported-button"))
}

// pageConfig is what the page's script reads from #wa-boot.
type pageConfig struct {
	BootDelay     int64    `json:"bootDelay"`
	LoadingDelay  int64    `json:"loadingDelay"`
	StartingDelay int64    `json:"startingDelay"`
	Markup        string   `json:"markup"`
	MinChrome     int      `json:"minChrome"`
	RejectUA      string   `json:"rejectUA"`
	Unsupported   bool     `json:"unsupported"`
	Classes       []string `json:"classes"`
	ImageLimit    int64    `json:"imageLimit"`
	DocumentLimit int64    `json:"documentLimit"`
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	unsupported := !SupportedUserAgent(r.UserAgent(), s.cfg.minChrome)
	cfg, err := json.Marshal(pageConfig{
		BootDelay:     s.cfg.bootDelay.Milliseconds(),
		LoadingDelay:  s.cfg.loadingDelay.Milliseconds(),
		StartingDelay: s.cfg.startingDelay.Milliseconds(),
		Markup:        s.cfg.markup.String(),
		MinChrome:     s.cfg.minChrome,
		RejectUA:      rejectedUAPattern,
		Unsupported:   unsupported,
		Classes:       s.classes,
		ImageLimit:    s.cfg.imageLimit,
		DocumentLimit: s.cfg.documentLimit,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body := s.startupHTML()
	if unsupported {
		body = s.unsupportedHTML()
	}
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en" dir="ltr" class="`)
	b.WriteString(s.cls("html"))
	b.WriteString(`"><head><meta charset="utf-8"><title>WhatsApp</title>`)
	b.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1">`)
	b.WriteString(`<link rel="icon" href="data:,"><style>`)
	b.WriteString(appCSS)
	b.WriteString(`</style></head><body class="web"><div id="app">`)
	b.WriteString(body)
	b.WriteString(`</div><template id="wa-unsupported">`)
	b.WriteString(s.unsupportedHTML())
	b.WriteString(`</template><script type="application/json" id="wa-boot">`)
	b.Write(cfg) // json.Marshal escapes <, > and &, so it cannot end the script.
	b.WriteString(`</script><script>`)
	b.WriteString(appJS)
	b.WriteString(`</script></body></html>`)

	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(b.String()))
}
